# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Pure torch functions of the integral-regression family (IPR, DSNT, Debias-IPR), dsntnn style.

Glossary:
    B: batch size.  K: number of keypoints.  H, W: heatmap height and width (rows, columns).
    logits: `(B, K, H, W)` raw network outputs, one map per keypoint.
    heatmaps: `(B, K, H, W)` probability maps, each map sums to 1 over its H*W positions.
    coords: `(B, K, 2)` normalized `(x, y)`; multiply by the network input size `(w_in, h_in)` to get input pixels.

Coordinate convention (the one MMPose 1.x `DSNTHead` / `IntegralRegressionHead` use; pixel centres at integers)::

    heatmap column j      0        1        2      ...     W-1
                          |--------|--------|--------|-----|
    normalized x        0/W      1/W      2/W      ...  (W-1)/W
    input pixel x        0      w_in/W  2*w_in/W   ...  (W-1)*w_in/W      (w_in/W = 4 for 256 / 64)

    x = sum_{i,j} p[i, j] * j / W,     y = sum_{i,j} p[i, j] * i / H.

There is no half-pixel offset: column j is the input pixel x = j * w_in / W (e.g. x = 4j for a 64-wide heatmap of a
256-wide input), so a one-hot map at column j gives exactly x = j / W and a uniform map gives x = (W - 1) / (2W).
This differs from dsntnn (`x = (2j + 1) / W - 1` in [-1, 1]); we follow the reference implementation of the
checkpoints (MMPose 1.x `mmpose/models/heads/regression_heads/integral_regression_head.py`).

Sources:
    Sun et al., "Integral Human Pose Regression", ECCV 2018, Eq. 2-3 (soft-argmax as an expectation).
    Nibali et al., "Numerical Coordinate Regression with Convolutional Neural Networks", arXiv:1801.07372, 2018,
        Sec. 3 (DSNT) and Sec. 4.2 (Jensen-Shannon heatmap regularization); dsntnn `js_reg_losses`.
    Gu et al., "Removing the Bias of Integral Pose Regression", ICCV 2021, Eq. 7 (debiased expectation).
    MMPose 1.x `SmoothL1Loss`, `KeypointMSELoss`, `JSDiscretLoss` (`mmpose/models/losses/`) for the reductions.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = [
    "flat_softmax",
    "soft_argmax",
    "debias_coordinates",
    "js_divergence_loss",
    "heatmap_mse_loss",
    "smooth_l1_coordinate_loss",
]

# Added inside the log of the mixture in the JS divergence, as MMPose's `JSDiscretLoss.kl` does: log(m + 1e-24).
JS_LOG_EPS = 1e-24


def _check_maps(name: str, tensor: torch.Tensor) -> None:
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
    if tensor.dim() < 2:
        raise ValueError(f"{name} must have shape (..., H, W) with at least 2 dimensions, got {tuple(tensor.shape)}")
    if tensor.shape[-1] < 1 or tensor.shape[-2] < 1:
        raise ValueError(f"{name} has an empty heatmap: shape {tuple(tensor.shape)}")


def _check_same_shape(name_a: str, a: torch.Tensor, name_b: str, b: torch.Tensor) -> None:
    for name, tensor in ((name_a, a), (name_b, b)):
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} has shape {tuple(a.shape)} but {name_b} has shape {tuple(b.shape)}; they must match"
        )


