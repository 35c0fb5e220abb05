# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""HRNet backbone shared by the bottom-up models (HRNet-AE, HigherHRNet-AE)."""

from .configuration_hrnet import HRNET_VARIANTS, HRNetConfig
from .modeling_hrnet import HRNetBackbone, HRNetBasicBlock, HRNetBottleneck, HRNetModule, HRNetPreTrainedModel

__all__ = [
    "HRNET_VARIANTS",
    "HRNetConfig",
    "HRNetBackbone",
    "HRNetBasicBlock",
    "HRNetBottleneck",
    "HRNetModule",
    "HRNetPreTrainedModel",
]
