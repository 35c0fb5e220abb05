# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""HRNet backbone configuration.

Source: Sun et al., "Deep High-Resolution Representation Learning for Human Pose Estimation", CVPR 2019;
reference implementation MMPose 0.29 `mmpose/models/backbones/hrnet.py` (open-mmlab/mmpose@v0.29.0) with the
`extra` dict of `configs/body/2d_kpt_sview_rgb_img/associative_embedding/coco/hrnet_w32_coco_512x512_udp.py`.
"""

from __future__ import annotations

from typing import ClassVar

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig
from transformers.backbone_utils import BackboneConfigMixin

__all__ = ["HRNetConfig", "HRNET_VARIANTS"]


# Model variants are data: only the branch widths differ between the released HRNet-w32 and HRNet-w48
# (stage layout and block counts are those of MMPose's `extra` dict in the AE / HigherHRNet configs).
HRNET_VARIANTS: dict[str, dict] = {
    "w32": {"hidden_sizes": [32, 64, 128, 256]},
    "w48": {"hidden_sizes": [48, 96, 192, 384]},
}


@strict
class HRNetConfig(BackboneConfigMixin, PreTrainedConfig):
    r"""Configuration of [`HRNetBackbone`]. The defaults reproduce MMPose's HRNet-w32.

    Layout (as MMPose's `HRNet`): a stem of two 3x3 stride-2 convolutions to `stem_channels` (1/4 resolution);
    stage 1 = `stage1_num_blocks` Bottleneck blocks (`stage1_channels` mid channels, 4x that out); stages 2, 3, 4
    have 2, 3, 4 parallel branches of widths `hidden_sizes[:n]` at strides 4, 8, 16, 32 and `num_modules[s]`
    multi-resolution modules each (`num_blocks[s]` BasicBlocks per branch, then the exchange ("fuse") unit:
    1x1 conv + BN + nearest upsampling from lower resolutions, chains of 3x3 stride-2 conv + BN from higher ones,
    summed, ReLU).

    Args:
        num_channels (`int`, defaults to 3): input image channels.
        stem_channels (`int`, defaults to 64): channels of the two stem convolutions.
        stage1_channels (`int`, defaults to 64): Bottleneck mid channels in stage 1 (output is 4x).
        stage1_num_blocks (`int`, defaults to 4): Bottleneck blocks in stage 1.
        hidden_sizes (`list[int]`, defaults to `[32, 64, 128, 256]`): branch widths at strides 4, 8, 16, 32.
        num_modules (`list[int]`, defaults to `[1, 4, 3]`): multi-resolution modules in stages 2, 3, 4.
        num_blocks (`list[int]`, defaults to `[4, 4, 4]`): BasicBlocks per branch in each module of stages 2, 3, 4.
        multiscale_output (`bool`, defaults to `False`): whether the last module of stage 4 fuses into every
            branch. MMPose's pose configs use `False` (only the stride-4 branch is fused; the released
            checkpoints have no other fuse layers there).
        batch_norm_eps (`float`, defaults to 1e-5), batch_norm_momentum (`float`, defaults to 0.1): BatchNorm
            settings (MMPose `norm_cfg=dict(type='BN')`).
        upsample_mode (`str`, defaults to `"nearest"`): interpolation of the fuse layers' upsampling.
        initializer_range (`float`, defaults to 0.001): std of the normal init of conv weights (MMPose's
            `normal_init(std=0.001)`); BatchNorm weights 1, biases 0.
        out_features / out_indices: which of `stage_names` = `["stem", "stage1", "branch1", "branch2", "branch3",
            "branch4"]` the backbone returns. `branch{i}` is stage 4's branch i (stride 2^(i+1)). Defaults to
            `["branch1"]`, the high-resolution branch the pose heads use. With `multiscale_output=False`,
            `branch2..4` are the last module's branch outputs before (absent) fusion.

    Raises:
        ValueError: if `num_modules` / `num_blocks` do not have 3 entries or `hidden_sizes` 4, or a value is
            not positive.
    """

    model_type = "hfpose_hrnet"
    variants: ClassVar[dict[str, dict]] = HRNET_VARIANTS

    num_channels: int = 3
    stem_channels: int = 64
    stage1_channels: int = 64
    stage1_num_blocks: int = 4
    hidden_sizes: list[int] | tuple[int, ...] = (32, 64, 128, 256)
    num_modules: list[int] | tuple[int, ...] = (1, 4, 3)
    num_blocks: list[int] | tuple[int, ...] = (4, 4, 4)
    multiscale_output: bool = False
    batch_norm_eps: float = 1e-5
    batch_norm_momentum: float = 0.1
    upsample_mode: str = "nearest"
    initializer_range: float = 0.001

    def __post_init__(self, **kwargs):
        self.hidden_sizes = list(self.hidden_sizes)
        self.num_modules = list(self.num_modules)
        self.num_blocks = list(self.num_blocks)
        self.stage_names = ["stem", "stage1"] + [f"branch{i}" for i in range(1, len(self.hidden_sizes) + 1)]
        out_features = kwargs.pop("out_features", None)
        out_indices = kwargs.pop("out_indices", None)
        if out_features is None and out_indices is None:
            out_features = ["branch1"]
        self.set_output_features_output_indices(out_features=out_features, out_indices=out_indices)
        super().__post_init__(**kwargs)

    def validate_architecture(self):
        """Check the stage layout (called by `@strict`)."""
        if len(self.hidden_sizes) != 4:
            raise ValueError(f"hidden_sizes must have 4 entries (one per branch), got {self.hidden_sizes}")
        for name in ("num_modules", "num_blocks"):
            value = getattr(self, name)
            if len(value) != 3:
                raise ValueError(f"{name} must have 3 entries (stages 2, 3, 4), got {value}")
        for name in ("hidden_sizes", "num_modules", "num_blocks"):
            if any(int(v) <= 0 for v in getattr(self, name)):
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("num_channels", "stem_channels", "stage1_channels", "stage1_num_blocks"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.upsample_mode not in ("nearest", "bilinear"):
            raise ValueError(f"upsample_mode must be 'nearest' or 'bilinear', got {self.upsample_mode!r}")

    @property
    def width(self) -> int:
        """Width of the high-resolution branch (32 for HRNet-w32)."""
        return self.hidden_sizes[0]

    @classmethod
    def from_variant(cls, variant: str, **kwargs) -> HRNetConfig:
        """Config of a named variant (`"w32"`, `"w48"`); `kwargs` override fields.

        Raises:
            ValueError: if `variant` is unknown.
        """
        if variant not in HRNET_VARIANTS:
            raise ValueError(f"variant must be one of {sorted(HRNET_VARIANTS)}, got {variant!r}")
        return cls(**{**HRNET_VARIANTS[variant], **kwargs})
