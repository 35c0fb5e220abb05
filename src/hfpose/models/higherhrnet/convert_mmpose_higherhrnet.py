# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""MMPose `AEHigherResolutionHead` checkpoints (HigherHRNet-AE, MMPose 0.x) → hfpose state dicts: the keys
`keypoint_head.final_layers.{0,1}.*` + `keypoint_head.deconv_layers.0.*` lose their head prefix, as HRNet-AE's
(`hfpose.models.associative_embedding.convert_mmpose_associative_embedding`)."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from ..associative_embedding.convert_mmpose_associative_embedding import convert_bottomup_state_dict
from .configuration_higherhrnet import HigherHRNetConfig
from .modeling_higherhrnet import HigherHRNetForPoseEstimation

__all__ = ["build_ae_higherhrnet_config", "convert_mmpose_higherhrnet"]


def convert_mmpose_higherhrnet(
    checkpoint: Mapping, config: HigherHRNetConfig, strict: bool = True
) -> dict[str, torch.Tensor]:
    """MMPose HigherHRNet-AE checkpoint → `HigherHRNetForPoseEstimation` state dict.

    Raises:
        TypeError: `config` is not a `HigherHRNetConfig`.
    """
    if not isinstance(config, HigherHRNetConfig):
        raise TypeError(f"config must be a HigherHRNetConfig, got {type(config).__name__}")
    return convert_bottomup_state_dict(checkpoint, config, HigherHRNetForPoseEstimation, strict)


def build_ae_higherhrnet_config(backbone: str = "w32", dataset: str = "coco", **kwargs) -> HigherHRNetConfig:
    """`HigherHRNetConfig` with HRNet `backbone` "w32" / "w48" (or "hrnet_w32"); COCO only; `kwargs` override fields.

    Raises:
        ValueError: unknown variant or dataset.
    """
    if dataset != "coco":
        raise ValueError(f"the bottom-up models are trained on COCO, got dataset {dataset!r}")
    return HigherHRNetConfig.from_variant(backbone.rsplit("_", 1)[-1], **kwargs)
