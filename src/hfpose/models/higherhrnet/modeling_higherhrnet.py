# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""HigherHRNet with associative embedding (HigherHRNet-AE).

Source: Cheng et al., "HigherHRNet: Scale-Aware Representation Learning for Bottom-Up Human Pose Estimation",
CVPR 2020, Sec. 3 (deconvolution module on concat(features, 1/4 predictions), heatmap aggregation); UDP: Huang
et al., CVPR 2020. Reference implementation: MMPose 0.29 `AEHigherResolutionHead` (open-mmlab/mmpose@v0.29.0,
`configs/body/2d_kpt_sview_rgb_img/associative_embedding/coco/higherhrnet_w32_coco_512x512_udp.py`).

Parameter names mirror MMPose's (`backbone.*`, `final_layers.*`, `deconv_layers.*`), so conversion renames only
the `keypoint_head.` prefix. Grouping and the test-time flip/aggregation live in the bottom-up image processor.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import PreTrainedModel

from ..associative_embedding.modeling_associative_embedding import (
    AssociativeEmbeddingPoseEstimatorOutput,
    compute_bottomup_loss,
)
from ..gradient_checkpointing import NonReentrantCheckpointingMixin
from ..hrnet.modeling_hrnet import HRNetBackbone, HRNetBasicBlock
from .configuration_higherhrnet import HigherHRNetConfig

__all__ = ["HigherHRNetPoseEstimatorOutput", "HigherHRNetPreTrainedModel", "HigherHRNetForPoseEstimation"]


@dataclass
class HigherHRNetPoseEstimatorOutput(AssociativeEmbeddingPoseEstimatorOutput):
    r"""Output of [`HigherHRNetForPoseEstimation`]: the fields of [`AssociativeEmbeddingPoseEstimatorOutput`], with
    `heatmaps` = `((B, K, H/4, W/4), (B, K, H/2, W/2))` (one more entry per extra deconvolution layer) and
    `tags` `(B, K, H/4, W/4)` from the 1/4 stage only."""


class HigherHRNetPreTrainedModel(NonReentrantCheckpointingMixin, PreTrainedModel):
    """Weight init as MMPose: convs and deconvs N(0, `initializer_range`²) (0.001), biases 0, BatchNorm 1 / 0."""

    supports_gradient_checkpointing = True  # backbone stages: hfpose.models.gradient_checkpointing

    config: HigherHRNetConfig
    config_class = HigherHRNetConfig
    # Not "backbone": `model.base_model` would then be the HRNet backbone, whose config is not this model's, so
    # saving it and loading that into this class gives a default w32 config. As VitPose, no separate base model.
    base_model_prefix = "higherhrnet"
    main_input_name = "pixel_values"
    input_modalities = ("image",)

    @torch.no_grad()
    def _init_weights(self, module):
        super()._init_weights(module)


class HigherHRNetForPoseEstimation(HigherHRNetPreTrainedModel):
    """HigherHRNet-AE: HRNet stride-4 branch → `final_layers.0` (K heatmaps + K tags at 1/4) → for each
    deconvolution layer i: concat(features, previous output) → `deconv_layers.i` (ConvTranspose2d 4x4 stride 2 +
    BN + ReLU, then BasicBlocks) → `final_layers.{i+1}` (K heatmaps at twice the resolution)."""

    def __init__(self, config: HigherHRNetConfig):
        super().__init__(config)
        self.backbone = HRNetBackbone(config.backbone_config)
        width = config.backbone_config.hidden_sizes[0]
        num_keypoints = config.num_keypoints
        bn = config.backbone_config
        self.final_layers = nn.ModuleList([nn.Conv2d(width, 2 * num_keypoints, 1)])
        self.deconv_layers = nn.ModuleList()
        in_channels = width + 2 * num_keypoints
        for _ in range(config.num_deconv_layers):
            upsample = nn.Sequential(
                nn.ConvTranspose2d(in_channels, width, 4, stride=2, padding=1, output_padding=0, bias=False),
                nn.BatchNorm2d(width, eps=bn.batch_norm_eps, momentum=bn.batch_norm_momentum),
                nn.ReLU(inplace=True),
            )
            # MMPose wraps each BasicBlock in its own Sequential (keys `deconv_layers.i.{1..n}.0.*`).
            blocks = [nn.Sequential(HRNetBasicBlock(width, width, bn)) for _ in range(config.num_basic_blocks)]
            self.deconv_layers.append(nn.Sequential(upsample, *blocks))
            self.final_layers.append(nn.Conv2d(width, num_keypoints, 1))
            in_channels = width + num_keypoints
        self.post_init()

    def forward(
        self,
        pixel_values: torch.Tensor,
        target_heatmaps: tuple[torch.Tensor, ...] | None = None,
        target_masks: tuple[torch.Tensor, ...] | None = None,
        joints: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> HigherHRNetPoseEstimatorOutput | tuple:
        r"""
        Args:
            pixel_values (`torch.FloatTensor` of shape `(batch_size, 3, height, width)`): RGB, ImageNet-normalized;
                height and width multiples of 32 (the processor pads to multiples of 64).
            target_heatmaps (`tuple[torch.FloatTensor]`, *optional*): per resolution `(B, K, H/4, W/4)`,
                `(B, K, H/2, W/2)`.
            target_masks (`tuple[torch.FloatTensor]`, *optional*): per resolution `(B, H/4, W/4)`, `(B, H/2, W/2)`.
            joints (`torch.LongTensor` of shape `(B, max_people, K, 2)`, *optional*): `[k·H·W + y·W + x, flag]`
                indices into the 1/4 tag maps (MMPose 0.x `joints[0]`; a tuple per resolution is accepted and its
                first entry used, since only the 1/4 stage has tags).

        Returns:
            [`HigherHRNetPoseEstimatorOutput`]; `loss` when all three targets are given.

        Raises:
            ValueError: bad `pixel_values` shape or inconsistent targets (see `compute_bottomup_loss`).
        """
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        output_hidden_states = (
            output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states
        )
        backbone_outputs = self.backbone(pixel_values, output_hidden_states=output_hidden_states, return_dict=True)
        features = backbone_outputs.feature_maps[self.backbone.out_features.index("branch1")]

        output = self.final_layers[0](features)
        stage_outputs = [output]
        for deconv, final_layer in zip(self.deconv_layers, self.final_layers[1:]):
            features = deconv(torch.cat((features, output), dim=1))
            output = final_layer(features)
            stage_outputs.append(output)

        num_keypoints = self.config.num_keypoints
        losses = compute_bottomup_loss(self.config, stage_outputs, target_heatmaps, target_masks, joints) or {}
        loss = None
        if losses:
            loss = losses["loss_heatmap"] + losses["loss_push"] + losses["loss_pull"]
        result = HigherHRNetPoseEstimatorOutput(
            loss=loss,
            loss_heatmap=losses.get("loss_heatmap"),
            loss_push=losses.get("loss_push"),
            loss_pull=losses.get("loss_pull"),
            heatmaps=tuple(out[:, :num_keypoints] for out in stage_outputs),
            tags=stage_outputs[0][:, num_keypoints:],
            hidden_states=backbone_outputs.hidden_states,
        )
        return result if return_dict else result.to_tuple()
