# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""DeepPose: direct regression of normalized keypoint coordinates from a global image feature.

Paper: Toshev & Szegedy, "DeepPose: Human Pose Estimation via Deep Neural Networks", CVPR 2014 (one-stage variant
with a ResNet backbone and smooth-L1 loss, as in MMPose).
Reference implementation: open-mmlab/mmpose@759b39c `models/heads/regression_heads/regression_head.py`,
`models/necks/gap_neck.py`, `models/losses/regression_loss.py::SmoothL1Loss`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.utils import ModelOutput

from ..backbones import backbone_out_channels, build_backbone, last_feature_map
from .configuration_deeppose import DeepPoseConfig

__all__ = [
    "DeepPosePoseEstimatorOutput",
    "DeepPoseHead",
    "DeepPosePreTrainedModel",
    "DeepPoseForPoseEstimation",
    "smooth_l1_keypoint_loss",
    "check_regression_labels",
]


@dataclass
class DeepPosePoseEstimatorOutput(ModelOutput):
    r"""
    loss (`torch.FloatTensor` of shape `()`, *optional*, returned when `labels` is given):
        Smooth-L1 loss (see `smooth_l1_keypoint_loss`).
    keypoints (`torch.FloatTensor` of shape `(batch_size, num_keypoints, 2)`):
        Predicted (x, y) in **normalized** input coordinates: input-crop pixels divided by `config.input_size`
        (w, h), no half-pixel offset (MMPose `RegressionLabel`).
    scores (`torch.FloatTensor` of shape `(batch_size, num_keypoints)`):
        Constant 1 (DeepPose has no confidence output).
    hidden_states (`tuple(torch.FloatTensor)`, *optional*): backbone hidden states when `output_hidden_states=True`.
    """

    loss: torch.FloatTensor | None = None
    keypoints: torch.FloatTensor | None = None
    scores: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None


def check_regression_labels(labels, label_weights, batch_size: int, num_keypoints: int, device, dtype):
    """Validate `labels` `(B, K, 2)` and `label_weights` `(B, K)` (defaults to ones); returns both as tensors.

    Raises:
        ValueError: if a shape does not match `(batch_size, num_keypoints, 2)` / `(batch_size, num_keypoints)`.
    """
    labels = torch.as_tensor(labels, device=device, dtype=dtype)
    if labels.shape != (batch_size, num_keypoints, 2):
        raise ValueError(
            f"labels must have shape (batch_size, num_keypoints, 2) = {(batch_size, num_keypoints, 2)}, "
            f"got {tuple(labels.shape)}"
        )
    if label_weights is None:
        label_weights = torch.ones(batch_size, num_keypoints, device=device, dtype=dtype)
    label_weights = torch.as_tensor(label_weights, device=device, dtype=dtype)
    if label_weights.shape != (batch_size, num_keypoints):
        raise ValueError(
            f"label_weights must have shape (batch_size, num_keypoints) = {(batch_size, num_keypoints)}, "
            f"got {tuple(label_weights.shape)}"
        )
    return labels, label_weights


def smooth_l1_keypoint_loss(
    predictions: torch.Tensor, labels: torch.Tensor, label_weights: torch.Tensor, beta: float = 1.0
) -> torch.Tensor:
    """Weighted smooth-L1 loss on normalized coordinates.

    loss = mean over B·K·2 of smoothL1_β(w·pred − w·target), with w = `label_weights[..., None]`; smoothL1_β(d) =
    0.5·d²/β if |d| < β else |d| − 0.5·β.

    Args:
        predictions, labels: `(B, K, 2)` normalized coordinates.
        label_weights: `(B, K)`, usually in {0, 1}.
    Source: Girshick, "Fast R-CNN", ICCV 2015, Eq. 3; MMPose `SmoothL1Loss(use_target_weight=True)`.
    """
    weights = label_weights.unsqueeze(-1)
    return F.smooth_l1_loss(predictions * weights, labels * weights, reduction="mean", beta=beta)


