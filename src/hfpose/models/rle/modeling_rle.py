# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""RLE: regression with a learned residual log-likelihood (RealNVP flow) and a per-keypoint σ.

Paper: Li et al., "Human Pose Regression with Residual Log-likelihood Estimation", ICCV 2021 (Sec. 3, Eq. 9).
Flow: Dinh et al., "Density estimation using Real NVP", ICLR 2017 (affine coupling layers, Eq. 4-6).
Reference implementation: open-mmlab/mmpose@759b39c `models/heads/regression_heads/rle_head.py`,
`models/losses/regression_loss.py::RLELoss`, `models/utils/realnvp.py::RealNVP`.

Training-time only: the flow `RLEFlow` enters the loss, never the predictions; MMPose stores it in its checkpoints
(`head.loss_module.flow_model.*`), so hfpose keeps its weights (`flow.*`) to continue training from them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.utils import ModelOutput

from ..backbones import backbone_out_channels, build_backbone, last_feature_map
from ..deeppose.modeling_deeppose import check_regression_labels
from .configuration_rle import RLEConfig

__all__ = [
    "RLEPoseEstimatorOutput",
    "RLEFlow",
    "RLEHead",
    "RLEPreTrainedModel",
    "RLEForPoseEstimation",
    "rle_loss",
    "rle_coupling_masks",
]


@dataclass
class RLEPoseEstimatorOutput(ModelOutput):
    r"""
    loss (`torch.FloatTensor` of shape `()`, *optional*, returned when `labels` is given):
        `loss_flow + loss_residual` (Eq. 9; MMPose `RLELoss`).
    loss_flow (`torch.FloatTensor` of shape `()`, *optional*):
        Σ w·(log σ − log G_φ(ε̄)) / B: the flow part of the negative log-likelihood (log G_φ shared by x and y).
    loss_residual (`torch.FloatTensor` of shape `()`, *optional*):
        Σ w·(log 2σ + |ε̄|) / B for the Laplace Q (Gaussian: Σ w·(log(√(2π)·σ) + ε̄²/2) / B); 0 when
        `config.loss_residual=False`.
    keypoints (`torch.FloatTensor` of shape `(batch_size, num_keypoints, 2)`):
        Predicted (x, y) in normalized input coordinates (input pixels / (w, h), no half-pixel offset).
    scores (`torch.FloatTensor` of shape `(batch_size, num_keypoints)`):
        mean over x, y of (1 − σ), in (0, 1).
    sigma (`torch.FloatTensor` of shape `(batch_size, num_keypoints, 2)`):
        σ = sigmoid(σ_raw), the predicted scale of the error in normalized units.
    sigma_raw (`torch.FloatTensor` of shape `(batch_size, num_keypoints, 2)`):
        The logits σ_raw (MMPose `RLEHead.forward[..., 2:]`).
    hidden_states (`tuple(torch.FloatTensor)`, *optional*): backbone hidden states when `output_hidden_states=True`.
    """

    loss: torch.FloatTensor | None = None
    loss_flow: torch.FloatTensor | None = None
    loss_residual: torch.FloatTensor | None = None
    keypoints: torch.FloatTensor | None = None
    scores: torch.FloatTensor | None = None
    sigma: torch.FloatTensor | None = None
    sigma_raw: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None


def rle_coupling_masks(num_layers: int) -> torch.Tensor:
    """`(num_layers, 2)` float masks alternating `[0, 1]`, `[1, 0]` (MMPose: `[[0, 1], [1, 0]] * 3` for 6 layers)."""
    return torch.tensor([[0.0, 1.0] if i % 2 == 0 else [1.0, 0.0] for i in range(num_layers)])


def _mlp(hidden_size: int, final_tanh: bool) -> nn.Sequential:
    layers = [
        nn.Linear(2, hidden_size),
        nn.LeakyReLU(0.01),
        nn.Linear(hidden_size, hidden_size),
        nn.LeakyReLU(0.01),
        nn.Linear(hidden_size, 2),
    ]
    if final_tanh:
        layers.append(nn.Tanh())
    return nn.Sequential(*layers)


