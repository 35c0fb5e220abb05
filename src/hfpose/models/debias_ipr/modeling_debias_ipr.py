# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Debias-IPR: integral keypoint regression with the softmax background's bias removed from the expectation.

Paper: Gu, Yang, Yao, "Removing the Bias of Integral Pose Regression", ICCV 2021 (Eq. 7, debiased expectation).
Reference implementation: open-mmlab/mmpose@759b39c
`mmpose/models/heads/regression_heads/{dsnt_head,integral_regression_head}.py` (`debias=True`),
`mmpose/models/heads/heatmap_heads/heatmap_head.py` (the SimpleBaseline deconvolution stack),
`mmpose/models/losses/{regression_loss,heatmap_loss}.py`.

Reproduces MMPose's `ipr_res50_debias-8xb64-210e_coco-256x256.py`: the DSNT network and loss (smooth-L1 on the
coordinates + `JSDiscretLoss` on the heatmaps) with `beta=10`, the coordinates corrected as
x <- C / (C - 1) * (x - 1 / (2C)), C = sum over the map of exp(logits) -- without beta, as MMPose.

Pipeline (B batch, K keypoints, input 256x256, heatmaps 64x64):
    pixel_values (B, 3, 256, 256) -> ResNet last stage (B, 2048, 8, 8) -> 3 x [ConvTranspose2d(4, 2, 1) + BN + ReLU]
    -> Conv2d 1x1 -> logits (B, K, 64, 64) -> softmax over 64*64 of beta * logits -> heatmaps
    -> soft-argmax: x = sum p * j / 64, y = sum p * i / 64 -> debias with C = sum exp(logits)
    -> keypoints (B, K, 2), normalized input coordinates.

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
from .configuration_debias_ipr import DebiasIPRConfig

__all__ = [
    "DebiasIPRPoseEstimatorOutput",
    "DebiasIPRHead",
    "DebiasIPRPreTrainedModel",
    "DebiasIPRForPoseEstimation",
]


@dataclass
class DebiasIPRPoseEstimatorOutput(IntegralRegressionPoseEstimatorOutput):
    r"""Output of `DebiasIPRForPoseEstimation`: see `IntegralRegressionPoseEstimatorOutput` (debiased
    keypoints; heatmap loss: Jensen-Shannon)."""


DebiasIPRHead = IntegralRegressionHead


class DebiasIPRPreTrainedModel(IntegralRegressionPreTrainedModel):
    config: DebiasIPRConfig
    config_class = DebiasIPRConfig
    base_model_prefix = "debias_ipr"


class DebiasIPRForPoseEstimation(IntegralRegressionForPoseEstimation):
    """Top-down Debias-IPR as MMPose's `ipr_res50_debias-8xb64-210e_coco-256x256`: the integral family
    (`hfpose.models.ipr.modeling_ipr.IntegralRegressionForPoseEstimation`) with `beta=10`, the debiased expectation
    and the Jensen-Shannon heatmap loss (`DebiasIPRConfig`)."""

    config: DebiasIPRConfig
    config_class = DebiasIPRConfig
    base_model_prefix = "debias_ipr"
    output_class = DebiasIPRPoseEstimatorOutput
