# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""MMPose integral-regression checkpoints (IPR, DSNT, Debias-IPR) -> hfpose state dicts.

MMPose 1.x builds all three released configs (`ipr_res50_8xb64-210e_coco-256x256`, `ipr_res50_dsnt-…`,
`ipr_res50_debias-…`) with one head class, `DSNTHead`, so the three checkpoints have the same keys
(see the golden `manifests/ipr_*.json`):

| MMPose 1.x key | hfpose key |
| --- | --- |
| `backbone.*` (ResNet) | `backbone.*` (transformers `ResNetBackbone`, via `convert_resnet_backbone_keys`) |
| `head.simplebaseline_head.deconv_layers.{0,3,6}.weight` (ConvTranspose2d) | `head.deconv_layers.{0,3,6}.weight` |
| `head.simplebaseline_head.deconv_layers.{1,4,7}.*` (BatchNorm2d) | `head.deconv_layers.{1,4,7}.*` |
| `head.simplebaseline_head.final_layer.{weight,bias}` (1x1 conv) | `head.final_layer.{weight,bias}` |
| `head.linspace_x` (1, 1, 1, W), `head.linspace_y` (1, 1, H, 1) = j / W, i / H | dropped after checking the values |

The linspaces are frozen parameters in MMPose (quirk 5 of the golden README); hfpose computes the same grid on the fly
in `hfpose.models.integral_utils.soft_argmax`, so a checkpoint whose linspaces hold anything else is refused.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from transformers import ResNetConfig

from ..models.debias_ipr import DebiasIPRConfig, DebiasIPRForPoseEstimation
from ..models.dsnt import DSNTConfig, DSNTForPoseEstimation
from ..models.ipr import IPRConfig, IPRForPoseEstimation
from .convert_mmpose import (
    check_state_dict_matches,
    convert_resnet_backbone_keys,
    extract_state_dict,
    rename_v0x_keys,
)

__all__ = ["INTEGRAL_MODEL_CLASSES", "convert_integral_head", "check_linspaces"]

INTEGRAL_MODEL_CLASSES = {
    IPRConfig: IPRForPoseEstimation,
    DSNTConfig: DSNTForPoseEstimation,
    DebiasIPRConfig: DebiasIPRForPoseEstimation,
}
_MMPOSE_HEAD_PREFIX = "head.simplebaseline_head."
_LINSPACE_KEYS = ("head.linspace_x", "head.linspace_y")


def check_linspaces(state_dict: Mapping[str, torch.Tensor], heatmap_size: list[int]) -> None:
    """Check MMPose's `head.linspace_x` `(1, 1, 1, W)` = j / W and `head.linspace_y` `(1, 1, H, 1)` = i / H.

    Args:
        state_dict: MMPose 1.x-spelled state dict (keys absent are not checked).
        heatmap_size: `[W, H]` of the model's heatmaps (`config.heatmap_size`).
    Raises:
        ValueError: naming the key, if a linspace has another shape or its values differ from the grid by > 1e-6.
    """
    width, height = heatmap_size
    expected = {
        "head.linspace_x": (torch.arange(width, dtype=torch.float64) / width).reshape(1, 1, 1, width),
        "head.linspace_y": (torch.arange(height, dtype=torch.float64) / height).reshape(1, 1, height, 1),
    }
    for key, grid in expected.items():
        if key not in state_dict:
            continue
        found = state_dict[key]
        if tuple(found.shape) != tuple(grid.shape):
            raise ValueError(
                f"{key} has shape {tuple(found.shape)}, expected {tuple(grid.shape)} for heatmap {heatmap_size}"
            )
        error = (found.double() - grid).abs().max().item()
        if not error <= 1e-6:
            raise ValueError(
                f"{key} must hold the soft-argmax grid j / {grid.numel()} that hfpose computes on the fly; "
                f"max |difference| {error:.3g}"
            )


def convert_integral_head(state_dict_v1: Mapping, config) -> dict[str, torch.Tensor]:
    """Convert an MMPose IPR / DSNT / Debias-IPR checkpoint into the state dict of the hfpose model of `config`.

    Args:
        state_dict_v1: MMPose state dict (`backbone.*`, `head.*`; a `{'state_dict': ...}` checkpoint, float16 values
            and the 0.x `keypoint_head` spelling are accepted too).
        config: `IPRConfig`, `DSNTConfig` or `DebiasIPRConfig` describing the target model (ResNet backbone).
    Returns:
        `dict[str, torch.Tensor]` (float32) that `<Model>(config).load_state_dict(..., strict=True)` accepts.
    Raises:
        TypeError: `config` is not one of the three integral configs.
        ValueError: the backbone is not a ResNet; a linspace does not hold the j / W grid; or (listing every offending
            key) unknown head keys, missing / unexpected keys and shape mismatches against the model.
    """
    model_class = INTEGRAL_MODEL_CLASSES.get(type(config))
    if model_class is None:
        names = [config_class.__name__ for config_class in INTEGRAL_MODEL_CLASSES]
        raise TypeError(f"config must be one of {names}, got {type(config).__name__}")
    if not isinstance(config.backbone_config, ResNetConfig):
        raise ValueError(
            "the integral checkpoints use a ResNet backbone; got backbone_config "
            f"{type(config.backbone_config).__name__}"
        )
    tensors = rename_v0x_keys(extract_state_dict(state_dict_v1))
    check_linspaces(tensors, config.heatmap_size)

    converted, unknown_head_keys = {}, []
    for key, value in convert_resnet_backbone_keys(tensors).items():
        if key in _LINSPACE_KEYS:
            continue
        if key.startswith("head."):
            if not key.startswith(_MMPOSE_HEAD_PREFIX):
                unknown_head_keys.append(key)
                continue
            key = "head." + key[len(_MMPOSE_HEAD_PREFIX) :]
        converted[key] = value
    if unknown_head_keys:
        raise ValueError(
            f"{len(unknown_head_keys)} head keys are not MMPose DSNTHead / IntegralRegressionHead keys "
            f"(expected {_MMPOSE_HEAD_PREFIX}deconv_layers.* / final_layer.* and {list(_LINSPACE_KEYS)}): "
            f"{unknown_head_keys}"
        )

    with torch.device("meta"):
        expected = {key: tuple(value.shape) for key, value in model_class(config).state_dict().items()}
    check_state_dict_matches(converted, expected, f"{model_class.__name__}")
    return converted