class DeepPoseHead(nn.Module):
    """Linear(C, K * 2) on the pooled feature; output `(B, K, 2)` normalized (x, y). Key `fc.*` as MMPose."""

    def __init__(self, in_channels: int, num_keypoints: int):
        super().__init__()
        self.num_keypoints = num_keypoints
        self.fc = nn.Linear(in_channels, num_keypoints * 2)

    def forward(self, pooled_features: torch.Tensor) -> torch.Tensor:
        return self.fc(pooled_features).reshape(-1, self.num_keypoints, 2)


class DeepPosePreTrainedModel(PreTrainedModel):
    supports_gradient_checkpointing = True  # backbone stages: hfpose.models.gradient_checkpointing
    config: DeepPoseConfig
    config_class = DeepPoseConfig
    base_model_prefix = "deeppose"
    main_input_name = "pixel_values"
    input_modalities = ("image",)

    @torch.no_grad()
    def _init_weights(self, module):
        """PyTorch's default `nn.Linear` init for the regression layer (MMPose leaves it at the default)."""
        super()._init_weights(module)
        if isinstance(module, nn.Linear):
            init.kaiming_uniform_(module.weight, a=math.sqrt(5))
            if module.bias is not None:
                bound = 1 / math.sqrt(module.weight.shape[1])
                init.uniform_(module.bias, -bound, bound)


class DeepPoseForPoseEstimation(DeepPosePreTrainedModel):
    """Top-down DeepPose: backbone → global average pooling → `DeepPoseHead`.

    Flip test is done outside the model (see `docs/architecture.md`): run the model on `pixel_values.flip(-1)` and
    pass both outputs to the image processor's `post_process_pose_estimation`.
    """

    def __init__(self, config: DeepPoseConfig):
        super().__init__(config)
        self.backbone = build_backbone(config)
        self.head = DeepPoseHead(backbone_out_channels(self.backbone), config.num_keypoints)
        self.post_init()

    def forward_head(
        self, pooled_features, labels=None, label_weights=None, hidden_states=None
    ) -> DeepPosePoseEstimatorOutput:
        """Head and loss on pooled backbone features `(B, C)` (MMPose's neck output). See `forward`."""
        keypoints = self.head(pooled_features)
        batch_size, num_keypoints = keypoints.shape[:2]
        loss = None
        if labels is not None:
            labels, label_weights = check_regression_labels(
                labels, label_weights, batch_size, num_keypoints, keypoints.device, keypoints.dtype
            )
            loss = smooth_l1_keypoint_loss(keypoints, labels, label_weights, beta=self.config.smooth_l1_beta)
        scores = torch.ones(batch_size, num_keypoints, device=keypoints.device, dtype=keypoints.dtype)
        return DeepPosePoseEstimatorOutput(loss=loss, keypoints=keypoints, scores=scores, hidden_states=hidden_states)

    def forward(
        self,
        pixel_values: torch.Tensor,
        labels: torch.Tensor | None = None,
        label_weights: torch.Tensor | None = None,
        target_heatmaps: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> DeepPosePoseEstimatorOutput | tuple:
        r"""
        Args:
            pixel_values (`torch.FloatTensor` of shape `(batch_size, 3, height, width)`):
                RGB crops, ImageNet-normalized, `(height, width) = config.input_size[::-1]`.
            labels (`torch.FloatTensor` of shape `(batch_size, num_keypoints, 2)`, *optional*):
                Normalized targets (input pixels / (w, h)); gives `loss`.
            label_weights (`torch.FloatTensor` of shape `(batch_size, num_keypoints)`, *optional*):
                Per-keypoint loss weights (defaults to ones).
            target_heatmaps: accepted for a uniform top-down interface and ignored (integral methods only).
        Raises:
            ValueError: if `pixel_values` is not 4-D or `labels` / `label_weights` have the wrong shape.
        """
        if pixel_values.ndim != 4:
            raise ValueError(f"pixel_values must be (batch_size, 3, height, width), got {tuple(pixel_values.shape)}")
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        output_hidden_states = (
            output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states
        )
        feature_map, hidden_states = last_feature_map(self.backbone, pixel_values, output_hidden_states)
        pooled = feature_map.mean(dim=(2, 3))  # MMPose GlobalAveragePooling
        output = self.forward_head(pooled, labels=labels, label_weights=label_weights, hidden_states=hidden_states)
        return output if return_dict else output.to_tuple()
