"""IPR: integral pose regression (`hfpose_ipr`), MMPose's `ipr_res50_8xb64-210e_coco-256x256`."""

from .configuration_ipr import IPRConfig
from .modeling_ipr import IPRForPoseEstimation, IPRHead, IPRPoseEstimatorOutput, IPRPreTrainedModel

__all__ = ["IPRConfig", "IPRForPoseEstimation", "IPRHead", "IPRPoseEstimatorOutput", "IPRPreTrainedModel"]
