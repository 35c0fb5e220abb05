"""Hub utilities: MMPose checkpoint conversion, model cards, push to the Hub, remote-code files."""

from .convert_mmpose import (
    build_bottomup_config,
    build_regression_config,
    convert_bottomup,
    convert_mmpose_checkpoint,
    convert_mmpose_state_dict,
    convert_resnet_backbone_keys,
)
from .model_card import make_model_card
from .push import push_to_hub
from .remote_code import write_remote_code

__all__ = [
    "build_bottomup_config",
    "build_regression_config",
    "convert_bottomup",
    "convert_mmpose_checkpoint",
    "convert_mmpose_state_dict",
    "convert_resnet_backbone_keys",
    "make_model_card",
    "push_to_hub",
    "write_remote_code",
]
