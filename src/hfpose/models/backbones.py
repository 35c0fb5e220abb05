# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Backbones shared by the top-down regression models.

Every top-down config carries a `backbone_config` (a `transformers` backbone config, i.e. one with
`BackboneConfigMixin` and `out_indices`/`out_features`). `build_backbone(config)` turns it into a randomly initialised
backbone module; the parent model's `from_pretrained` (or the MMPose converter) then fills in the weights.

ResNet variants are data (timm style): `RESNET_VARIANTS[depth]` holds the stage depths and widths of the
torchvision / MMPose ResNet-`depth` (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, Table 1).
transformers' `ResNetBackbone` with `downsample_in_bottleneck=False` puts the stride on the 3x3 convolution, which is
MMPose's default `style='pytorch'`, so the MMPose weights map onto it one to one
(see `hfpose.hub.convert_mmpose.convert_resnet_backbone_keys`).
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from transformers import AutoBackbone, PreTrainedConfig, ResNetBackbone, ResNetConfig

__all__ = [
    "RESNET_VARIANTS",
    "resnet_backbone_config",
    "build_backbone",
    "backbone_out_channels",
    "last_feature_map",
]

# Stage depths and output widths of the bottleneck ResNets (He et al. 2016, Table 1; MMPose `ResNet.arch_settings`).
RESNET_VARIANTS: dict[int, dict] = {
    50: {"depths": [3, 4, 6, 3], "hidden_sizes": [256, 512, 1024, 2048], "layer_type": "bottleneck"},
    101: {"depths": [3, 4, 23, 3], "hidden_sizes": [256, 512, 1024, 2048], "layer_type": "bottleneck"},
    152: {"depths": [3, 8, 36, 3], "hidden_sizes": [256, 512, 1024, 2048], "layer_type": "bottleneck"},
}


def resnet_backbone_config(depth: int = 50, **overrides) -> ResNetConfig:
    """`ResNetConfig` of the MMPose ResNet-`depth` backbone, returning only the last stage (`out_features=["stage4"]`).

    Args:
        depth: 50, 101 or 152.
        **overrides: any other `ResNetConfig` field (e.g. `depths=[1, 1, 1, 1]` for tests).

    Raises:
        ValueError: if `depth` is not in `RESNET_VARIANTS`.
    """
    if depth not in RESNET_VARIANTS:
        raise ValueError(f"depth={depth!r} is not a known ResNet variant; expected one of {sorted(RESNET_VARIANTS)}")
    kwargs = {
        **copy.deepcopy(RESNET_VARIANTS[depth]),
        "embedding_size": 64,
        "hidden_act": "relu",
        "downsample_in_first_stage": False,
        "downsample_in_bottleneck": False,
        "out_features": ["stage4"],
    }
    kwargs.update(overrides)
    if "out_indices" in overrides and "out_features" not in overrides:
        kwargs.pop("out_features")
    return ResNetConfig(**kwargs)


def _check_backbone_config(backbone_config) -> PreTrainedConfig:
    if not isinstance(backbone_config, PreTrainedConfig):
        raise TypeError(
            f"config.backbone_config must be a transformers PreTrainedConfig, got {type(backbone_config).__name__}"
        )
    if not hasattr(backbone_config, "out_features") or not hasattr(backbone_config, "stage_names"):
        raise TypeError(
            f"config.backbone_config ({type(backbone_config).__name__}) is not a backbone config: it has no "
            "`out_features`/`stage_names` (use a config with transformers' BackboneConfigMixin)"
        )
    return backbone_config


def build_backbone(config) -> nn.Module:
    """Build the (randomly initialised) backbone described by `config.backbone_config`.

    ResNet configs give transformers' `ResNetBackbone` (the concrete class, so nothing reaches for the Hub); any other
    config registered with `AutoBackbone` (ConvNeXt, Swin, hfpose's MobileNetV2, ...) gives
    `AutoBackbone.from_config(config.backbone_config)`. The top-down models use the *last* entry of the backbone's
    `feature_maps` (see `last_feature_map`).

    Raises:
        TypeError: if `config.backbone_config` is missing or is not a backbone config.
    """
    backbone_config = _check_backbone_config(getattr(config, "backbone_config", None))
    from .gradient_checkpointing import make_backbone_checkpointable

    if isinstance(backbone_config, ResNetConfig):
        return make_backbone_checkpointable(ResNetBackbone(backbone_config))  # checkpointable stages
    return AutoBackbone.from_config(backbone_config)


def backbone_out_channels(backbone: nn.Module) -> int:
    """Number of channels of the last feature map the backbone returns (`backbone.channels[-1]`)."""
    return int(backbone.channels[-1])


def last_feature_map(backbone: nn.Module, pixel_values: torch.Tensor, output_hidden_states: bool = False):
    """Run the backbone and return `(feature_map, hidden_states)`.

    Args:
        pixel_values: `(batch_size, 3, height, width)`.
    Returns:
        feature_map `(batch_size, C, height / stride, width / stride)` (the last of the backbone's `feature_maps`),
        and the backbone's `hidden_states` tuple (or `None` unless `output_hidden_states`).
    """
    outputs = backbone(pixel_values, output_hidden_states=output_hidden_states, return_dict=True)
    return outputs.feature_maps[-1], (outputs.hidden_states if output_hidden_states else None)
