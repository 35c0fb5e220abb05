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

The linspaces are frozen parameters in MMPose (trained checkpoints carry them); hfpose computes the same grid on the
fly in `hfpose.models.integral_utils.soft_argmax`, so a checkpoint whose linspaces hold anything else is refused.
`convert_integral_state_dict` serves the three methods; DSNT and Debias-IPR call it from their own
`convert_mmpose_<method>.py`.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from transformers import ResNetConfig

from ..backbones import resnet_backbone_config
from ..conversion_utils import (
    check_state_dict_matches,
    convert_resnet_backbone_keys,
    expected_state_dict_shapes,
    extract_state_dict,
    rename_v0x_keys,
)
from .configuration_ipr import IPRConfig
from .modeling_ipr import IPRForPoseEstimation

__all__ = [
    "build_integral_config_of",
    "build_ipr_config",
    "check_linspaces",
    "convert_integral_state_dict",
    "convert_mmpose_ipr",
]

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


def convert_integral_state_dict(
    checkpoint: Mapping, config, model_class, strict: bool = True
) -> dict[str, torch.Tensor]:
    """Convert an MMPose IPR / DSNT / Debias-IPR checkpoint into the state dict of `model_class(config)`.

    Args:
        checkpoint: MMPose state dict (`backbone.*`, `head.*`; a `{'state_dict': ...}` checkpoint, float16 values
            and the 0.x `keypoint_head` spelling are accepted too).
        config: the target model's config (`model_class.config_class`, ResNet backbone).
        model_class: `IPRForPoseEstimation`, `DSNTForPoseEstimation` or `DebiasIPRForPoseEstimation`.
        strict: refuse unknown head keys and check keys / shapes against the model (default); False renames what it
            can and passes other keys unchanged (partial initialisation, e.g. from a heatmap checkpoint).
    Returns:
        `dict[str, torch.Tensor]` (float32) that `model_class(config).load_state_dict(..., strict=True)` accepts.
    Raises:
        TypeError: `config` is not a `model_class.config_class`.
        ValueError: the backbone is not a ResNet; a linspace does not hold the j / W grid; or (listing every offending
            key) unknown head keys, missing / unexpected keys and shape mismatches against the model.
    """
    if not isinstance(config, model_class.config_class):
        raise TypeError(f"config must be one of ['{model_class.config_class.__name__}'], got {type(config).__name__}")
    if not isinstance(config.backbone_config, ResNetConfig):
        raise ValueError(
            "the integral checkpoints use a ResNet backbone; got backbone_config "
            f"{type(config.backbone_config).__name__}"
        )
    tensors = rename_v0x_keys(extract_state_dict(checkpoint))
    check_linspaces(tensors, config.heatmap_size)

    converted, unknown_head_keys = {}, []
    for key, value in convert_resnet_backbone_keys(tensors, strict=strict).items():
        if key in _LINSPACE_KEYS:
            continue
        if key.startswith(_MMPOSE_HEAD_PREFIX):
            key = "head." + key[len(_MMPOSE_HEAD_PREFIX) :]
        elif key.startswith("head.") and strict:
            unknown_head_keys.append(key)
            continue
        converted[key] = value
    if unknown_head_keys:
        raise ValueError(
            f"{len(unknown_head_keys)} head keys are not MMPose DSNTHead / IntegralRegressionHead keys "
            f"(expected {_MMPOSE_HEAD_PREFIX}deconv_layers.* / final_layer.* and {list(_LINSPACE_KEYS)}): "
            f"{unknown_head_keys}"
        )
    if strict:
        check_state_dict_matches(converted, expected_state_dict_shapes(model_class, config), model_class.__name__)
    return converted


def convert_mmpose_ipr(checkpoint: Mapping, config: IPRConfig, strict: bool = True) -> dict[str, torch.Tensor]:
    """MMPose `ipr_res50_8xb64-210e_coco-256x256` checkpoint → `IPRForPoseEstimation` state dict."""
    return convert_integral_state_dict(checkpoint, config, IPRForPoseEstimation, strict)


def build_integral_config_of(config_class, backbone: str, dataset: str):
    """`config_class` (IPR / DSNT / Debias-IPR) with MMPose's ResNet `backbone` ("resnet50/101/152").

    Raises:
        ValueError: for a backbone that is not a ResNet.
    """
    if not backbone.startswith("resnet") or not backbone[len("resnet") :].isdigit():
        raise ValueError(f"integral methods use a ResNet backbone (resnet50/101/152), got {backbone!r}")
    return config_class(dataset=dataset, backbone_config=resnet_backbone_config(int(backbone[len("resnet") :])))


def build_ipr_config(backbone: str, dataset: str) -> IPRConfig:
    """`IPRConfig` of MMPose's `ipr_{backbone}_8xb64-210e_{dataset}-256x256`."""
    return build_integral_config_of(IPRConfig, backbone, dataset)
