"""DeepPose top-down coordinate regression (`hfpose_deeppose`)."""

from .configuration_deeppose import DeepPoseConfig, init_topdown_keypoint_metadata
from .modeling_deeppose import (
    DeepPoseForPoseEstimation,
    DeepPoseHead,
    DeepPosePoseEstimatorOutput,
    DeepPosePreTrainedModel,
    smooth_l1_keypoint_loss,
)

__all__ = [
    "DeepPoseConfig",
    "DeepPoseForPoseEstimation",
    "DeepPoseHead",
    "DeepPosePoseEstimatorOutput",
    "DeepPosePreTrainedModel",
    "init_topdown_keypoint_metadata",
    "smooth_l1_keypoint_loss",
]
