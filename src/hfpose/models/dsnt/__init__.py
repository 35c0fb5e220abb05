"""DSNT: soft-argmax regression with a Jensen-Shannon heatmap loss (`hfpose_dsnt`), MMPose's `ipr_res50_dsnt-…`."""

from .configuration_dsnt import DSNTConfig
from .modeling_dsnt import DSNTForPoseEstimation, DSNTHead, DSNTPoseEstimatorOutput, DSNTPreTrainedModel

__all__ = ["DSNTConfig", "DSNTForPoseEstimation", "DSNTHead", "DSNTPoseEstimatorOutput", "DSNTPreTrainedModel"]
