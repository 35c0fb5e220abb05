# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""MMPose `ipr_res50_debias-8xb64-210e_coco-256x256` checkpoints → hfpose state dicts: the integral family's one
converter (`hfpose.models.ipr.convert_mmpose_ipr.convert_integral_state_dict`; MMPose builds IPR, DSNT and
Debias-IPR with one `DSNTHead`, so the keys are the same)."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from ..ipr.convert_mmpose_ipr import build_integral_config_of, convert_integral_state_dict
from .configuration_debias_ipr import DebiasIPRConfig
from .modeling_debias_ipr import DebiasIPRForPoseEstimation

__all__ = ["build_debias_ipr_config", "convert_mmpose_debias_ipr"]


def convert_mmpose_debias_ipr(
    checkpoint: Mapping, config: DebiasIPRConfig, strict: bool = True
) -> dict[str, torch.Tensor]:
    """MMPose `ipr_res50_debias-8xb64-210e_coco-256x256` checkpoint → `DebiasIPRForPoseEstimation` state dict (see
    `convert_integral_state_dict`)."""
    return convert_integral_state_dict(checkpoint, config, DebiasIPRForPoseEstimation, strict)


def build_debias_ipr_config(backbone: str, dataset: str) -> DebiasIPRConfig:
    """`DebiasIPRConfig` with MMPose's ResNet `backbone` (see `build_integral_config_of`)."""
    return build_integral_config_of(DebiasIPRConfig, backbone, dataset)
