# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Configuration of bottom-up associative embedding with an HRNet backbone (HRNet-AE).

Defaults reproduce MMPose 0.29 `configs/body/2d_kpt_sview_rgb_img/associative_embedding/coco/
hrnet_w32_coco_512x512_udp.py` (model `AssociativeEmbedding`, head `AESimpleHead`, loss `MultiLossFactory`).
"""

from __future__ import annotations

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig
from transformers.configuration_utils import SubConfigSpec

from ..hrnet.configuration_hrnet import HRNetConfig
from ..keypoint_config import KeypointConfigMixin, init_keypoint_metadata

__all__ = ["AssociativeEmbeddingConfig", "BottomUpConfigMixin"]


class BottomUpConfigMixin(KeypointConfigMixin):
    """Shared field checks and keypoint metadata of the bottom-up configs (AE and HigherHRNet)."""

    def _set_keypoint_metadata(self, kwargs: dict | None = None) -> None:
        init_keypoint_metadata(self, kwargs)

    def _resolve_backbone_config(self) -> None:
        # Built here rather than by transformers' `backbone_config` resolution, which looks the type up in the
        # AutoConfig registry (and may reach for the Hub).
        if self.backbone_config is None:
            self.backbone_config = HRNetConfig()
        elif isinstance(self.backbone_config, dict):
            backbone_kwargs = {k: v for k, v in self.backbone_config.items() if k != "model_type"}
            self.backbone_config = HRNetConfig(**backbone_kwargs)
        elif not isinstance(self.backbone_config, HRNetConfig):
            raise TypeError(
                f"backbone_config must be an HRNetConfig or dict, got {type(self.backbone_config).__name__}"
            )

    def _validate_bottomup(self, num_stages: int) -> None:
        if self.id2label is None:
            raise ValueError("id2label is required (or set dataset to 'coco' / 'mpii')")
        num_keypoints = len(self.id2label)
        if self.flip_indices is not None and sorted(self.flip_indices) != list(range(num_keypoints)):
            raise ValueError(f"flip_indices must be a permutation of range({num_keypoints}), got {self.flip_indices}")
        if len(self.heatmap_loss_factors) != num_stages:
            raise ValueError(
                f"heatmap_loss_factors needs one factor per output resolution ({num_stages}), "
                f"got {self.heatmap_loss_factors}"
            )
        if self.tag_loss_type not in ("exp", "max"):
            raise ValueError(f"tag_loss_type must be 'exp' or 'max', got {self.tag_loss_type!r}")
        if len(self.input_size) != 2 or any(int(v) <= 0 for v in self.input_size):
            raise ValueError(f"input_size must be [width, height] with positive entries, got {self.input_size}")

    @property
    def num_keypoints(self) -> int:
        return len(self.id2label)


@strict
class AssociativeEmbeddingConfig(BottomUpConfigMixin, PreTrainedConfig):
    r"""Configuration of [`AssociativeEmbeddingForPoseEstimation`] (HRNet backbone + 1x1 conv to K heatmaps and K
    tags at 1/4 of the input resolution).

    Args:
        backbone_config (`HRNetConfig` or `dict`, defaults to HRNet-w32): the backbone; its `out_features` must
            contain `"branch1"` (the stride-4 branch the head reads).
        dataset (`str`, defaults to `"coco"`): keypoint set that fills `id2label`, `flip_indices`, `skeleton`
            when they are not given.
        input_size (`list[int]`, defaults to `[512, 512]`): `[width, height]` of the training input; at test time
            the short side is resized to it (the bottom-up processor).
        flip_indices (`list[int]`), skeleton (`list[list[int]]`): keypoint metadata (from `hfpose.keypoints`).
        heatmap_loss_factors (`list[float]`, defaults to `[1.0]`): heatmap loss weight per output resolution.
        push_loss_factor (`float`, defaults to 0.001), pull_loss_factor (`float`, defaults to 0.001): AE loss weights.
        supervise_empty (`bool`, defaults to `True`): supervise heatmap channels without any target peak.
        tag_loss_type (`str`, defaults to `"exp"`): push loss form, `"exp"` or `"max"` (MMPose `ae_loss_type`).
        initializer_range (`float`, defaults to 0.001): std of the normal init of conv weights (MMPose init).

    Raises:
        StrictDataclassClassValidationError: wrapping a `ValueError` for inconsistent fields (names the field).
    """

    model_type = "hfpose_ae_hrnet"
    pose_family = "bottom-up"  # read by inference / ONNX export / the method index (see hfpose.models.pose_method)
    sub_configs_defaults = {"backbone_config": SubConfigSpec(config_class=HRNetConfig)}

    backbone_config: dict | PreTrainedConfig | None = None
    dataset: str | None = "coco"
    input_size: list[int] | tuple[int, ...] = (512, 512)
    flip_indices: list[int] | None = None
    skeleton: list[list[int]] | None = None
    sigmas: list[float] | None = None
    heatmap_loss_factors: list[float] | tuple[float, ...] = (1.0,)
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
        self._validate_bottomup(num_stages=1)
        if "branch1" not in self.backbone_config.out_features:
            raise ValueError(
                f"backbone_config.out_features must contain 'branch1', got {self.backbone_config.out_features}"
            )

    @classmethod
    def from_variant(cls, variant: str = "w32", **kwargs) -> AssociativeEmbeddingConfig:
        """Config of the MMPose `hrnet_{variant}_coco_512x512_udp` model (`"w32"` or `"w48"`).

        Raises:
            ValueError: if `variant` is unknown.
        """
        return cls(backbone_config=HRNetConfig.from_variant(variant), **kwargs)
