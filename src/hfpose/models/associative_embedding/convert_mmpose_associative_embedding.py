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
`convert_bottomup_state_dict` serves HRNet-AE and HigherHRNet-AE (`models/higherhrnet/convert_mmpose_higherhrnet.py`).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from ..conversion_utils import (
    check_state_dict_matches,
    expected_state_dict_shapes,
    extract_state_dict,
    strip_head_prefix,
)
from .configuration_associative_embedding import AssociativeEmbeddingConfig
from .modeling_associative_embedding import AssociativeEmbeddingForPoseEstimation

__all__ = ["build_ae_hrnet_config", "convert_bottomup_state_dict", "convert_mmpose_associative_embedding"]

_HEAD_PREFIXES = ("keypoint_head.", "head.")


def convert_bottomup_state_dict(
    checkpoint: Mapping, config, model_class, strict: bool = True
) -> dict[str, torch.Tensor]:
    """Convert an MMPose HRNet-AE / HigherHRNet-AE checkpoint into the state dict of `model_class(config)`.

    Args:
        checkpoint: `{'meta', 'state_dict'}` or a bare state dict, 0.x (`keypoint_head.*`) or 1.x (`head.*`)
            spelling; float tensors (float16 in the golden fixtures) are cast to float32, `num_batches_tracked`
            stays int64, MMPose's `_metadata` is dropped.
        config (`AssociativeEmbeddingConfig` or `HigherHRNetConfig`): the target model.
        model_class: `AssociativeEmbeddingForPoseEstimation` or `HigherHRNetForPoseEstimation`.
        strict (`bool`): check that keys and shapes equal the model's (default); False only renames.

    Returns:
        `dict[str, torch.Tensor]` loadable with `model.load_state_dict(..., strict=True)`.

    Raises:
        TypeError: `state_dict` is not a mapping of tensors.
        ValueError: (strict) listing every missing key, unexpected key and shape mismatch, e.g. a HigherHRNet
            checkpoint given with an HRNet-AE config or a w48 checkpoint with a w32 config.
    """
    tensors = extract_state_dict(checkpoint)
    converted = {strip_head_prefix(key, _HEAD_PREFIXES): value for key, value in tensors.items()}
    if strict:
        what = f"{model_class.__name__} (HRNet widths {config.backbone_config.hidden_sizes})"
        check_state_dict_matches(converted, expected_state_dict_shapes(model_class, config), what)
    return converted


def convert_mmpose_associative_embedding(
    checkpoint: Mapping, config: AssociativeEmbeddingConfig, strict: bool = True
) -> dict[str, torch.Tensor]:
    """MMPose `AESimpleHead` / `AssociativeEmbeddingHead` checkpoint → `AssociativeEmbeddingForPoseEstimation` state
    dict (see `convert_bottomup_state_dict`).

    Raises:
        TypeError: `config` is not an `AssociativeEmbeddingConfig`.
    """
    if not isinstance(config, AssociativeEmbeddingConfig):
        raise TypeError(f"config must be an AssociativeEmbeddingConfig, got {type(config).__name__}")
    return convert_bottomup_state_dict(checkpoint, config, AssociativeEmbeddingForPoseEstimation, strict)


def build_ae_hrnet_config(backbone: str = "w32", dataset: str = "coco", **kwargs) -> AssociativeEmbeddingConfig:
    """`AssociativeEmbeddingConfig` of MMPose's HRNet-AE with HRNet `backbone` "w32" / "w48" (or "hrnet_w32"); COCO
    only; `kwargs` override config fields.

    Raises:
        ValueError: unknown variant or dataset.
    """
    if dataset != "coco":
        raise ValueError(f"the bottom-up models are trained on COCO, got dataset {dataset!r}")
    return AssociativeEmbeddingConfig.from_variant(backbone.rsplit("_", 1)[-1], **kwargs)
