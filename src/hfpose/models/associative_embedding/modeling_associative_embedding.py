# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Bottom-up associative embedding with an HRNet backbone (HRNet-AE).

Source: Newell et al., "Associative Embedding: End-to-End Learning for Joint Detection and Grouping", NeurIPS
2017; Sun et al., "Deep High-Resolution Representation Learning for Human Pose Estimation", CVPR 2019; UDP:
Huang et al., "The Devil is in the Details: Delving into Unbiased Data Processing for Human Pose Estimation",
CVPR 2020. Reference implementation: MMPose 0.29 `AssociativeEmbedding` + `AESimpleHead(num_deconv_layers=0)`
(open-mmlab/mmpose@v0.29.0, `configs/body/2d_kpt_sview_rgb_img/associative_embedding/coco/
hrnet_w32_coco_512x512_udp.py`).

The network only produces maps; grouping (`HeatmapParser`) and the test-time flip/resize live in the bottom-up
image processor. Parameter names mirror MMPose (`backbone.*`, `final_layer.*`), so conversion renames only the
head prefix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.utils import ModelOutput

from ..gradient_checkpointing import NonReentrantCheckpointingMixin
from ..hrnet.modeling_hrnet import HRNetBackbone
from .configuration_associative_embedding import AssociativeEmbeddingConfig
from .loss import multi_resolution_ae_loss

__all__ = [
    "AssociativeEmbeddingPoseEstimatorOutput",
    "AssociativeEmbeddingPreTrainedModel",
    "AssociativeEmbeddingForPoseEstimation",
    "compute_bottomup_loss",
]


@dataclass
class AssociativeEmbeddingPoseEstimatorOutput(ModelOutput):
    r"""Output of the bottom-up associative-embedding models.

    Args:
        loss (`torch.FloatTensor` of shape `()`, *optional*): `loss_heatmap + loss_push + loss_pull`, returned when
            `target_heatmaps`, `target_masks` and `joints` are given.
        loss_heatmap (`torch.FloatTensor` of shape `()`, *optional*): masked heatmap MSE, batch mean, summed over
            resolutions (× `heatmap_loss_factors`).
        loss_push (`torch.FloatTensor` of shape `()`, *optional*): AE push loss (× `push_loss_factor`), batch mean.
        loss_pull (`torch.FloatTensor` of shape `()`, *optional*): AE pull loss (× `pull_loss_factor`), batch mean.
        heatmaps (`tuple[torch.FloatTensor]`): one `(batch_size, num_keypoints, height_s, width_s)` per output
            resolution, highest stride first: 1/4 of the input (and 1/2 for HigherHRNet). Heatmap pixel (x, y) ↔
            input pixel x·(w_in − 1)/(W − 1) (UDP, pixel centres at integers).
        tags (`torch.FloatTensor` of shape `(batch_size, num_keypoints, height / 4, width / 4)`): one tag map per
            keypoint (tag dimension 1), at 1/4 of the input.
        hidden_states (`tuple[torch.FloatTensor]`, *optional*): the backbone's `stage_names` outputs, when
            `output_hidden_states=True`.
    """

    loss: torch.FloatTensor | None = None
    loss_heatmap: torch.FloatTensor | None = None
    loss_push: torch.FloatTensor | None = None
    loss_pull: torch.FloatTensor | None = None
    heatmaps: tuple[torch.FloatTensor, ...] | None = None
    tags: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None


def _as_stages(value, name: str, num_stages: int) -> tuple[torch.Tensor, ...]:
    if isinstance(value, torch.Tensor):
        value = (value,)
    if not isinstance(value, Sequence) or not all(isinstance(v, torch.Tensor) for v in value):
        raise TypeError(f"{name} must be a tuple of tensors (one per output resolution), got {type(value).__name__}")
    if len(value) != num_stages:
        raise ValueError(f"{name} must have {num_stages} entries (one per output resolution), got {len(value)}")
    return tuple(value)


