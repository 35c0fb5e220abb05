# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Configuration of MMPose's MobileNetV2 backbone (Sandler et al., "MobileNetV2: Inverted Residuals and Linear
Bottlenecks", CVPR 2018, Table 2), as a transformers backbone config.

transformers' own `MobileNetV2Model` has no backbone class and a different layout (TF padding options, a fused stem
block), so hfpose re-implements the MMPose layout (mmpose `models/backbones/mobilenet_v2.py`, v1.3.2) whose
checkpoint keys it keeps verbatim (`conv1`, `layer1` ... `layer7`, `conv2`).
"""

from __future__ import annotations

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig
from transformers.backbone_utils import BackboneConfigMixin

__all__ = ["PoseMobileNetV2Config", "MOBILENET_V2_ARCH_SETTINGS", "make_divisible"]

# (expand_ratio, out_channels, num_blocks, stride) of layer1 ... layer7 (Sandler et al. 2018, Table 2).
MOBILENET_V2_ARCH_SETTINGS: list[list[int]] = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
]


def make_divisible(value: float, divisor: int = 8, min_ratio: float = 0.9) -> int:
    """Round a channel count to the nearest multiple of `divisor`, never below `min_ratio * value`.

    Source: the TensorFlow MobileNet `_make_divisible` rule, as in MMPose `models/utils/make_divisible.py`.
    """
    new_value = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if new_value < min_ratio * value:
        new_value += divisor
    return new_value


@strict
class PoseMobileNetV2Config(BackboneConfigMixin, PreTrainedConfig):
    r"""
    MobileNetV2 backbone with MMPose's layout.

    Stages (`stage_names`): `["stem", "layer1", ..., "layer7", "conv2"]`; index 0 is the stem (`conv1`), so MMPose's
    `out_indices=(7,)` (the final 1x1 conv, 1280 channels) is hfpose's `out_features=["conv2"]` / `out_indices=[8]`,
    the default.

    Args:
        num_channels (`int`, defaults to 3): input channels.
        widen_factor (`float`, defaults to 1.0): channel multiplier (MMPose `widen_factor`).
        arch_settings (`list[list[int]]`): `(expand_ratio, channels, num_blocks, stride)` per layer.
        last_channels (`int`, defaults to 1280): width of `conv2` before widening (`int(1280 * widen_factor)` when
            `widen_factor > 1`, as MMPose).
        hidden_act (`str`, defaults to `"relu6"`): activation after every conv except each block's projection.
        batch_norm_eps (`float`, defaults to 1e-5).
    """

    model_type = "hfpose_mobilenet_v2"

    num_channels: int = 3
    widen_factor: float = 1.0
    arch_settings: list[list[int]] | None = None
    last_channels: int = 1280
    hidden_act: str = "relu6"
    batch_norm_eps: float = 1e-5

    def __post_init__(self, **kwargs):
        if self.arch_settings is None:
            self.arch_settings = [list(row) for row in MOBILENET_V2_ARCH_SETTINGS]
        for index, row in enumerate(self.arch_settings):
            if len(row) != 4 or any(int(v) <= 0 for v in row):
                raise ValueError(
                    f"arch_settings[{index}]={row!r} must be 4 positive ints (expand_ratio, channels, blocks, stride)"
                )
        if self.widen_factor <= 0:
            raise ValueError(f"widen_factor must be positive, got {self.widen_factor}")
        self.stage_names = ["stem"] + [f"layer{i + 1}" for i in range(len(self.arch_settings))] + ["conv2"]
        self.set_output_features_output_indices(
            out_indices=kwargs.pop("out_indices", None), out_features=kwargs.pop("out_features", None)
        )
        super().__post_init__(**kwargs)

    @property
    def stage_channels(self) -> list[int]:
        """Output channels of each entry of `stage_names`."""
        channels = [make_divisible(32 * self.widen_factor, 8)]
        channels += [make_divisible(row[1] * self.widen_factor, 8) for row in self.arch_settings]
        channels.append(int(self.last_channels * self.widen_factor) if self.widen_factor > 1.0 else self.last_channels)
        return channels
