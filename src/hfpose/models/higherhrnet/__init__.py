# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""HigherHRNet with associative embedding (HigherHRNet-AE)."""

from .configuration_higherhrnet import HigherHRNetConfig
from .modeling_higherhrnet import (
    HigherHRNetForPoseEstimation,
    HigherHRNetPoseEstimatorOutput,
    HigherHRNetPreTrainedModel,
)

__all__ = [
    "HigherHRNetConfig",
    "HigherHRNetForPoseEstimation",
    "HigherHRNetPoseEstimatorOutput",
    "HigherHRNetPreTrainedModel",
]