def compute_bottomup_loss(
    config,
    stage_outputs: Sequence[torch.Tensor],
    target_heatmaps,
    target_masks,
    joints,
) -> dict[str, torch.Tensor] | None:
    """Validate the training targets of a bottom-up model and compute its loss (None when no targets are given).

    Args:
        config: an `AssociativeEmbeddingConfig` or `HigherHRNetConfig` (loss factors, `num_keypoints`).
        stage_outputs: raw head outputs per resolution (stage 0: K heatmaps + K tags).
        target_heatmaps (tuple of `(B, K, H_s, W_s)`), target_masks (tuple of `(B, H_s, W_s)`): per resolution; a
            single tensor is accepted for a single-resolution model.
        joints (`(B, M, K, 2)` integer, or a tuple per resolution of which the first is used): AE indices into
            the stage-0 tag maps flattened over `(K, H_0, W_0)`.

    Raises:
        ValueError: if only some of the three targets are given, or their counts/shapes disagree with the outputs.
        TypeError: if a target is not a tensor or tuple of tensors.
    """
    given = {"target_heatmaps": target_heatmaps, "target_masks": target_masks, "joints": joints}
    if all(v is None for v in given.values()):
        return None
    missing = [name for name, v in given.items() if v is None]
    if missing:
        raise ValueError(f"training needs target_heatmaps, target_masks and joints together; missing {missing}")
    num_stages = len(stage_outputs)
    target_heatmaps = _as_stages(target_heatmaps, "target_heatmaps", num_stages)
    target_masks = _as_stages(target_masks, "target_masks", num_stages)
    if not isinstance(joints, torch.Tensor):
        if not isinstance(joints, Sequence) or len(joints) == 0 or not isinstance(joints[0], torch.Tensor):
            raise TypeError(f"joints must be a tensor or a tuple of tensors, got {type(joints).__name__}")
        joints = joints[0]
    for s, (output, target) in enumerate(zip(stage_outputs, target_heatmaps)):
        expected = (output.shape[0], config.num_keypoints, *output.shape[2:])
        if tuple(target.shape) != expected:
            raise ValueError(f"target_heatmaps[{s}] must have shape {expected}, got {tuple(target.shape)}")
    return multi_resolution_ae_loss(
        stage_outputs,
        [t.to(stage_outputs[0].dtype) for t in target_heatmaps],
        target_masks,
        joints,
        num_keypoints=config.num_keypoints,
        heatmap_loss_factors=config.heatmap_loss_factors,
        push_loss_factor=config.push_loss_factor,
        pull_loss_factor=config.pull_loss_factor,
        supervise_empty=config.supervise_empty,
        loss_type=config.tag_loss_type,
    )


class AssociativeEmbeddingPreTrainedModel(NonReentrantCheckpointingMixin, PreTrainedModel):
    """Weight init as MMPose: convs N(0, `initializer_range`²) (0.001), biases 0, BatchNorm weight 1 / bias 0."""

    supports_gradient_checkpointing = True  # backbone stages: hfpose.models.gradient_checkpointing

    config: AssociativeEmbeddingConfig
    config_class = AssociativeEmbeddingConfig
    # Not "backbone": `model.base_model` would then be the HRNet backbone, whose config is not this model's, so
    # saving it and loading that into this class gives a default w32 config. As VitPose, no separate base model.
    base_model_prefix = "associative_embedding"
    main_input_name = "pixel_values"
    input_modalities = ("image",)

    @torch.no_grad()
    def _init_weights(self, module):
        super()._init_weights(module)


class AssociativeEmbeddingForPoseEstimation(AssociativeEmbeddingPreTrainedModel):
    """HRNet-AE: HRNet's stride-4 branch → `final_layer` 1x1 conv to `2K` channels (K heatmaps, then K tags)."""

    def __init__(self, config: AssociativeEmbeddingConfig):
        super().__init__(config)
        self.backbone = HRNetBackbone(config.backbone_config)
        self.final_layer = nn.Conv2d(config.backbone_config.hidden_sizes[0], 2 * config.num_keypoints, 1)
        self.post_init()

    def forward(
        self,
        pixel_values: torch.Tensor,
        target_heatmaps: tuple[torch.Tensor, ...] | torch.Tensor | None = None,
        target_masks: tuple[torch.Tensor, ...] | torch.Tensor | None = None,
        joints: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> AssociativeEmbeddingPoseEstimatorOutput | tuple:
        r"""
        Args:
            pixel_values (`torch.FloatTensor` of shape `(batch_size, 3, height, width)`): RGB, ImageNet-normalized;
                height and width multiples of 32 (the processor pads to multiples of 64).
            target_heatmaps (`tuple[torch.FloatTensor]`, *optional*): one `(B, K, H/4, W/4)` heatmap target.
            target_masks (`tuple[torch.FloatTensor]`, *optional*): one `(B, H/4, W/4)` mask (1 = supervised).
            joints (`torch.LongTensor` of shape `(B, max_people, K, 2)`, *optional*): `[k·H·W + y·W + x, flag]` per
                person slot (MMPose 0.x `joints`), indices into the tag maps.

        Returns:
            [`AssociativeEmbeddingPoseEstimatorOutput`]; `loss` when all three targets are given.

        Raises:
            ValueError: bad `pixel_values` shape or inconsistent targets (see `compute_bottomup_loss`).
        """
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        output_hidden_states = (
            output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states
        )
        backbone_outputs = self.backbone(pixel_values, output_hidden_states=output_hidden_states, return_dict=True)
        features = backbone_outputs.feature_maps[self.backbone.out_features.index("branch1")]
        output = self.final_layer(features)
        num_keypoints = self.config.num_keypoints

        losses = compute_bottomup_loss(self.config, [output], target_heatmaps, target_masks, joints) or {}
        loss = None
        if losses:
            loss = losses["loss_heatmap"] + losses["loss_push"] + losses["loss_pull"]
        result = AssociativeEmbeddingPoseEstimatorOutput(
            loss=loss,
            loss_heatmap=losses.get("loss_heatmap"),
            loss_push=losses.get("loss_push"),
            loss_pull=losses.get("loss_pull"),
            heatmaps=(output[:, :num_keypoints],),
            tags=output[:, num_keypoints:],
            hidden_states=backbone_outputs.hidden_states,
        )
        return result if return_dict else result.to_tuple()
