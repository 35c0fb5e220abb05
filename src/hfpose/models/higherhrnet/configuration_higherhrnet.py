# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Configuration of HigherHRNet with associative embedding (HigherHRNet-AE).

Defaults reproduce MMPose 0.29 `configs/body/2d_kpt_sview_rgb_img/associative_embedding/coco/
higherhrnet_w32_coco_512x512_udp.py` (head `AEHigherResolutionHead`: `num_deconv_layers=1`,
`num_deconv_filters=[32]`, `num_deconv_kernels=[4]`, `num_basic_blocks=4`, `cat_output=[True]`,
`with_ae_loss=[True, False]`; loss `MultiLossFactory` with factors heatmap [1, 1], push/pull 0.001 on stage 0).
"""

from __future__ import annotations

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig
from transformers.configuration_utils import SubConfigSpec

from ..associative_embedding.configuration_associative_embedding import BottomUpConfigMixin
from ..hrnet.configuration_hrnet import HRNetConfig

__all__ = ["HigherHRNetConfig"]


@strict
class HigherHRNetConfig(BottomUpConfigMixin, PreTrainedConfig):
    r"""Configuration of [`HigherHRNetForPoseEstimation`].

    Head: `final_layers.0` 1x1 conv C → 2K (K heatmaps + K tags at 1/4); then `num_deconv_layers` times:
    concat(features, previous output) → ConvTranspose2d(·→C, 4, stride 2, padding 1, no bias) + BN + ReLU →
    `num_basic_blocks` BasicBlocks → `final_layers.i` 1x1 conv C → K heatmaps (1/2, 1/1, ...), where C is the
    backbone's high-resolution width (`hidden_sizes[0]`, MMPose `num_deconv_filters=[C]`).

    Args:
        backbone_config (`HRNetConfig` or `dict`, defaults to HRNet-w32): must output `"branch1"`.
        num_deconv_layers (`int`, defaults to 1): number of 2x upsampling stages (1 → heatmaps at 1/4 and 1/2).
        num_basic_blocks (`int`, defaults to 4): BasicBlocks after each deconvolution.
        heatmap_loss_factors (`list[float]`, defaults to `[1.0, 1.0]`): one per output resolution.
        dataset, input_size, flip_indices, skeleton, push_loss_factor, pull_loss_factor, supervise_empty,
        tag_loss_type, initializer_range: as in [`AssociativeEmbeddingConfig`].

    Raises:
        StrictDataclassClassValidationError: wrapping a `ValueError` for inconsistent fields (names the field).
    """

    model_type = "hfpose_ae_higherhrnet"
    pose_family = "bottom-up"  # read by inference / ONNX export / the method index (see hfpose.models.pose_method)
    sub_configs_defaults = {"backbone_config": SubConfigSpec(config_class=HRNetConfig)}

    backbone_config: dict | PreTrainedConfig | None = None
    num_deconv_layers: int = 1
    num_basic_blocks: int = 4
    dataset: str | None = "coco"
    input_size: list[int] | tuple[int, ...] = (512, 512)
    flip_indices: list[int] | None = None
    skeleton: list[list[int]] | None = None
    sigmas: list[float] | None = None
    heatmap_loss_factors: list[float] | tuple[float, ...] = (1.0, 1.0)
    push_loss_factor: float = 0.001
    pull_loss_factor: float = 0.001
    supervise_empty: bool = True
    tag_loss_type: str = "exp"
    initializer_range: float = 0.001

    def __post_init__(self, **kwargs):
        self.input_size = list(self.input_size)
        self.heatmap_loss_factors = [float(v) for v in self.heatmap_loss_factors]
        self._set_keypoint_metadata(kwargs)
        self._resolve_backbone_config()
        super().__post_init__(**kwargs)

    def validate_fields(self):
        """Check field consistency (called by `@strict`)."""
        if self.num_deconv_layers < 1:
            raise ValueError(f"num_deconv_layers must be >= 1, got {self.num_deconv_layers}")
        if self.num_basic_blocks < 0:
            raise ValueError(f"num_basic_blocks must be >= 0, got {self.num_basic_blocks}")
        self._validate_bottomup(num_stages=self.num_deconv_layers + 1)
        if "branch1" not in self.backbone_config.out_features:
            raise ValueError(
                f"backbone_config.out_features must contain 'branch1', got {self.backbone_config.out_features}"
            )

    @classmethod
    def from_variant(cls, variant: str = "w32", **kwargs) -> HigherHRNetConfig:
        """Config of the MMPose `higherhrnet_{variant}_coco_512x512_udp` model (`"w32"` or `"w48"`).

        Raises:
            ValueError: if `variant` is unknown.
        """
        return cls(backbone_config=HRNetConfig.from_variant(variant), **kwargs)
