# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""IPR (Integral Pose Regression) model configuration.

Defaults reproduce MMPose 1.x `configs/body_2d_keypoint/integral_regression/coco/ipr_res50_8xb64-210e_coco-256x256.py`
(open-mmlab/mmpose@759b39c): ResNet-50, 256x256 input, a SimpleBaseline deconvolution head giving 64x64 heatmaps, and
the loss of that config, smooth-L1 on the integral coordinates + `KeypointMSELoss` on the softmax heatmaps.
"""

from __future__ import annotations

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig

from ..deeppose.configuration_deeppose import RESNET50_BACKBONE_SPEC, init_topdown_keypoint_metadata
from ..keypoint_config import KeypointConfigMixin

# Total stride of the backbones hfpose uses (ResNet, MobileNetV2): the last feature map is input_size / 32.
BACKBONE_STRIDE = 32
# ConvTranspose2d padding / output_padding giving exactly 2x upsampling per kernel size (MMPose `HeatmapHead`).
DECONV_PADDING = {4: (1, 0), 3: (1, 1), 2: (0, 0)}


@strict
class IPRConfig(KeypointConfigMixin, PreTrainedConfig):
    r"""
    Configuration of [`IPRForPoseEstimation`] (Sun et al., "Integral Human Pose Regression", ECCV 2018).

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
    beta (`float`, *optional*, defaults to 1.0):
        the heatmaps are the softmax of `beta * logits` over all positions.
    heatmap_sigma (`float`, *optional*, defaults to 2.0):
        Gaussian sigma (heatmap pixels) of the normalized target heatmaps the training transform draws with
        `IntegralRegressionLabel`; not used by the model itself.
    coordinate_loss_weight (`float`, *optional*, defaults to 1.0):
        weight of the smooth-L1 coordinate loss.
    heatmap_loss_weight (`float`, *optional*, defaults to 1.0):
        weight of the heatmap MSE loss; 0 gives MMPose's `IntegralRegressionHead` loss (coordinates only) and then
        `target_heatmaps` are not needed.
    init_std (`float`, *optional*, defaults to 0.001):
        std of the normal initialization of the head's (de)convolutions (MMPose `HeatmapHead`).

    Example:

    ```python
    >>> from hfpose.models.ipr import IPRConfig, IPRForPoseEstimation
    >>> config = IPRConfig()  # ipr_res50_8xb64-210e_coco-256x256
    >>> model = IPRForPoseEstimation(config)
    ```"""

    model_type = "hfpose_ipr"
    pose_family = "integral"  # read by inference / ONNX export / the method index (see hfpose.models.pose_method)
    # the integral variant, as data (read by `IntegralRegressionForPoseEstimation`; class attributes, not saved)
    heatmap_loss = "mse"
    debias = False
    sub_configs_defaults = {"backbone_config": RESNET50_BACKBONE_SPEC}

    backbone_config: dict | PreTrainedConfig | None = None
    input_size: list[int] | tuple[int, ...] = (256, 256)
    dataset: str = "coco"
    flip_indices: list[int] | None = None
    skeleton: list[list[int]] | None = None
    sigmas: list[float] | None = None
    deconv_out_channels: list[int] | tuple[int, ...] = (256, 256, 256)
    deconv_kernel_sizes: list[int] | tuple[int, ...] = (4, 4, 4)
    beta: float = 1.0
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


def validate_integral_head_config(config) -> None:
    """Normalize and check the head / loss fields shared by the integral configs (IPR, DSNT, Debias-IPR), in place.

    Raises:
        ValueError: `input_size` not two multiples of 32; `deconv_out_channels` and `deconv_kernel_sizes` of different
            lengths, a kernel other than 2, 3, 4 or non-positive channels (names the index); `beta` <= 0; a negative
            loss weight or `heatmap_sigma`.
    """
    if any(size % BACKBONE_STRIDE for size in config.input_size):
        raise ValueError(
            f"input_size must be [width, height], both multiples of the backbone stride {BACKBONE_STRIDE}, so that "
            f"heatmap column j is input x = j * width / heatmap_width; got {config.input_size}"
        )
    config.deconv_out_channels = [int(channels) for channels in config.deconv_out_channels]
    config.deconv_kernel_sizes = [int(kernel) for kernel in config.deconv_kernel_sizes]
    if len(config.deconv_out_channels) != len(config.deconv_kernel_sizes):
        raise ValueError(
            f"deconv_out_channels ({len(config.deconv_out_channels)} entries) and deconv_kernel_sizes "
            f"({len(config.deconv_kernel_sizes)} entries) must have the same length"
        )
    for index, kernel in enumerate(config.deconv_kernel_sizes):
        if kernel not in DECONV_PADDING:
            raise ValueError(f"deconv_kernel_sizes[{index}] = {kernel}; expected one of {sorted(DECONV_PADDING)}")
    for index, channels in enumerate(config.deconv_out_channels):
        if channels <= 0:
            raise ValueError(f"deconv_out_channels[{index}] = {channels} must be positive")
    if config.beta <= 0:
        raise ValueError(f"beta must be positive; got {config.beta}")
    for name in ("coordinate_loss_weight", "heatmap_loss_weight", "heatmap_sigma", "init_std"):
        if getattr(config, name) < 0:
            raise ValueError(f"{name} must be non-negative; got {getattr(config, name)}")


__all__ = ["IPRConfig", "validate_integral_head_config"]
