# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""HRNet backbone (high-resolution network), as a transformers backbone.

Source: Sun et al., "Deep High-Resolution Representation Learning for Human Pose Estimation", CVPR 2019, Sec. 3
(parallel multi-resolution branches, repeated multi-scale fusion). Reference implementation: MMPose 0.29
`mmpose/models/backbones/hrnet.py` (`HRNet`, `HRModule`), open-mmlab/mmpose@v0.29.0.

The module names mirror MMPose's (`conv1`, `bn1`, `layer1`, `transition1`, `stage2`, ..., `branches`,
`fuse_layers`) so that MMPose checkpoints load with their `backbone.*` keys unchanged.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.backbone_utils import BackboneMixin
from transformers.modeling_outputs import BackboneOutput

from ..gradient_checkpointing import NonReentrantCheckpointingMixin, make_checkpointable
from .configuration_hrnet import HRNetConfig

__all__ = ["HRNetPreTrainedModel", "HRNetBackbone", "HRNetBasicBlock", "HRNetBottleneck", "HRNetModule"]


def _batch_norm(channels: int, config: HRNetConfig) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=config.batch_norm_eps, momentum=config.batch_norm_momentum)


class HRNetBasicBlock(nn.Module):
    """Residual block: 3x3 conv-BN-ReLU, 3x3 conv-BN, + identity (or `downsample`), ReLU (He et al., 2016)."""

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, config: HRNetConfig, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = _batch_norm(out_channels, config)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = _batch_norm(out_channels, config)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), _batch_norm(out_channels, config)
            )

    def forward(self, hidden_state: torch.Tensor) -> torch.Tensor:
        identity = hidden_state if self.downsample is None else self.downsample(hidden_state)
        out = self.relu(self.bn1(self.conv1(hidden_state)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class HRNetBottleneck(nn.Module):
    """Bottleneck block: 1x1 (in→mid), 3x3 (mid→mid), 1x1 (mid→4·mid), each with BN, + identity, ReLU."""

    expansion = 4

    def __init__(self, in_channels: int, mid_channels: int, config: HRNetConfig):
        super().__init__()
        out_channels = mid_channels * self.expansion
        self.conv1 = nn.Conv2d(in_channels, mid_channels, 1, bias=False)
        self.bn1 = _batch_norm(mid_channels, config)
        self.conv2 = nn.Conv2d(mid_channels, mid_channels, 3, padding=1, bias=False)
        self.bn2 = _batch_norm(mid_channels, config)
        self.conv3 = nn.Conv2d(mid_channels, out_channels, 1, bias=False)
        self.bn3 = _batch_norm(out_channels, config)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, bias=False), _batch_norm(out_channels, config)
            )

    def forward(self, hidden_state: torch.Tensor) -> torch.Tensor:
        identity = hidden_state if self.downsample is None else self.downsample(hidden_state)
        out = self.relu(self.bn1(self.conv1(hidden_state)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class HRNetModule(nn.Module):
    """One multi-resolution module (MMPose `HRModule`): per-branch BasicBlocks, then multi-scale fusion.

    Fusion output i = ReLU(Σ_j f_ij(x_j)) with f_ii = identity; for j > i (lower resolution) f_ij = 1x1 conv + BN +
    upsampling by 2^(j−i) (`config.upsample_mode`, nearest by default); for j < i, i−j 3x3 stride-2 convs with BN
    (ReLU between them, none after the last; intermediate convs keep branch j's width). Summed in order j = 0, 1, ...
    Only output 0 is computed when `multiscale_output=False`.
    """

    def __init__(self, widths: list[int], num_blocks: int, multiscale_output: bool, config: HRNetConfig):
        super().__init__()
        self.num_branches = len(widths)
        self.branches = nn.ModuleList(
            nn.Sequential(*[HRNetBasicBlock(width, width, config) for _ in range(num_blocks)]) for width in widths
        )
        self.fuse_layers = None
        if self.num_branches > 1:
            num_outputs = self.num_branches if multiscale_output else 1
            self.fuse_layers = nn.ModuleList()
            for i in range(num_outputs):
                row = nn.ModuleList()
                for j in range(self.num_branches):
                    if j > i:
                        row.append(
                            nn.Sequential(
                                nn.Conv2d(widths[j], widths[i], 1, bias=False),
                                _batch_norm(widths[i], config),
                                nn.Upsample(scale_factor=2 ** (j - i), mode=config.upsample_mode),
                            )
                        )
                    elif j == i:
                        row.append(None)
                    else:
                        steps = []
                        for k in range(i - j):
                            last = k == i - j - 1
                            out_width = widths[i] if last else widths[j]
                            step = [
                                nn.Conv2d(widths[j], out_width, 3, stride=2, padding=1, bias=False),
                                _batch_norm(out_width, config),
                            ]
                            if not last:
                                step.append(nn.ReLU(inplace=False))
                            steps.append(nn.Sequential(*step))
                        row.append(nn.Sequential(*steps))
                self.fuse_layers.append(row)
        self.relu = nn.ReLU(inplace=False)

    def forward(self, hidden_states: list[torch.Tensor]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Returns `(fused, branch_outputs)`: the fused outputs (1 or `num_branches`) and the pre-fusion ones."""
        branch_outputs = [branch(x) for branch, x in zip(self.branches, hidden_states)]
        if self.fuse_layers is None:
            return branch_outputs, branch_outputs
        fused = []
        for i, row in enumerate(self.fuse_layers):
            total = 0
            for j, x in enumerate(branch_outputs):
                total = total + (x if i == j else row[j](x))
            fused.append(self.relu(total))
        return fused, branch_outputs


def _conv_bn_relu(in_channels: int, out_channels: int, stride: int, config: HRNetConfig) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
        _batch_norm(out_channels, config),
        nn.ReLU(inplace=True),
    )


def _make_transition(previous: list[int], current: list[int], config: HRNetConfig) -> nn.ModuleList:
    """MMPose `_make_transition_layer`: width-changing 3x3 conv for existing branches (None if equal); a new branch
    is made from the previous lowest-resolution branch by 3x3 stride-2 conv(s)."""
    layers = nn.ModuleList()
    for i, width in enumerate(current):
        if i < len(previous):
            layers.append(_conv_bn_relu(previous[i], width, 1, config) if previous[i] != width else None)
        else:
            steps = []
            for k in range(i + 1 - len(previous)):
                in_width = previous[-1]
                out_width = width if k == i - len(previous) else in_width
                steps.append(_conv_bn_relu(in_width, out_width, 2, config))
            layers.append(nn.Sequential(*steps))
    return layers


class HRNetPreTrainedModel(NonReentrantCheckpointingMixin, PreTrainedModel):
    """Weight init as MMPose: convs N(0, `initializer_range`²), biases 0, BatchNorm weight 1 / bias 0."""

    supports_gradient_checkpointing = True  # backbone stages: hfpose.models.gradient_checkpointing

    config: HRNetConfig
    config_class = HRNetConfig
    base_model_prefix = "hrnet"
    main_input_name = "pixel_values"
    input_modalities = ("image",)

    @torch.no_grad()
    def _init_weights(self, module):
        super()._init_weights(module)


class HRNetBackbone(BackboneMixin, HRNetPreTrainedModel):
    """HRNet as a transformers backbone.

    `forward(pixel_values)` returns a `BackboneOutput` whose `feature_maps` are the `config.out_features` (by
    default only `"branch1"`, shape `(batch_size, hidden_sizes[0], H/4, W/4)`); `hidden_states` (if requested)
    holds every entry of `stage_names`: stem `(B, stem_channels, H/4, W/4)`, stage1 `(B, 4·stage1_channels, H/4,
    W/4)` and branch i `(B, hidden_sizes[i-1], H/2^(i+1), W/2^(i+1))` (sizes rounded up by the stride-2 convs).
    """

    has_attentions = False

    def __init__(self, config: HRNetConfig):
        super().__init__(config)
        stem = config.stem_channels
        self.conv1 = nn.Conv2d(config.num_channels, stem, 3, stride=2, padding=1, bias=False)
        self.bn1 = _batch_norm(stem, config)
        self.conv2 = nn.Conv2d(stem, stem, 3, stride=2, padding=1, bias=False)
        self.bn2 = _batch_norm(stem, config)
        self.relu = nn.ReLU(inplace=True)

        blocks = [HRNetBottleneck(stem, config.stage1_channels, config)]
        stage1_out = config.stage1_channels * HRNetBottleneck.expansion
        for _ in range(config.stage1_num_blocks - 1):
            blocks.append(HRNetBottleneck(stage1_out, config.stage1_channels, config))
        self.layer1 = nn.Sequential(*blocks)

        previous = [stage1_out]
        for stage in (2, 3, 4):
            widths = config.hidden_sizes[:stage]
            setattr(self, f"transition{stage - 1}", _make_transition(previous, widths, config))
            num_modules = config.num_modules[stage - 2]
            modules = []
            for m in range(num_modules):
                last = stage == 4 and m == num_modules - 1
                multiscale = config.multiscale_output if last else True
                modules.append(HRNetModule(widths, config.num_blocks[stage - 2], multiscale, config))
            setattr(self, f"stage{stage}", nn.Sequential(*modules))
            previous = widths

        self.num_features = [stem, stage1_out] + list(config.hidden_sizes)
        for unit in (self.layer1, *self.stage2, *self.stage3, *self.stage4):  # gradient checkpointing units
            make_checkpointable(unit)
        self.post_init()

    @staticmethod
    def _run_stage(stage: nn.Sequential, hidden_states: list[torch.Tensor]):
        branch_outputs = hidden_states
        for module in stage:
            hidden_states, branch_outputs = module(hidden_states)
        return hidden_states, branch_outputs

    def forward(
        self,
        pixel_values: torch.Tensor,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> BackboneOutput | tuple:
        r"""
        Args:
            pixel_values (`torch.FloatTensor` of shape `(batch_size, num_channels, height, width)`):
                Normalized images.

        Raises:
            ValueError: if `pixel_values` is not 4-D, its channel count differs from `config.num_channels`, or its
                height or width is not a multiple of 32 (the lowest-resolution branch must upsample back exactly).
        """
        if pixel_values.ndim != 4 or pixel_values.shape[1] != self.config.num_channels:
            raise ValueError(
                f"pixel_values must have shape (batch_size, {self.config.num_channels}, height, width), "
                f"got {tuple(pixel_values.shape)}"
            )
        if pixel_values.shape[-2] % 32 or pixel_values.shape[-1] % 32:
            raise ValueError(
                f"pixel_values height and width must be multiples of 32, got {tuple(pixel_values.shape[-2:])}"
            )
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        output_hidden_states = (
            output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states
        )

        x = self.relu(self.bn1(self.conv1(pixel_values)))
        stem = self.relu(self.bn2(self.conv2(x)))
        stage1 = self.layer1(stem)

        hidden_states = [stage1]
        branch_outputs = hidden_states
        for stage in (2, 3, 4):
            transition = getattr(self, f"transition{stage - 1}")
            inputs = []
            for i, layer in enumerate(transition):
                if i < len(hidden_states):
                    inputs.append(hidden_states[i] if layer is None else layer(hidden_states[i]))
                else:
                    inputs.append(layer(hidden_states[-1]))
            hidden_states, branch_outputs = self._run_stage(getattr(self, f"stage{stage}"), inputs)
        # Stage-4 outputs: fused where the last module fuses (always branch 1), pre-fusion otherwise.
        branches = list(hidden_states) + list(branch_outputs[len(hidden_states) :])

        all_states = (stem, stage1, *branches)
        feature_maps = tuple(state for name, state in zip(self.stage_names, all_states) if name in self.out_features)
        if not return_dict:
            return (feature_maps, all_states) if output_hidden_states else (feature_maps,)
        return BackboneOutput(feature_maps=feature_maps, hidden_states=all_states if output_hidden_states else None)
