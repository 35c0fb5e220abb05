# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""RLE (Residual Log-likelihood Estimation) configuration.

Paper: Li et al., "Human Pose Regression with Residual Log-likelihood Estimation", ICCV 2021.
Defaults reproduce MMPose 1.x `td-reg_res50_rle-8xb64-210e_coco-256x192.py`: ResNet-50, global average pooling,
Linear(2048, 17 * 4) → (x, y, σx_raw, σy_raw), `RLELoss(use_target_weight=True, size_average=True, residual=True,
q_distribution='laplace')`, a RealNVP of 6 coupling layers with 64 hidden units, input 192x256 (w, h).
"""

from __future__ import annotations

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig

from ..deeppose.configuration_deeppose import RESNET50_BACKBONE_SPEC, init_topdown_keypoint_metadata
from ..keypoint_config import KeypointConfigMixin

__all__ = ["RLEConfig"]


@strict
class RLEConfig(KeypointConfigMixin, PreTrainedConfig):
    r"""
    Configuration of [`RLEForPoseEstimation`].

    Args:
        backbone_config (`dict` or `PreTrainedConfig`, *optional*): transformers backbone config; defaults to
            ResNet-50 returning its last stage (`out_indices=[4]`).
        input_size (`list[int]`, defaults to `[192, 256]`): `[width, height]` of the network input in pixels.
        dataset (`str`, defaults to `"coco"`): source of the default `id2label`, `flip_indices`, `skeleton`.
        flip_indices (`list[int]`, *optional*), skeleton (`list[list[int]]`, *optional*): see `DeepPoseConfig`.
        flow_num_layers (`int`, defaults to 6): RealNVP coupling layers (masks alternate `[0, 1]`, `[1, 0]`).
        flow_hidden_size (`int`, defaults to 64): width of the scale / translation MLPs (2 → h → h → 2).
        loss_residual (`bool`, defaults to `True`): add the residual term log q(ε̄) of Eq. 9 (MMPose `residual`).
        q_distribution (`str`, defaults to `"laplace"`): prior Q of the residual term, `"laplace"` or `"gaussian"`.
        size_average (`bool`, defaults to `True`): divide the summed loss by the batch size (MMPose `size_average`).
        initializer_range (`float`, defaults to 0.02): kept for transformers compatibility (unused by the init).
    """

    model_type = "hfpose_rle"
    pose_family = "regression"  # read by inference / ONNX export / the method index (see hfpose.models.pose_method)
    sub_configs_defaults = {"backbone_config": RESNET50_BACKBONE_SPEC}

    backbone_config: dict | PreTrainedConfig | None = None
    input_size: list[int] | tuple[int, ...] = (192, 256)
    dataset: str = "coco"
    flip_indices: list[int] | None = None
    skeleton: list[list[int]] | None = None
    sigmas: list[float] | None = None
    flow_num_layers: int = 6
    flow_hidden_size: int = 64
    loss_residual: bool = True
    q_distribution: str = "laplace"
    size_average: bool = True
    initializer_range: float = 0.02

    def __post_init__(self, **kwargs):
        init_topdown_keypoint_metadata(self, kwargs)
        if self.q_distribution not in ("laplace", "gaussian"):
            raise ValueError(f"q_distribution must be 'laplace' or 'gaussian', got {self.q_distribution!r}")
        if self.flow_num_layers <= 0 or self.flow_hidden_size <= 0:
            raise ValueError(
                f"flow_num_layers and flow_hidden_size must be positive, got {self.flow_num_layers}, "
                f"{self.flow_hidden_size}"
            )
        super().__post_init__(**kwargs)

    @property
    def num_keypoints(self) -> int:
        return len(self.id2label)
