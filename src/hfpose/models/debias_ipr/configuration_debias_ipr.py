# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Debias-IPR (integral regression with the bias of the softmax background removed) model configuration.

Defaults reproduce MMPose 1.x
`configs/body_2d_keypoint/integral_regression/coco/ipr_res50_debias-8xb64-210e_coco-256x256.py`
(open-mmlab/mmpose@759b39c): the DSNT model and loss (smooth-L1 + Jensen-Shannon `JSDiscretLoss`) with `beta=10`
and the debiased expectation of Gu et al. applied to the coordinates.
"""

from __future__ import annotations

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig

from ..deeppose.configuration_deeppose import RESNET50_BACKBONE_SPEC, init_topdown_keypoint_metadata
from ..ipr.configuration_ipr import BACKBONE_STRIDE, validate_integral_head_config
from ..keypoint_config import KeypointConfigMixin


@strict
class DebiasIPRConfig(KeypointConfigMixin, PreTrainedConfig):
    r"""
    Configuration of [`DebiasIPRForPoseEstimation`] (Gu et al., "Removing the Bias of Integral Pose Regression",
    ICCV 2021). The debias correction is always applied; it uses the logits *without* beta (MMPose).

    backbone_config (`dict` or `PreTrainedConfig`, *optional*):
        transformers backbone config; defaults to MMPose's ResNet-50 returning its last stage (stride 32).
    input_size (`list[int]`, *optional*, defaults to `[256, 256]`):
        `[width, height]` of the network input in pixels; both must be multiples of 32 so that heatmap column j is
        input pixel x = j * width / heatmap_width exactly.
    dataset (`str`, *optional*, defaults to `"coco"`):
        keypoint set (`"coco"` or `"mpii"`) giving the default `id2label`, `flip_indices` and `skeleton`.
    flip_indices (`list[int]`, *optional*):
        `flip_indices[k]` is the keypoint that keypoint k becomes under a horizontal flip (flip test, augmentation);
        derived from the keypoint names when not given.
    skeleton (`list[list[int]]`, *optional*):
        pairs of keypoint indices drawn as limbs.
    deconv_out_channels (`list[int]`, *optional*, defaults to `[256, 256, 256]`):
        output channels of the ConvTranspose2d(stride 2, no bias) + BatchNorm + ReLU blocks; each doubles the size.
    deconv_kernel_sizes (`list[int]`, *optional*, defaults to `[4, 4, 4]`):
        kernel size of each deconvolution (2, 3 or 4).
    beta (`float`, *optional*, defaults to 10.0):
        the heatmaps are the softmax of `beta * logits` over all positions (the debias correction's
        `C = sum exp(logits)` does not use beta).
    heatmap_sigma (`float`, *optional*, defaults to 2.0):
        Gaussian sigma (heatmap pixels) of the normalized target heatmaps the training transform draws with
        `IntegralRegressionLabel`; not used by the model itself.
    coordinate_loss_weight (`float`, *optional*, defaults to 1.0):
        weight of the smooth-L1 coordinate loss.
    heatmap_loss_weight (`float`, *optional*, defaults to 1.0):
        weight of the Jensen-Shannon heatmap regularization (MMPose's `lambda_t = -1`: always on, weight 1); 0 turns
        it off and then `target_heatmaps` are not needed.
    init_std (`float`, *optional*, defaults to 0.001):
        std of the normal initialization of the head's (de)convolutions (MMPose `HeatmapHead`).

    Example:

    ```python
    >>> from hfpose.models.debias_ipr import DebiasIPRConfig, DebiasIPRForPoseEstimation
    >>> model = DebiasIPRForPoseEstimation(DebiasIPRConfig())  # ipr_res50_debias-8xb64-210e_coco-256x256
    ```"""

    model_type = "hfpose_debias_ipr"
    pose_family = "integral"  # read by inference / ONNX export / the method index (see hfpose.models.pose_method)
    # the integral variant, as data (read by `IntegralRegressionForPoseEstimation`; class attributes, not saved)
    heatmap_loss = "js"
    debias = True
    sub_configs_defaults = {"backbone_config": RESNET50_BACKBONE_SPEC}

    backbone_config: dict | PreTrainedConfig | None = None
    input_size: list[int] | tuple[int, ...] = (256, 256)
    dataset: str = "coco"
    flip_indices: list[int] | None = None
    skeleton: list[list[int]] | None = None
    sigmas: list[float] | None = None
    deconv_out_channels: list[int] | tuple[int, ...] = (256, 256, 256)
    deconv_kernel_sizes: list[int] | tuple[int, ...] = (4, 4, 4)
    beta: float = 10.0
    heatmap_sigma: float = 2.0
    coordinate_loss_weight: float = 1.0
    heatmap_loss_weight: float = 1.0
    init_std: float = 0.001

    def __post_init__(self, **kwargs):
        init_topdown_keypoint_metadata(self, kwargs)
        validate_integral_head_config(self)
        super().__post_init__(**kwargs)

    @property
    def num_keypoints(self) -> int:
        return len(self.id2label)

    @property
    def heatmap_size(self) -> list[int]:
        """`[width, height]` of the heatmaps: `input_size / 32 * 2 ** len(deconv_out_channels)` (64x64 by default)."""
        upsampling = 2 ** len(self.deconv_out_channels)
        return [size // BACKBONE_STRIDE * upsampling for size in self.input_size]


__all__ = ["DebiasIPRConfig"]
