# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""MMPose `RegressionHead` checkpoints (`td-reg_{backbone}_8xb64-210e_{dataset}-…`) → hfpose DeepPose state dicts.

hfpose layout of the regression models: transformers `ResNetBackbone` (or hfpose's MobileNetV2) under `backbone.`,
`head.fc.*`; MMPose's keys are `backbone.*` (its own ResNet / MobileNetV2 names) and `head.fc.*` (`keypoint_head.fc.*`
in 0.x). `convert_regression_state_dict` is shared with RLE (`models/rle/convert_mmpose_rle.py`), whose head adds the
flow nets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch

from ..backbones import resnet_backbone_config
from ..conversion_utils import (
    check_state_dict_matches,
    convert_backbone_keys,
    expected_state_dict_shapes,
    extract_state_dict,
    rename_v0x_keys,
)
from .configuration_deeppose import DeepPoseConfig
from .modeling_deeppose import DeepPoseForPoseEstimation

__all__ = [
    "REGRESSION_BACKBONES",
    "build_regression_config_of",
    "convert_mmpose_deeppose",
    "convert_regression_state_dict",
    "build_deeppose_config",
]

REGRESSION_BACKBONES = ("resnet50", "resnet101", "resnet152", "mobilenetv2")
_DATASET_INPUT_SIZES = {"coco": [192, 256], "mpii": [256, 256]}


def convert_regression_state_dict(
    checkpoint: Mapping,
    config,
    model_class,
    strict: bool = True,
    head_prefixes: Mapping[str, str] | None = None,
    check_constants: Callable[[dict[str, torch.Tensor]], None] | None = None,
) -> dict[str, torch.Tensor]:
    """Convert an MMPose top-down regression checkpoint into the state dict of `model_class(config)`.

    Args:
        checkpoint: `{'meta', 'state_dict'}` as saved by MMPose, or a bare state dict (either key spelling; float16
            values are cast to float32; `_metadata` is dropped).
        config: the target model's config (an instance of `model_class.config_class`).
        model_class: the hfpose model class.
        strict: check keys and shapes against the model (default); False renames only (partial initialisation).
        head_prefixes: `{MMPose 1.x prefix: hfpose prefix}` renamings of head keys (RLE's flow nets).
        check_constants: called on the 1.x-spelled tensors before renaming; checks (and drops) MMPose buffers that
            hfpose computes instead of storing.
    Returns:
        hfpose state dict, loadable with `load_state_dict(strict=True)`.
    Raises:
        TypeError: `config` of the wrong class.
        ValueError: unsupported backbone, or (listing every offending key, with its MMPose name) missing / unexpected
            keys and shape mismatches.
    """
    config_class = model_class.config_class
    if not isinstance(config, config_class):
        raise TypeError(f"{model_class.__name__} needs a {config_class.__name__}, got {type(config).__name__}")
    tensors = extract_state_dict(checkpoint)
    original_keys = list(tensors)
    tensors = rename_v0x_keys(tensors)
    if check_constants is not None:
        check_constants(tensors)
    # The renaming functions do not look at values: running them on {key: key} tells where each output key came from.
    origin_of_v1 = dict(zip(rename_v0x_keys(dict.fromkeys(original_keys)), original_keys))
    backbone_origins = convert_backbone_keys({key: key for key in tensors}, config.backbone_config, strict)
    converted, origins = {}, {}
    for key, value in convert_backbone_keys(tensors, config.backbone_config, strict).items():
        origin = origin_of_v1.get(backbone_origins[key], backbone_origins[key])
        for prefix, new_prefix in (head_prefixes or {}).items():
            if key.startswith(prefix):
                key = new_prefix + key[len(prefix) :]
                break
        converted[key] = value
        origins[key] = origin
    if strict:
        what = f"{model_class.__name__}({config.model_type})"
        check_state_dict_matches(converted, expected_state_dict_shapes(model_class, config), what, origins)
    return converted


def convert_mmpose_deeppose(
    checkpoint: Mapping, config: DeepPoseConfig, strict: bool = True
) -> dict[str, torch.Tensor]:
    """MMPose `RegressionHead` checkpoint → `DeepPoseForPoseEstimation` state dict (see
    `convert_regression_state_dict`)."""
    return convert_regression_state_dict(checkpoint, config, DeepPoseForPoseEstimation, strict)


def build_regression_config_of(config_class, backbone: str, dataset: str, input_size: list[int] | None = None):
    """`config_class` for MMPose's `td-reg_{backbone}[_rle]-8xb64-210e_{dataset}-…` models.

    Args:
        backbone: "resnet50", "resnet101", "resnet152" or "mobilenetv2".
        dataset: "coco" (input 192x256 w x h) or "mpii" (256x256); `input_size` overrides.
    Raises:
        ValueError: naming the unknown backbone or dataset.
    """
    if backbone not in REGRESSION_BACKBONES:
        raise ValueError(f"backbone must be one of {list(REGRESSION_BACKBONES)}, got {backbone!r}")
    if dataset not in _DATASET_INPUT_SIZES:
        raise ValueError(f"dataset must be one of {list(_DATASET_INPUT_SIZES)}, got {dataset!r}")
    if backbone == "mobilenetv2":
        from ..mobilenet_v2 import PoseMobileNetV2Config

        backbone_config = PoseMobileNetV2Config()
    else:
        backbone_config = resnet_backbone_config(int(backbone[len("resnet") :]))
    return config_class(
        backbone_config=backbone_config, dataset=dataset, input_size=list(input_size or _DATASET_INPUT_SIZES[dataset])
    )


def build_deeppose_config(backbone: str, dataset: str, input_size: list[int] | None = None) -> DeepPoseConfig:
    """`DeepPoseConfig` of MMPose's `td-reg_{backbone}_8xb64-210e_{dataset}-…` (see `build_regression_config_of`)."""
    return build_regression_config_of(DeepPoseConfig, backbone, dataset, input_size)
