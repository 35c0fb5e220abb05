# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Convert MMPose bottom-up checkpoints (HRNet-AE, HigherHRNet-AE) into hfpose state dicts.

Key spellings (golden `bottomup029/manifests/*.json`, `manifests/associative_embedding_*.json`,
`manifests/ae_hrnet-w32_8xb24-300e_coco-512x512.json`):
    * MMPose 0.x (every released bottom-up checkpoint): `backbone.*` (HRNet), `keypoint_head.final_layer.*`
      (`AESimpleHead`) or `keypoint_head.final_layers.{0,1}.*` + `keypoint_head.deconv_layers.0.*`
      (`AEHigherResolutionHead`);
    * MMPose 1.x (`AssociativeEmbeddingHead`, HRNet-AE only): `head.final_layer.*`.
hfpose keeps MMPose's module names (`backbone.*` unchanged; the head's modules sit at the top level of the model),
so conversion strips the head prefix, casts float tensors to float32 and checks keys and shapes.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from ..models.associative_embedding import AssociativeEmbeddingConfig, AssociativeEmbeddingForPoseEstimation
from ..models.higherhrnet import HigherHRNetConfig, HigherHRNetForPoseEstimation
from .convert_mmpose import check_state_dict_matches, extract_state_dict

__all__ = ["convert_bottomup", "build_bottomup_config", "BOTTOMUP_CHECKPOINTS"]

_HEAD_PREFIXES = ("keypoint_head.", "head.")

# MMPose config name → (hfpose method, HRNet variant); the four UDP rows and the v1 AE config.
BOTTOMUP_CHECKPOINTS: dict[str, tuple[str, str]] = {
    "hrnet_w32_coco_512x512_udp": ("ae_hrnet", "w32"),
    "hrnet_w48_coco_512x512_udp": ("ae_hrnet", "w48"),
    "higherhrnet_w32_coco_512x512_udp": ("ae_higherhrnet", "w32"),
    "higherhrnet_w48_coco_512x512_udp": ("ae_higherhrnet", "w48"),
    "ae_hrnet-w32_8xb24-300e_coco-512x512": ("ae_hrnet", "w32"),
}


def build_bottomup_config(method: str, variant: str = "w32", **kwargs):
    """Config of a bottom-up model: `method` "ae_hrnet" → `AssociativeEmbeddingConfig`, "ae_higherhrnet" →
    `HigherHRNetConfig`, with the HRNet `variant` ("w32" / "w48"); `kwargs` override config fields.

    Raises:
        ValueError: unknown `method` or `variant`.
    """
    if method == "ae_hrnet":
        return AssociativeEmbeddingConfig.from_variant(variant, **kwargs)
    if method == "ae_higherhrnet":
        return HigherHRNetConfig.from_variant(variant, **kwargs)
    raise ValueError(f"method must be 'ae_hrnet' or 'ae_higherhrnet', got {method!r}")


def _model_class(config):
    if isinstance(config, HigherHRNetConfig):
        return HigherHRNetForPoseEstimation
    if isinstance(config, AssociativeEmbeddingConfig):
        return AssociativeEmbeddingForPoseEstimation
    raise TypeError(
        f"config must be an AssociativeEmbeddingConfig or HigherHRNetConfig, got {type(config).__name__}"
    )


def convert_bottomup(state_dict: Mapping, config, strict: bool = True) -> dict[str, torch.Tensor]:
    """Convert an MMPose HRNet-AE / HigherHRNet-AE checkpoint into the state dict of the hfpose model of `config`.

    Args:
        state_dict: `{'meta', 'state_dict'}` or a bare state dict, 0.x (`keypoint_head.*`) or 1.x (`head.*`)
            spelling; float tensors (float16 in the golden fixtures) are cast to float32, `num_batches_tracked`
            stays int64, MMPose's `_metadata` is dropped.
        config (`AssociativeEmbeddingConfig` or `HigherHRNetConfig`): the target model.
        strict (`bool`): check that keys and shapes equal the model's (default); False only renames.

    Returns:
        `dict[str, torch.Tensor]` loadable with `model.load_state_dict(..., strict=True)`.

    Raises:
        TypeError: `config` is not a bottom-up config, or `state_dict` is not a mapping of tensors.
        ValueError: (strict) listing every missing key, unexpected key and shape mismatch, e.g. a HigherHRNet
            checkpoint given with an HRNet-AE config or a w48 checkpoint with a w32 config.
    """
    model_class = _model_class(config)
    tensors = extract_state_dict(state_dict)
    converted = {}
    for key, value in tensors.items():
        for prefix in _HEAD_PREFIXES:
            if key.startswith(prefix):
                key = key[len(prefix) :]
                break
        converted[key] = value
    if strict:
        with torch.device("meta"):
            model = model_class(config)
        expected = {key: tuple(value.shape) for key, value in model.state_dict().items()}
        what = f"{model_class.__name__} (HRNet widths {config.backbone_config.hidden_sizes})"
        check_state_dict_matches(converted, expected, what)
    return converted
