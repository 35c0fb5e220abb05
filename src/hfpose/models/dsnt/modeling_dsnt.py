# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""DSNT: soft-argmax keypoint regression with a Jensen-Shannon heatmap regularizer.

Paper: Nibali, Ho, Morgan, Prendergast, "Numerical Coordinate Regression with Convolutional Neural Networks",
arXiv:1801.07372, 2018 (Sec. 3 DSNT, Sec. 4.2 JS regularization); dsntnn (anibali/dsntnn).
Reference implementation: open-mmlab/mmpose@759b39c
`mmpose/models/heads/regression_heads/{dsnt_head,integral_regression_head}.py`, `mmpose/models/heads/heatmap_heads/
heatmap_head.py` (the SimpleBaseline deconvolution stack), `mmpose/models/losses/{regression_loss,heatmap_loss}.py`.

Reproduces MMPose's `ipr_res50_dsnt-8xb64-210e_coco-256x256.py`: a `DSNTHead` whose loss is smooth-L1 on the
soft-argmax coordinates plus `JSDiscretLoss` between the softmax heatmaps and normalized Gaussian targets. Its network
and inference are those of IPR; only the heatmap loss differs. MMPose's DSNT expectation uses x = j / W (heatmap column
j is input x = j * w_in / W), not dsntnn's [-1, 1] pixel-centre grid.

Pipeline (B batch, K keypoints, input 256x256, heatmaps 64x64):
    pixel_values (B, 3, 256, 256) -> ResNet last stage (B, 2048, 8, 8) -> 3 x [ConvTranspose2d(4, 2, 1) + BN + ReLU]
    -> Conv2d 1x1 -> logits (B, K, 64, 64) -> softmax over 64*64 of beta * logits -> heatmaps
    -> soft-argmax: x = sum p * j / 64, y = sum p * i / 64 -> keypoints (B, K, 2), normalized input coordinates.

The implementation is the integral family's one
(`hfpose.models.ipr.modeling_ipr.IntegralRegressionForPoseEstimation`);
this method is its config (`beta`, `debias`, `heatmap_loss`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ipr.modeling_ipr import (
    IntegralRegressionForPoseEstimation,
    IntegralRegressionHead,
    IntegralRegressionPoseEstimatorOutput,
    IntegralRegressionPreTrainedModel,
)
from .configuration_dsnt import DSNTConfig

__all__ = [
    "DSNTPoseEstimatorOutput",
    "DSNTHead",
    "DSNTPreTrainedModel",
    "DSNTForPoseEstimation",
]


@dataclass
class DSNTPoseEstimatorOutput(IntegralRegressionPoseEstimatorOutput):
    r"""Output of `DSNTForPoseEstimation`: see `IntegralRegressionPoseEstimatorOutput` (Jensen-Shannon heatmap loss)."""


DSNTHead = IntegralRegressionHead


class DSNTPreTrainedModel(IntegralRegressionPreTrainedModel):
    config: DSNTConfig
    config_class = DSNTConfig
    base_model_prefix = "dsnt"


class DSNTForPoseEstimation(IntegralRegressionForPoseEstimation):
    """Top-down DSNT as MMPose's `ipr_res50_dsnt-8xb64-210e_coco-256x256`: the integral family
    (`hfpose.models.ipr.modeling_ipr.IntegralRegressionForPoseEstimation`) with `beta=1`, no debias and the
    Jensen-Shannon heatmap loss (`DSNTConfig`)."""

    config: DSNTConfig
    config_class = DSNTConfig
    base_model_prefix = "dsnt"
    output_class = DSNTPoseEstimatorOutput
