# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""DeepPose (direct coordinate regression) configuration.

Paper: Toshev & Szegedy, "DeepPose: Human Pose Estimation via Deep Neural Networks", CVPR 2014.
Defaults reproduce MMPose 1.x `td-reg_res50_8xb64-210e_coco-256x192.py` (ResNet-50, global average pooling,
Linear(2048, 17 * 2), smooth-L1 loss with keypoint weights, input 192x256 (w, h)).

`init_topdown_keypoint_metadata` is shared by every top-down regression config (DeepPose, RLE): it fills `id2label`,
`flip_indices` and `skeleton` from `hfpose.keypoints` and validates `input_size`.
"""

from __future__ import annotations

from huggingface_hub.dataclasses import strict
from transformers import AutoConfig, PreTrainedConfig
from transformers.configuration_utils import SubConfigSpec

from ..keypoint_config import KeypointConfigMixin, init_keypoint_metadata

__all__ = ["DeepPoseConfig", "init_topdown_keypoint_metadata", "RESNET50_BACKBONE_SPEC"]

# ResNet-50 (transformers `ResNetConfig` defaults: depths 3-4-6-3, bottleneck, stride on the 3x3 conv), last stage only.
RESNET50_BACKBONE_SPEC = SubConfigSpec(config_class=AutoConfig, model_type="resnet", init_kwargs={"out_indices": [4]})


def init_topdown_keypoint_metadata(config, kwargs: dict | None = None) -> None:
    """Fill and validate the keypoint metadata of a top-down config, in place (call before `super().__post_init__`,
    passing its ``kwargs``): `hfpose.models.keypoint_config.init_keypoint_metadata` (``id2label``, ``flip_indices``,
    ``skeleton``, ``sigmas``, ``num_labels``), then ``input_size`` becomes a ``[width, height]`` list of two positive
    ints.

    Raises:
        ValueError: from `init_keypoint_metadata`; `input_size` not two positive ints (names the value).
    """
    input_size = [int(v) for v in config.input_size]
    if len(input_size) != 2 or min(input_size) <= 0:
        raise ValueError(f"input_size must be [width, height] with two positive ints, got {config.input_size!r}")
    config.input_size = input_size
    init_keypoint_metadata(config, kwargs)


@strict
class DeepPoseConfig(KeypointConfigMixin, PreTrainedConfig):
    r"""
    Configuration of [`DeepPoseForPoseEstimation`]: backbone → global average pooling → Linear(C, K * 2).

    Args:
        backbone_config (`dict` or `PreTrainedConfig`, *optional*): a transformers backbone config; defaults to
            ResNet-50 returning its last stage (`out_indices=[4]`). Any `AutoBackbone` config works.
        input_size (`list[int]`, defaults to `[192, 256]`): `[width, height]` of the network input in pixels.
        dataset (`str`, defaults to `"coco"`): keypoint set the defaults of `id2label` / `flip_indices` /
            `skeleton` come from (`"coco"` or `"mpii"`).
        flip_indices (`list[int]`, *optional*): `flip_indices[k]` is the keypoint `k` becomes under a horizontal flip.
        skeleton (`list[list[int]]`, *optional*): limbs, pairs of keypoint indices (for drawing).
        smooth_l1_beta (`float`, defaults to 1.0): transition point of the smooth-L1 loss (normalized units).
        initializer_range (`float`, defaults to 0.02): kept for transformers compatibility; the regression layer uses
            PyTorch's default `nn.Linear` init, as MMPose.

    Example:
    ```python
    >>> from hfpose.models.deeppose import DeepPoseConfig, DeepPoseForPoseEstimation
    >>> model = DeepPoseForPoseEstimation(DeepPoseConfig())  # random weights, MMPose td-reg_res50 layout
    ```
    """

    model_type = "hfpose_deeppose"
    pose_family = "regression"  # read by inference / ONNX export / the method index (see hfpose.models.pose_method)
    sub_configs_defaults = {"backbone_config": RESNET50_BACKBONE_SPEC}

    backbone_config: dict | PreTrainedConfig | None = None
    input_size: list[int] | tuple[int, ...] = (192, 256)
    dataset: str = "coco"
    flip_indices: list[int] | None = None
    skeleton: list[list[int]] | None = None
    sigmas: list[float] | None = None
    smooth_l1_beta: float = 1.0
    initializer_range: float = 0.02

    def __post_init__(self, **kwargs):
        init_topdown_keypoint_metadata(self, kwargs)
        if self.smooth_l1_beta < 0:
            raise ValueError(f"smooth_l1_beta must be >= 0, got {self.smooth_l1_beta}")
        super().__post_init__(**kwargs)

    @property
    def num_keypoints(self) -> int:
        return len(self.id2label)
