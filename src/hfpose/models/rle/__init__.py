"""RLE top-down regression with residual log-likelihood estimation (`hfpose_rle`)."""

from .configuration_rle import RLEConfig
from .modeling_rle import (
    RLEFlow,
    RLEForPoseEstimation,
    RLEHead,
    RLEPoseEstimatorOutput,
    RLEPreTrainedModel,
    rle_coupling_masks,
    rle_loss,
)

__all__ = [
    "RLEConfig",
    "RLEFlow",
    "RLEForPoseEstimation",
    "RLEHead",
    "RLEPoseEstimatorOutput",
    "RLEPreTrainedModel",
    "rle_coupling_masks",
    "rle_loss",
]
