# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""MMPose `ipr_res50_dsnt-8xb64-210e_coco-256x256` checkpoints → hfpose state dicts: the integral family's one
converter (`hfpose.models.ipr.convert_mmpose_ipr.convert_integral_state_dict`; MMPose builds IPR, DSNT and
Debias-IPR with one `DSNTHead`, so the keys are the same)."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from ..ipr.convert_mmpose_ipr import build_integral_config_of, convert_integral_state_dict
from .configuration_dsnt import DSNTConfig
from .modeling_dsnt import DSNTForPoseEstimation

__all__ = ["build_dsnt_config", "convert_mmpose_dsnt"]


def convert_mmpose_dsnt(checkpoint: Mapping, config: DSNTConfig, strict: bool = True) -> dict[str, torch.Tensor]:
    """MMPose `ipr_res50_dsnt-8xb64-210e_coco-256x256` checkpoint → `DSNTForPoseEstimation` state dict (see
    `convert_integral_state_dict`)."""
    return convert_integral_state_dict(checkpoint, config, DSNTForPoseEstimation, strict)


def build_dsnt_config(backbone: str, dataset: str) -> DSNTConfig:
    """`DSNTConfig` with MMPose's ResNet `backbone` (see `build_integral_config_of`)."""
    return build_integral_config_of(DSNTConfig, backbone, dataset)