def _expand_weights(weights: torch.Tensor | None, like: torch.Tensor, keypoint_dims: int, name: str = "weights"):
    """Check `weights` of shape `like.shape[:keypoint_dims]` (i.e. `(B, K)`) and append singleton dimensions."""
    if weights is None:
        return None
    if not isinstance(weights, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or None, got {type(weights).__name__}")
    expected = tuple(like.shape[:keypoint_dims])
    if tuple(weights.shape) != expected:
        raise ValueError(f"{name} must have shape {expected} (batch_size, num_keypoints), got {tuple(weights.shape)}")
    return weights.to(like.dtype).reshape(*expected, *([1] * (like.dim() - keypoint_dims)))


def flat_softmax(logits: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """Softmax of `beta * logits` over all H*W positions of each map.

    Args:
        logits: `(..., H, W)` raw scores.
        beta: inverse temperature multiplying the logits before the softmax (1 for IPR/DSNT, 10 for Debias-IPR).
    Returns:
        `(..., H, W)` probabilities, each map summing to 1.
    Raises:
        TypeError / ValueError: if `logits` is not a tensor of at least 2 dimensions.
    Source: Sun et al. 2018, Eq. 2 (normalization of the heatmap); dsntnn `flat_softmax`; MMPose
        `IntegralRegressionHead._flat_softmax(feats * beta)`.
    """
    _check_maps("logits", logits)
    height, width = logits.shape[-2:]
    flat = (logits * beta).reshape(*logits.shape[:-2], height * width)
    return flat.softmax(dim=-1).reshape(logits.shape)


def soft_argmax(heatmaps: torch.Tensor) -> torch.Tensor:
    """Expected normalized `(x, y)` of each probability map (the integral / DSNT coordinate).

    Args:
        heatmaps: `(..., H, W)` probability maps (non-negative, each summing to 1; not checked).
    Returns:
        `(..., 2)` normalized coordinates `x = sum p * j / W`, `y = sum p * i / H` (column j, row i; see the module
        docstring: no half-pixel offset, so x lies in `[0, (W - 1) / W]`).
    Raises:
        TypeError / ValueError: if `heatmaps` is not a tensor of at least 2 dimensions.
    Source: Sun et al. 2018, Eq. 3; MMPose `IntegralRegressionHead._linear_expectation` with `linspace = arange(W) / W`.
    """
    _check_maps("heatmaps", heatmaps)
    height, width = heatmaps.shape[-2:]
    linspace_x = torch.arange(width, device=heatmaps.device, dtype=heatmaps.dtype) / width
    linspace_y = torch.arange(height, device=heatmaps.device, dtype=heatmaps.dtype) / height
    x = (heatmaps * linspace_x).flatten(-2).sum(-1)
    y = (heatmaps * linspace_y[:, None]).flatten(-2).sum(-1)
    return torch.stack([x, y], dim=-1)


def debias_coordinates(coords: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Remove the pull towards the map centre that the softmax's non-zero background adds to the expectation.

    With `C = sum over the H*W positions of exp(logits)` -- the exponent of the logits *without* beta, as in MMPose --
    each coordinate becomes `C / (C - 1) * (coord - 1 / (2C))`. It is computed as
    `(coord - c / 2) / (1 - c)` with `c = 1 / C = exp(-logsumexp(logits))`, the same value without overflowing
    `exp` for large logits. `C <= 1` (all logits very negative) makes the correction meaningless, as in the reference.

    Args:
        coords: `(..., 2)` normalized coordinates from `soft_argmax`.
        logits: `(..., H, W)` the logits the heatmaps were computed from (before multiplying by beta).
    Returns:
        `(..., 2)` debiased normalized coordinates.
    Raises:
        ValueError: if the leading dimensions of `coords` and `logits` differ or `coords` does not end in 2.
    Source: Gu et al., "Removing the Bias of Integral Pose Regression", ICCV 2021, Eq. 7 (with the map size absorbed
        into normalized coordinates); MMPose 1.x `IntegralRegressionHead.forward` (`debias=True`).
    """
    _check_maps("logits", logits)
    if not isinstance(coords, torch.Tensor):
        raise TypeError(f"coords must be a torch.Tensor, got {type(coords).__name__}")
    if coords.shape[-1] != 2 or coords.shape[:-1] != logits.shape[:-2]:
        raise ValueError(
            f"coords must have shape {tuple(logits.shape[:-2]) + (2,)} to match logits {tuple(logits.shape)}, "
            f"got {tuple(coords.shape)}"
        )
    inverse_total = torch.exp(-torch.logsumexp(logits.flatten(-2), dim=-1)).unsqueeze(-1)  # 1 / C, (..., 1)
    return (coords - 0.5 * inverse_total) / (1.0 - inverse_total)


def _p_log_p_over_q(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Element-wise `p * (log p - log q)` with `0 * log 0 = 0`, and finite gradients where `p = 0`."""
    positive = p > 0
    safe_p = torch.where(positive, p, torch.ones_like(p))
    safe_q = torch.where(positive, q, torch.ones_like(q))
    return torch.where(positive, safe_p * (safe_p.log() - safe_q.log()), torch.zeros_like(p))


def js_divergence_loss(
    pred_heatmaps: torch.Tensor, target_heatmaps: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Jensen-Shannon divergence between predicted and target heatmaps, summed, divided by the batch size.

    Both maps are first multiplied by the keypoint weight, then with `m = (p + t) / 2`
    `JS = 1/2 [p (log p - log(m + 1e-24)) + t (log t - log(m + 1e-24))]` element-wise (`0 log 0 = 0`), summed over
    every element and divided by B.

    Args:
        pred_heatmaps: `(B, K, H, W)` softmax heatmaps.
        target_heatmaps: `(B, K, H, W)` target heatmaps (Gaussians normalized to sum 1).
        weights: `(B, K)` keypoint weights or `None` (all ones).
    Returns:
        scalar tensor.
    Raises:
        ValueError: if the shapes differ or `weights` is not `(B, K)`.
    Source: Nibali et al. 2018, Sec. 4.2 (JS regularization); dsntnn `js_reg_losses`; MMPose `JSDiscretLoss`
        (`use_target_weight=True`, `size_average=True`).
    """
    _check_same_shape("pred_heatmaps", pred_heatmaps, "target_heatmaps", target_heatmaps)
    _check_maps("pred_heatmaps", pred_heatmaps)
    weights = _expand_weights(weights, pred_heatmaps, pred_heatmaps.dim() - 2)
    if weights is not None:
        pred_heatmaps = pred_heatmaps * weights
        target_heatmaps = target_heatmaps * weights
    mixture = 0.5 * (pred_heatmaps + target_heatmaps) + JS_LOG_EPS
    divergence = 0.5 * (_p_log_p_over_q(pred_heatmaps, mixture) + _p_log_p_over_q(target_heatmaps, mixture))
    return divergence.sum() / pred_heatmaps.shape[0]


def heatmap_mse_loss(
    pred_heatmaps: torch.Tensor, target_heatmaps: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean over B*K*H*W of `weight * (pred - target)^2` (the weight multiplies the squared error once).

    Args:
        pred_heatmaps: `(B, K, H, W)` softmax heatmaps.
        target_heatmaps: `(B, K, H, W)` target heatmaps.
        weights: `(B, K)` keypoint weights or `None`.
    Returns:
        scalar tensor.
    Raises:
        ValueError: if the shapes differ or `weights` is not `(B, K)`.
    Source: MMPose 1.x `KeypointMSELoss(use_target_weight=True)` (the heatmap term of the released IPR config).
    """
    _check_same_shape("pred_heatmaps", pred_heatmaps, "target_heatmaps", target_heatmaps)
    _check_maps("pred_heatmaps", pred_heatmaps)
    squared_error = (pred_heatmaps - target_heatmaps) ** 2
    weights = _expand_weights(weights, pred_heatmaps, pred_heatmaps.dim() - 2)
    if weights is not None:
        squared_error = squared_error * weights
    return squared_error.mean()


def smooth_l1_coordinate_loss(
    pred_coords: torch.Tensor, target_coords: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean over B*K*2 of smooth-L1 (beta = 1) between `weight * pred` and `weight * target`.

    Args:
        pred_coords: `(B, K, 2)` normalized coordinates.
        target_coords: `(B, K, 2)` normalized targets (input pixels / (w_in, h_in)).
        weights: `(B, K)` keypoint weights or `None`.
    Returns:
        scalar tensor.
    Raises:
        ValueError: if the shapes differ or `weights` is not `(B, K)`.
    Source: Sun et al. 2018, Sec. 3.1 (L1 on integral coordinates); MMPose 1.x `SmoothL1Loss(use_target_weight=True)`.
    """
    _check_same_shape("pred_coords", pred_coords, "target_coords", target_coords)
    if pred_coords.dim() < 2:
        raise ValueError(f"pred_coords must have shape (B, K, 2), got {tuple(pred_coords.shape)}")
    weights = _expand_weights(weights, pred_coords, pred_coords.dim() - 1)
    if weights is not None:
        pred_coords = pred_coords * weights
        target_coords = target_coords * weights
    return F.smooth_l1_loss(pred_coords, target_coords, reduction="mean", beta=1.0)
