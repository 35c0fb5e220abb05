"""Debias-IPR: integral regression with the debiased expectation (`hfpose_debias_ipr`), MMPose `ipr_res50_debias`."""

from .configuration_debias_ipr import DebiasIPRConfig
from .modeling_debias_ipr import (
    DebiasIPRForPoseEstimation,
    DebiasIPRHead,
    DebiasIPRPoseEstimatorOutput,
    DebiasIPRPreTrainedModel,
)

__all__ = [
    "DebiasIPRConfig",
    "DebiasIPRForPoseEstimation",
    "DebiasIPRHead",
    "DebiasIPRPoseEstimatorOutput",
    "DebiasIPRPreTrainedModel",
]