class RLEFlow(nn.Module):
    """RealNVP density G_φ on R² with a standard normal base distribution.

    Coupling layer i (mask m_i, scale net s_i = MLP + tanh, translation net t_i = MLP) maps z → x. `log_prob(x)`
    inverts the layers from the last to the first: with z' = m·z, s = s_i(z')·(1 − m), t = t_i(z')·(1 − m),
    z ← (1 − m)·(z − t)·exp(−s) + z' and log|det J| −= Σ s; then log G_φ(x) = log N(z; 0, I) + log|det J|.
    Keys `s.{i}.{0,2,4}`, `t.{i}.{0,2,4}` (MMPose `RealNVP` without its constant `loc`/`cov`/`mask` buffers, which
    are fixed here: base N(0, I) and non-persistent masks).

    Source: Dinh et al., ICLR 2017, Eq. 6-7; MMPose `RealNVP.backward_p` / `log_prob`.
    """

    def __init__(self, num_layers: int = 6, hidden_size: int = 64):
        super().__init__()
        self.num_layers = num_layers
        self.s = nn.ModuleList([_mlp(hidden_size, final_tanh=True) for _ in range(num_layers)])
        self.t = nn.ModuleList([_mlp(hidden_size, final_tanh=False) for _ in range(num_layers)])
        self.register_buffer("mask", rle_coupling_masks(num_layers), persistent=False)

    def inverse(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Map data points `(N, 2)` to base points `z` `(N, 2)`; also return log|det ∂z/∂x| `(N,)`."""
        z = points
        log_det = points.new_zeros(points.shape[0])
        for i in reversed(range(self.num_layers)):
            mask = self.mask[i].to(points.dtype)
            z_masked = mask * z
            scale = self.s[i](z_masked) * (1 - mask)
            shift = self.t[i](z_masked) * (1 - mask)
            z = (1 - mask) * (z - shift) * torch.exp(-scale) + z_masked
            log_det = log_det - scale.sum(dim=1)
        return z, log_det

    def log_prob(self, points: torch.Tensor) -> torch.Tensor:
        """log G_φ(points): `(N, 2)` → `(N,)` (natural log).

        Raises:
            ValueError: if `points` is not `(N, 2)`.
        """
        if points.ndim != 2 or points.shape[-1] != 2:
            raise ValueError(f"points must have shape (N, 2), got {tuple(points.shape)}")
        z, log_det = self.inverse(points)
        log_base = -0.5 * (z**2).sum(dim=1) - math.log(2 * math.pi)  # log N(z; 0, I_2)
        return log_base + log_det


def rle_loss(
    coordinates: torch.Tensor,
    sigma_raw: torch.Tensor,
    labels: torch.Tensor,
    label_weights: torch.Tensor,
    flow: RLEFlow,
    residual: bool = True,
    q_distribution: str = "laplace",
    size_average: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Residual log-likelihood loss (Li et al. 2021, Eq. 9), exactly as MMPose's `RLELoss`.

    With σ = sigmoid(σ_raw) and the normalized residual ε̄ = (μ − target) / (σ + 1e-9), per keypoint k and axis a:

        ℓ_ka = [log σ_ka − log G_φ(ε̄_k)] + [log Q(ε̄_ka) term]
        Laplace Q: log(2σ_ka) + |ε̄_ka|;   Gaussian Q: log(√(2π)·σ_ka) + ε̄_ka² / 2

    log G_φ is the flow log-density of the 2-vector ε̄_k and is counted once per axis (MMPose; cf. MMPose issue #1766
    on this constant factor of the paper's Eq. 9). Every ℓ_ka is multiplied by `label_weights[b, k]`, summed, and
    divided by the batch size when `size_average`.

    Args:
        coordinates, sigma_raw, labels: `(B, K, 2)`; coordinates and labels normalized, sigma_raw logits.
        label_weights: `(B, K)`.
    Returns:
        `(loss_flow, loss_residual)`, scalars; the loss is their sum (`loss_residual` is 0 when `residual=False`).
    Raises:
        ValueError: if `q_distribution` is not "laplace" or "gaussian".
    """
    if q_distribution not in ("laplace", "gaussian"):
        raise ValueError(f"q_distribution must be 'laplace' or 'gaussian', got {q_distribution!r}")
    batch_size, num_keypoints = coordinates.shape[:2]
    sigma = sigma_raw.sigmoid()
    error = (coordinates - labels) / (sigma + 1e-9)
    log_phi = flow.log_prob(error.reshape(-1, 2)).reshape(batch_size, num_keypoints, 1)
    weights = label_weights.unsqueeze(-1)
    normalizer = batch_size if size_average else 1
    loss_flow = ((torch.log(sigma) - log_phi) * weights).sum() / normalizer
    if not residual:
        return loss_flow, loss_flow.new_zeros(())
    if q_distribution == "laplace":
        loss_q = torch.log(sigma * 2) + torch.abs(error)
    else:
        loss_q = torch.log(sigma * math.sqrt(2 * math.pi)) + 0.5 * error**2
    loss_residual = (loss_q * weights).sum() / normalizer
    return loss_flow, loss_residual


class RLEHead(nn.Module):
    """Linear(C, K * 4) on the pooled feature → `(B, K, 4)` = (x, y, σx_raw, σy_raw). Key `fc.*` as MMPose."""

    def __init__(self, in_channels: int, num_keypoints: int):
        super().__init__()
        self.num_keypoints = num_keypoints
        self.fc = nn.Linear(in_channels, num_keypoints * 4)

    def forward(self, pooled_features: torch.Tensor) -> torch.Tensor:
        return self.fc(pooled_features).reshape(-1, self.num_keypoints, 4)


class RLEPreTrainedModel(PreTrainedModel):
    supports_gradient_checkpointing = True  # backbone stages: hfpose.models.gradient_checkpointing
    config: RLEConfig
    config_class = RLEConfig
    base_model_prefix = "rle"
    main_input_name = "pixel_values"
    input_modalities = ("image",)

    @torch.no_grad()
    def _init_weights(self, module):
        """PyTorch's default `nn.Linear` init for the head; flow linears Xavier-uniform with gain 0.01 (near-identity
        flow), as MMPose `RealNVP.init_weights`; the coupling masks are (re)built."""
        super()._init_weights(module)
        if isinstance(module, nn.Linear):
            init.kaiming_uniform_(module.weight, a=math.sqrt(5))
            if module.bias is not None:
                bound = 1 / math.sqrt(module.weight.shape[1])
                init.uniform_(module.bias, -bound, bound)
        if isinstance(module, RLEFlow):
            for layer in module.modules():
                if isinstance(layer, nn.Linear):
                    init.xavier_uniform_(layer.weight, gain=0.01)
            init.copy_(module.mask, rle_coupling_masks(module.num_layers))


class RLEForPoseEstimation(RLEPreTrainedModel):
    """Top-down RLE: backbone → global average pooling → `RLEHead`; `RLEFlow` for the training loss.

    Flip test is done outside the model: the processor flips the flipped run's keypoints back, permutes `sigma` with
    the joints and averages σ (not σ_raw), then `scores = 1 − mean(σ)` (linear in σ, so averaging scores is exact).
    """

    def __init__(self, config: RLEConfig):
        super().__init__(config)
        self.backbone = build_backbone(config)
        self.head = RLEHead(backbone_out_channels(self.backbone), config.num_keypoints)
        self.flow = RLEFlow(config.flow_num_layers, config.flow_hidden_size)
        self.post_init()

    def forward_head(
        self, pooled_features, labels=None, label_weights=None, hidden_states=None
    ) -> RLEPoseEstimatorOutput:
        """Head and loss on pooled backbone features `(B, C)` (MMPose's neck output). See `forward`."""
        prediction = self.head(pooled_features)
        keypoints, sigma_raw = prediction[..., :2], prediction[..., 2:]
        sigma = sigma_raw.sigmoid()
        loss = loss_flow = loss_residual = None
        if labels is not None:
            batch_size, num_keypoints = keypoints.shape[:2]
            labels, label_weights = check_regression_labels(
                labels, label_weights, batch_size, num_keypoints, keypoints.device, keypoints.dtype
            )
            loss_flow, loss_residual = rle_loss(
                keypoints,
                sigma_raw,
                labels,
                label_weights,
                self.flow,
                residual=self.config.loss_residual,
                q_distribution=self.config.q_distribution,
                size_average=self.config.size_average,
            )
            loss = loss_flow + loss_residual
        return RLEPoseEstimatorOutput(
            loss=loss,
            loss_flow=loss_flow,
            loss_residual=loss_residual,
            keypoints=keypoints,
            scores=1 - sigma.mean(dim=-1),
            sigma=sigma,
            sigma_raw=sigma_raw,
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
    ) -> RLEPoseEstimatorOutput | tuple:
        r"""
        Args:
            pixel_values (`torch.FloatTensor` of shape `(batch_size, 3, height, width)`):
                RGB crops, ImageNet-normalized, `(height, width) = config.input_size[::-1]`.
            labels (`torch.FloatTensor` of shape `(batch_size, num_keypoints, 2)`, *optional*):
                Normalized targets (input pixels / (w, h)); gives `loss`, `loss_flow`, `loss_residual`.
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
