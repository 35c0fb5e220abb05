# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""MMPose `RLEHead` checkpoints (`td-reg_{backbone}_rle-8xb64-210e_{dataset}-…`) → hfpose RLE state dicts.

As DeepPose (`models/deeppose/convert_mmpose_deeppose.py`), plus the flow nets: MMPose 1.x
`head.loss_module.flow_model.*` (0.x `keypoint_head.loss.flow_model.*`) → hfpose `flow.{s,t}.*`. The flow's constant
buffers (`loc` = 0, `cov` = I, `mask` = alternating `[0, 1]`/`[1, 0]`) are not stored by hfpose; the converter checks
their values and drops them.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from ..deeppose.convert_mmpose_deeppose import build_regression_config_of, convert_regression_state_dict
from .configuration_rle import RLEConfig
from .modeling_rle import RLEForPoseEstimation, rle_coupling_masks

__all__ = ["build_rle_config", "convert_mmpose_rle"]

_FLOW_PREFIX = "head.loss_module.flow_model."


def _check_flow_constants(state_dict: dict[str, torch.Tensor], num_layers: int) -> None:
    """Check that the RLE flow's buffers hold the constants hfpose hard-codes (and drop them from `state_dict`)."""
    expected = {
        "loc": torch.zeros(2),
        "cov": torch.eye(2),
        "mask": rle_coupling_masks(num_layers),
    }
    for name, value in expected.items():
        key = _FLOW_PREFIX + name
        if key not in state_dict:
            continue  # not stored by hfpose: nothing to check
        found = state_dict.pop(key)
        if tuple(found.shape) != tuple(value.shape) or not torch.equal(found.float(), value):
            raise ValueError(
                f"{key} must be {value.tolist()} (the constant RealNVP base / masks hfpose hard-codes), "
                f"got {found.tolist()}"
            )


def convert_mmpose_rle(checkpoint: Mapping, config: RLEConfig, strict: bool = True) -> dict[str, torch.Tensor]:
    """MMPose `RLEHead` checkpoint → `RLEForPoseEstimation` state dict (`backbone.*`, `head.fc.*`, `flow.*`).

    Raises:
        TypeError: `config` is not an `RLEConfig`.
        ValueError: RLE flow constants with unexpected values, or see
            `hfpose.models.deeppose.convert_mmpose_deeppose.convert_regression_state_dict`.
    """
    if not isinstance(config, RLEConfig):
        raise TypeError(f"RLEForPoseEstimation needs a RLEConfig, got {type(config).__name__}")
    return convert_regression_state_dict(
        checkpoint,
        config,
        RLEForPoseEstimation,
        strict,
        head_prefixes={_FLOW_PREFIX: "flow."},
        check_constants=lambda tensors: _check_flow_constants(tensors, config.flow_num_layers),
    )


def build_rle_config(backbone: str, dataset: str, input_size: list[int] | None = None) -> RLEConfig:
    """`RLEConfig` of MMPose's `td-reg_{backbone}_rle-8xb64-210e_{dataset}-…` (see `build_regression_config_of`)."""
    return build_regression_config_of(RLEConfig, backbone, dataset, input_size)
