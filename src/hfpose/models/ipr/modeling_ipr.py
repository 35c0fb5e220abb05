# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""The integral-regression family (IPR, DSNT, Debias-IPR): soft-argmax keypoint regression on softmax heatmaps.

One implementation, `IntegralRegressionForPoseEstimation`; the three methods are thin classes with their own config and
`model_type` whose differences are config data (class attributes of each config): `beta` (the softmax sharpness, a
field), `debias` (Gu et al.'s correction of the expectation) and `heatmap_loss` (`"mse"`: IPR's `KeypointMSELoss`,
`"js"`: DSNT's `JSDiscretLoss`). MMPose builds all three with one `DSNTHead`.

Paper: Sun, Xiao, Wei, Liang, Wei, "Integral Human Pose Regression", ECCV 2018.
Reference implementation: open-mmlab/mmpose@759b39c
`mmpose/models/heads/regression_heads/{dsnt_head,integral_regression_head}.py`, `mmpose/models/heads/heatmap_heads/
heatmap_head.py` (the SimpleBaseline deconvolution stack), `mmpose/models/losses/{regression_loss,heatmap_loss}.py`.

The released MMPose "IPR" config (`ipr_res50_8xb64-210e_coco-256x256.py`) builds a `DSNTHead` whose loss is smooth-L1 on
the integral coordinates plus `KeypointMSELoss` between the softmax heatmaps and normalized Gaussian targets; this model
reproduces that config. Setting `heatmap_loss_weight=0` gives the plain `IntegralRegressionHead` loss.

Pipeline (B batch, K keypoints, input 256x256, heatmaps 64x64):
    pixel_values (B, 3, 256, 256) -> ResNet last stage (B, 2048, 8, 8) -> 3 x [ConvTranspose2d(4, 2, 1) + BN + ReLU]
    -> Conv2d 1x1 -> logits (B, K, 64, 64) -> softmax over 64*64 of beta * logits -> heatmaps
    -> soft-argmax: x = sum p * j / 64, y = sum p * i / 64 [-> debias with C = sum exp(logits), Debias-IPR]
    -> keypoints (B, K, 2), normalized input coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.utils import ModelOutput

from ..backbones import backbone_out_channels, build_backbone, last_feature_map
from ..integral_utils import (
    debias_coordinates,
    flat_softmax,
    heatmap_mse_loss,
    js_divergence_loss,
    smooth_l1_coordinate_loss,
    soft_argmax,
)
from .configuration_ipr import DECONV_PADDING, IPRConfig

__all__ = [
    "HEATMAP_LOSSES",
    "IntegralRegressionForPoseEstimation",
    "IntegralRegressionHead",
    "IntegralRegressionPoseEstimatorOutput",
    "IntegralRegressionPreTrainedModel",
    "IPRPoseEstimatorOutput",
    "IPRHead",
    "IPRPreTrainedModel",
    "IPRForPoseEstimation",
    "check_integral_targets",
]

# `config.heatmap_loss` → the heatmap term of the loss (see `hfpose.models.integral_utils`).
HEATMAP_LOSSES = {"mse": heatmap_mse_loss, "js": js_divergence_loss}


@dataclass
class IntegralRegressionPoseEstimatorOutput(ModelOutput):
    r"""
    loss (`torch.FloatTensor` of shape `()`, *optional*, returned when `labels` is given):
        `loss_coordinates + loss_heatmap`.
    loss_coordinates (`torch.FloatTensor` of shape `()`, *optional*):
        `coordinate_loss_weight` x smooth-L1 between weighted predicted and target normalized coordinates.
    loss_heatmap (`torch.FloatTensor` of shape `()`, *optional*):
        `heatmap_loss_weight` x the `config.heatmap_loss` between `heatmaps` and `target_heatmaps`: weighted MSE
        (IPR), or Jensen-Shannon divergence of the weighted maps summed and divided by the batch size (DSNT,
        Debias-IPR); absent if the weight is 0.
    keypoints (`torch.FloatTensor` of shape `(batch_size, num_keypoints, 2)`):
        Predicted (x, y) (debiased when `config.debias`) in **normalized** input coordinates: multiply by
        `config.input_size` (w, h) for input pixels.
        Heatmap column j is input pixel x = j * w / W_heatmap (no half-pixel offset, as MMPose).
    scores (`torch.FloatTensor` of shape `(batch_size, num_keypoints)`):
        Constant 1 (MMPose's integral heads give no confidence).
    heatmaps (`torch.FloatTensor` of shape `(batch_size, num_keypoints, heatmap_height, heatmap_width)`):
        Softmax of `beta * logits` over each map (each sums to 1).
    logits (`torch.FloatTensor` of shape `(batch_size, num_keypoints, heatmap_height, heatmap_width)`):
        Raw head output before the softmax.
    hidden_states (`tuple(torch.FloatTensor)`, *optional*): backbone hidden states when `output_hidden_states=True`.
    """

    loss: torch.FloatTensor | None = None
    loss_coordinates: torch.FloatTensor | None = None
    loss_heatmap: torch.FloatTensor | None = None
    keypoints: torch.FloatTensor | None = None
    scores: torch.FloatTensor | None = None
    heatmaps: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None


def check_integral_targets(
    labels, label_weights, target_heatmaps, keypoints: torch.Tensor, heatmaps: torch.Tensor, need_heatmaps: bool
):
    """Validate the training targets of an integral model; returns `(labels, label_weights, target_heatmaps)`.

    Args:
        labels: `(B, K, 2)` normalized target coordinates.
        label_weights: `(B, K)` or `None` (ones).
        target_heatmaps: `(B, K, H, W)` normalized target heatmaps, or `None` when `need_heatmaps` is false.
        keypoints, heatmaps: the predictions the targets must match in shape.
    Raises:
        ValueError: a shape differs from the prediction's (names the argument), or `target_heatmaps` is missing
            while the heatmap loss is on.
    """
    batch_size, num_keypoints = keypoints.shape[:2]
    labels = torch.as_tensor(labels, device=keypoints.device, dtype=keypoints.dtype)
    if labels.shape != keypoints.shape:
        raise ValueError(
            f"labels must have shape (batch_size, num_keypoints, 2) = {tuple(keypoints.shape)}, "
            f"got {tuple(labels.shape)}"
        )
    if label_weights is None:
        label_weights = torch.ones(batch_size, num_keypoints, device=keypoints.device, dtype=keypoints.dtype)
    label_weights = torch.as_tensor(label_weights, device=keypoints.device, dtype=keypoints.dtype)
    if label_weights.shape != (batch_size, num_keypoints):
        raise ValueError(
            f"label_weights must have shape (batch_size, num_keypoints) = {(batch_size, num_keypoints)}, "
            f"got {tuple(label_weights.shape)}"
        )
    if target_heatmaps is None:
        if need_heatmaps:
            raise ValueError(
                "target_heatmaps (batch_size, num_keypoints, heatmap_height, heatmap_width) are required for the "
                "heatmap loss (encode them with IntegralRegressionLabel, or set heatmap_loss_weight=0)"
            )
        return labels, label_weights, None
    target_heatmaps = torch.as_tensor(target_heatmaps, device=heatmaps.device, dtype=heatmaps.dtype)
    if target_heatmaps.shape != heatmaps.shape:
        raise ValueError(
            f"target_heatmaps must have the shape of the predicted heatmaps {tuple(heatmaps.shape)}, "
            f"got {tuple(target_heatmaps.shape)}"
        )
    return labels, label_weights, target_heatmaps


class IntegralRegressionHead(nn.Module):
    """SimpleBaseline deconvolution head: n x [ConvTranspose2d(stride 2, no bias) + BN + ReLU] -> Conv2d 1x1 -> logits.

    Input `(B, C, h, w)` backbone features; output `(B, K, h * 2^n, w * 2^n)` logits. Module names follow MMPose's
    `HeatmapHead` (`deconv_layers.{3i}` deconvolution, `.{3i+1}` BatchNorm, `final_layer`) so the MMPose keys
    `head.simplebaseline_head.*` map onto `head.*` one to one.
    """

    def __init__(self, in_channels: int, config):
        super().__init__()
        layers = []
        for out_channels, kernel_size in zip(config.deconv_out_channels, config.deconv_kernel_sizes):
            padding, output_padding = DECONV_PADDING[kernel_size]
            layers += [
                nn.ConvTranspose2d(
                    in_channels,
                    out_channels,
                    kernel_size,
                    stride=2,
                    padding=padding,
                    output_padding=output_padding,
                    bias=False,
                ),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(inplace=True),
            ]
            in_channels = out_channels
        self.deconv_layers = nn.Sequential(*layers)
        self.final_layer = nn.Conv2d(in_channels, config.num_keypoints, kernel_size=1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.final_layer(self.deconv_layers(features))


class IntegralRegressionPreTrainedModel(PreTrainedModel):
    """Weight initialization shared by the integral family; each method sets `config_class` / `base_model_prefix`."""

    supports_gradient_checkpointing = True  # backbone stages: hfpose.models.gradient_checkpointing

    main_input_name = "pixel_values"
    input_modalities = ("image",)

    @torch.no_grad()
    def _init_weights(self, module):
        """MMPose `HeatmapHead` init: (de)convolutions normal(0, `init_std`), biases 0, BatchNorm weight 1, bias 0.

        The backbone (a transformers `PreTrainedModel`) is initialized by its own `_init_weights`.
        """
        super()._init_weights(module)
        if isinstance(module, (nn.ConvTranspose2d, nn.Conv2d)):
            init.normal_(module.weight, mean=0.0, std=self.config.init_std)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            init.ones_(module.weight)
            init.zeros_(module.bias)
            init.zeros_(module.running_mean)
            init.ones_(module.running_var)


class IntegralRegressionForPoseEstimation(IntegralRegressionPreTrainedModel):
    """Top-down integral regression: backbone -> `IntegralRegressionHead` -> softmax heatmaps -> soft-argmax
    coordinates (debiased when `config.debias`); loss smooth-L1 on the coordinates + `config.heatmap_loss`.

    Flip test is done outside the model (see `docs/architecture.md`): run the model on `pixel_values.flip(-1)` and
    pass both outputs to the image processor's `post_process_pose_estimation` (x <- 1 - x - 1/w_in, joints permuted).
    """

    output_class = IntegralRegressionPoseEstimatorOutput

    def __init__(self, config):
        super().__init__(config)
        if config.heatmap_loss not in HEATMAP_LOSSES:
            raise ValueError(f"heatmap_loss must be one of {list(HEATMAP_LOSSES)}, got {config.heatmap_loss!r}")
        self.backbone = build_backbone(config)
        self.head = IntegralRegressionHead(backbone_out_channels(self.backbone), config)
        self.post_init()

    def forward_head(
        self, feature_map, labels=None, label_weights=None, target_heatmaps=None, hidden_states=None
    ) -> IntegralRegressionPoseEstimatorOutput:
        """Head, decoding and loss on the backbone's last feature map `(B, C, h, w)`. See `forward`."""
        logits = self.head(feature_map)
        heatmaps = flat_softmax(logits, beta=self.config.beta)
        keypoints = soft_argmax(heatmaps)
        if self.config.debias:
            keypoints = debias_coordinates(keypoints, logits)  # C = sum exp(logits), without beta (as MMPose)
        batch_size, num_keypoints = keypoints.shape[:2]
        scores = torch.ones(batch_size, num_keypoints, device=keypoints.device, dtype=keypoints.dtype)

        loss = loss_coordinates = loss_heatmap = None
        if labels is not None:
            use_heatmap_loss = self.config.heatmap_loss_weight != 0
            labels, label_weights, target_heatmaps = check_integral_targets(
                labels, label_weights, target_heatmaps, keypoints, heatmaps, need_heatmaps=use_heatmap_loss
            )
            loss_coordinates = self.config.coordinate_loss_weight * smooth_l1_coordinate_loss(
                keypoints, labels, label_weights
            )
            loss = loss_coordinates
            if use_heatmap_loss:
                heatmap_loss = HEATMAP_LOSSES[self.config.heatmap_loss]
                loss_heatmap = self.config.heatmap_loss_weight * heatmap_loss(heatmaps, target_heatmaps, label_weights)
                loss = loss + loss_heatmap
        elif target_heatmaps is not None or label_weights is not None:
            raise ValueError("label_weights / target_heatmaps were given without labels; pass labels to get a loss")

        return self.output_class(
            loss=loss,
            loss_coordinates=loss_coordinates,
            loss_heatmap=loss_heatmap,
            keypoints=keypoints,
            scores=scores,
            heatmaps=heatmaps,
            logits=logits,
            hidden_states=hidden_states,
        )

    def forward(
        self,
        pixel_values: torch.Tensor,
        labels: torch.Tensor | None = None,
        label_weights: torch.Tensor | None = None,
        target_heatmaps: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> IntegralRegressionPoseEstimatorOutput | tuple:
        r"""
        Args:
            pixel_values (`torch.FloatTensor` of shape `(batch_size, 3, height, width)`):
                RGB crops, ImageNet-normalized, `(height, width) = config.input_size[::-1]`.
            labels (`torch.FloatTensor` of shape `(batch_size, num_keypoints, 2)`, *optional*):
                Normalized target coordinates (input pixels / (w, h)); gives `loss`.
            label_weights (`torch.FloatTensor` of shape `(batch_size, num_keypoints)`, *optional*):
                Per-keypoint loss weights (defaults to ones); weight both loss terms.
            target_heatmaps (`torch.FloatTensor` of shape `(batch_size, num_keypoints, H, W)`, *optional*):
                Gaussian targets normalized to sum 1 (`IntegralRegressionLabel(normalize=True)`), `(W, H) =
                config.heatmap_size`; required with `labels` unless `heatmap_loss_weight == 0`.
        Raises:
            ValueError: `pixel_values` not 4-D; a target of the wrong shape; `target_heatmaps` missing for the heatmap
                loss; weights or heatmaps given without `labels`.
        """
        if pixel_values.ndim != 4:
            raise ValueError(f"pixel_values must be (batch_size, 3, height, width), got {tuple(pixel_values.shape)}")
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        output_hidden_states = (
            output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states
        )
        feature_map, hidden_states = last_feature_map(self.backbone, pixel_values, output_hidden_states)
        output = self.forward_head(
            feature_map,
            labels=labels,
            label_weights=label_weights,
            target_heatmaps=target_heatmaps,
            hidden_states=hidden_states,
        )
        return output if return_dict else output.to_tuple()


# ------------------------------------------------------------------------------------------------------------ IPR


@dataclass
class IPRPoseEstimatorOutput(IntegralRegressionPoseEstimatorOutput):
    r"""Output of `IPRForPoseEstimation`: see `IntegralRegressionPoseEstimatorOutput` (heatmap loss: weighted MSE)."""


IPRHead = IntegralRegressionHead


class IPRPreTrainedModel(IntegralRegressionPreTrainedModel):
    config: IPRConfig
    config_class = IPRConfig
    base_model_prefix = "ipr"


class IPRForPoseEstimation(IntegralRegressionForPoseEstimation):
    """Top-down IPR (Sun et al., ECCV 2018) as MMPose's `ipr_res50_8xb64-210e_coco-256x256`: the integral family with
    `beta=1`, no debias, heatmap MSE loss (`IPRConfig`)."""

    config: IPRConfig
    config_class = IPRConfig
    base_model_prefix = "ipr"
    output_class = IPRPoseEstimatorOutput
