"""Hub utilities: MMPose checkpoint conversion (model cards and push live in sibling modules)."""

from .convert_mmpose import (
    build_regression_config,
    convert_mmpose_checkpoint,
    convert_mmpose_state_dict,
    convert_resnet_backbone_keys,
)

__all__ = [
    "build_regression_config",
    "convert_mmpose_checkpoint",
    "convert_mmpose_state_dict",
    "convert_resnet_backbone_keys",
]
