# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""MMPose's MobileNetV2 backbone as a transformers `BackboneMixin` model.

Paper: Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks", CVPR 2018 (Table 2, Fig. 4d).
Reference implementation: open-mmlab/mmpose@759b39c `mmpose/models/backbones/mobilenet_v2.py` (layout, key names,
`make_divisible`, ReLU6, Kaiming/constant init). Module names equal MMPose's, so an MMPose state dict loads after
stripping its `backbone.` prefix.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.activations import ACT2FN
from transformers.backbone_utils import BackboneMixin
from transformers.modeling_outputs import BackboneOutput

from ..gradient_checkpointing import make_checkpointable
from .configuration_mobilenet_v2 import PoseMobileNetV2Config

__all__ = ["PoseMobileNetV2PreTrainedModel", "PoseMobileNetV2Backbone"]


class PoseMobileNetV2ConvModule(nn.Module):
    """Conv2d (no bias) → BatchNorm2d → optional activation; keys `conv.*`, `bn.*` (mmcv `ConvModule`)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, groups=1, activation="relu6", eps=1e-5):
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2, groups=groups, bias=False
        )
        self.bn = nn.BatchNorm2d(out_channels, eps=eps)
        self.activation = ACT2FN[activation] if activation is not None else nn.Identity()

    def forward(self, hidden_state: torch.Tensor) -> torch.Tensor:
        return self.activation(self.bn(self.conv(hidden_state)))


class PoseMobileNetV2InvertedResidual(nn.Module):
    """Inverted residual block (Sandler et al. 2018, Fig. 4d): 1x1 expand (skipped when the ratio is 1) → 3x3
    depthwise with stride → 1x1 linear projection; identity shortcut when stride is 1 and widths match."""

    def __init__(self, in_channels, out_channels, stride, expand_ratio, activation, eps):
        super().__init__()
        hidden_channels = int(round(in_channels * expand_ratio))
        self.use_residual = stride == 1 and in_channels == out_channels
        layers = []
        if expand_ratio != 1:
            layers.append(PoseMobileNetV2ConvModule(in_channels, hidden_channels, 1, activation=activation, eps=eps))
        layers += [
            PoseMobileNetV2ConvModule(  # depthwise
                hidden_channels, hidden_channels, 3, stride, groups=hidden_channels, activation=activation, eps=eps
            ),
            PoseMobileNetV2ConvModule(hidden_channels, out_channels, 1, activation=None, eps=eps),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, hidden_state: torch.Tensor) -> torch.Tensor:
        if self.use_residual:
            return hidden_state + self.conv(hidden_state)
        return self.conv(hidden_state)


class PoseMobileNetV2PreTrainedModel(PreTrainedModel):
    supports_gradient_checkpointing = True  # backbone stages: hfpose.models.gradient_checkpointing
    config: PoseMobileNetV2Config
    config_class = PoseMobileNetV2Config
    base_model_prefix = "mobilenet_v2"
    main_input_name = "pixel_values"
    input_modalities = ("image",)

    @torch.no_grad()
    def _init_weights(self, module):
        """Kaiming-normal convolutions, BatchNorm weight 1 / bias 0 (MMPose MobileNetV2 `init_cfg`)."""
        super()._init_weights(module)
        if isinstance(module, nn.Conv2d):
            init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(module, nn.Linear):
            init.kaiming_uniform_(module.weight, a=math.sqrt(5))


class PoseMobileNetV2Backbone(BackboneMixin, PoseMobileNetV2PreTrainedModel):
    """MobileNetV2 feature extractor; `feature_maps` holds the stages named in `config.out_features`.

    Input `pixel_values` `(batch_size, 3, H, W)`; stage strides: stem 2, layer1 2, layer2 4, layer3 8, layer4 16,
    layer5 16, layer6 32, layer7 32, conv2 32. The default output (`conv2`) is `(batch_size, 1280, H/32, W/32)`.
    """

    has_attentions = False

    def __init__(self, config: PoseMobileNetV2Config):
        super().__init__(config)
        channels = config.stage_channels
        act, eps = config.hidden_act, config.batch_norm_eps
        self.conv1 = PoseMobileNetV2ConvModule(config.num_channels, channels[0], 3, stride=2, activation=act, eps=eps)
        in_channels = channels[0]
        self.layer_names = []
        for index, (expand_ratio, _, num_blocks, stride) in enumerate(config.arch_settings):
            out_channels = channels[index + 1]
            blocks = []
            for block_index in range(num_blocks):
                blocks.append(
                    PoseMobileNetV2InvertedResidual(
                        in_channels, out_channels, stride if block_index == 0 else 1, expand_ratio, act, eps
                    )
                )
                in_channels = out_channels
            name = f"layer{index + 1}"
            self.add_module(name, nn.Sequential(*blocks))
            self.layer_names.append(name)
        self.conv2 = PoseMobileNetV2ConvModule(in_channels, channels[-1], 1, activation=act, eps=eps)
        for name in self.layer_names:  # gradient checkpointing units
            make_checkpointable(getattr(self, name))
        self.num_features = list(channels)
        self.post_init()

    def forward(
        self,
        pixel_values: torch.Tensor,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> BackboneOutput | tuple:
        output_hidden_states = (
            output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states
        )
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        hidden_state = self.conv1(pixel_values)
        hidden_states = [hidden_state]
        for name in self.layer_names:
            hidden_state = getattr(self, name)(hidden_state)
            hidden_states.append(hidden_state)
        hidden_states.append(self.conv2(hidden_state))
        feature_maps = tuple(h for stage, h in zip(self.stage_names, hidden_states) if stage in self.out_features)
        all_hidden = tuple(hidden_states) if output_hidden_states else None
        if not return_dict:
            return (feature_maps,) + ((all_hidden,) if output_hidden_states else ())
        return BackboneOutput(feature_maps=feature_maps, hidden_states=all_hidden, attentions=None)
