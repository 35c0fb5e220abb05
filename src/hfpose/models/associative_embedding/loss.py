# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Training loss of the associative-embedding models (HRNet-AE, HigherHRNet-AE), as MMPose 0.29 computes it.

Glossary:
    B: batch size. K: keypoints (17 for COCO). S: number of output resolutions ("stages"; 1 for HRNet-AE, 2 for
    HigherHRNet-AE). (H_s, W_s): heatmap size of stage s. M: person slots per image (`max_num_people`, 30).
    joints: `(B, M, K, 2)` integer tensor; row m holds person m's entries `[flat index, flag]`, where the flat
        index addresses the stage-0 tag maps flattened over `(K, H, W)`: `k·H·W + y·W + x`, and flag > 0 marks a
        used entry. MMPose 0.x packs the used entries into the first slots of the row, but any placement works.

Source: Newell et al., "Associative Embedding: End-to-End Learning for Joint Detection and Grouping", NeurIPS
2017, Sec. 3 (pull/push grouping loss, the "exp" push is Cheng et al., HigherHRNet, CVPR 2020); reference
implementation MMPose 0.29 `mmpose/models/losses/multi_loss_factory.py` (`HeatmapLoss`, `AELoss`,
`MultiLossFactory`) and `AEHigherResolutionHead.get_loss` (open-mmlab/mmpose@v0.29.0).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["masked_heatmap_loss", "associative_embedding_loss", "multi_resolution_ae_loss"]


def masked_heatmap_loss(
    heatmaps: torch.Tensor, target_heatmaps: torch.Tensor, masks: torch.Tensor, supervise_empty: bool = True
) -> torch.Tensor:
    """Per-image masked mean squared error of one resolution.

    loss_b = mean over (k, y, x) of mask[b, y, x]·(heatmaps[b, k, y, x] − target[b, k, y, x])². With
    `supervise_empty=False`, channels whose target is all zero are excluded from the sum (not from the mean).

    Args:
        heatmaps (`torch.FloatTensor` of shape `(B, K, H, W)`): predicted heatmaps.
        target_heatmaps (`torch.FloatTensor` of shape `(B, K, H, W)`): target heatmaps.
        masks (`torch.FloatTensor` of shape `(B, H, W)`): 1 where the pixel is supervised, 0 where ignored.
        supervise_empty (`bool`): whether channels without any target peak are supervised (MMPose default True).

    Returns:
        `torch.FloatTensor` of shape `(B,)`.

    Raises:
        ValueError: if the shapes disagree (names the argument).
    Source: MMPose 0.29 `HeatmapLoss.forward`.
    """
    if heatmaps.ndim != 4:
        raise ValueError(f"heatmaps must have shape (B, K, H, W), got {tuple(heatmaps.shape)}")
    if target_heatmaps.shape != heatmaps.shape:
        raise ValueError(
            f"target_heatmaps shape {tuple(target_heatmaps.shape)} must equal heatmaps shape {tuple(heatmaps.shape)}"
        )
    expected_mask = (heatmaps.shape[0], *heatmaps.shape[2:])
    if tuple(masks.shape) != expected_mask:
        raise ValueError(f"masks must have shape {expected_mask} (B, H, W), got {tuple(masks.shape)}")
    loss = (heatmaps - target_heatmaps) ** 2 * masks[:, None].to(heatmaps.dtype)
    if not supervise_empty:
        loss = loss * (target_heatmaps.sum(dim=(2, 3), keepdim=True) > 0).to(heatmaps.dtype)
    return loss.mean(dim=(1, 2, 3))


def associative_embedding_loss(
    tags: torch.Tensor, joints: torch.Tensor, loss_type: str = "exp"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image push and pull losses of associative embedding (tag dimension 1), before the loss factors.

    For each person with at least one used entry (flag > 0): the tags t_p at its flat indices, the reference tag
    μ_p = mean(t_p) and pull_p = mean((t_p − μ_p)²). With N such people in the image:
    * pull = Σ_p pull_p / N (0 if N = 0);
    * "exp": push = (Σ_{p,q} exp(−(μ_p − μ_q)²) − N) / (N(N − 1)) · 0.5, i.e. the mean over ordered pairs
      p ≠ q, halved; "max": the same with max(0, 1 − |μ_p − μ_q|); push = 0 if N ≤ 1.

    Args:
        tags (`torch.FloatTensor` of shape `(B, K·H·W)` or `(B, K, H, W)`): stage-0 tag maps (flattened row-major).
        joints (`torch.LongTensor` of shape `(B, M, K', 2)`): `[flat index, flag]` per person slot (see glossary).
        loss_type (`str`): `"exp"` (the configs' `ae_loss_type`) or `"max"`.

    Returns:
        `(push, pull)`, each `torch.FloatTensor` of shape `(B,)`.

    Raises:
        ValueError: if `joints` is not `(B, M, K', 2)` with the batch size of `tags`, is not an integer tensor,
            a used entry's index is outside `[0, K·H·W)` (names the image and person), or `loss_type` is unknown.
    Source: MMPose 0.29 `AELoss.singleTagLoss` (the 0.x push excludes the p = q pairs; 1.x's does not).
    """
    if loss_type not in ("exp", "max"):
        raise ValueError(f"loss_type must be 'exp' or 'max', got {loss_type!r}")
    tags = tags.reshape(tags.shape[0], -1)
    batch_size, num_entries = tags.shape
    if joints.ndim != 4 or joints.shape[-1] != 2 or joints.shape[0] != batch_size:
        raise ValueError(f"joints must have shape ({batch_size}, max_people, K, 2), got {tuple(joints.shape)}")
    if joints.dtype.is_floating_point or joints.dtype == torch.bool:
        raise ValueError(f"joints must be an integer tensor, got {joints.dtype}")
    joints = joints.to(tags.device).long()
    index, used = joints[..., 0], joints[..., 1] > 0
    bad = used & ((index < 0) | (index >= num_entries))
    if bad.any():
        b, m = (int(v) for v in bad.nonzero()[0][:2])
        raise ValueError(
            f"joints[{b}, {m}] has a flat index outside [0, {num_entries}) (K·H·W of the tag maps): "
            f"{index[b, m][bad[b, m]].tolist()}"
        )

    weight = used.to(tags.dtype)  # (B, M, K')
    gathered = torch.gather(tags, 1, index.clamp(0, num_entries - 1).flatten(1)).view(index.shape)
    count = weight.sum(-1)  # (B, M)
    person = count > 0
    safe_count = count.clamp(min=1)
    reference = (gathered * weight).sum(-1) / safe_count  # μ_p, (B, M)
    pull_person = ((gathered - reference[..., None]) ** 2 * weight).sum(-1) / safe_count
    num_people = person.sum(-1).to(tags.dtype)  # (B,)
    pull = (pull_person * person).sum(-1) / num_people.clamp(min=1)

    difference = reference[:, :, None] - reference[:, None, :]
    if loss_type == "exp":
        similarity = torch.exp(-(difference**2))
    else:
        similarity = (1 - difference.abs()).clamp(min=0)
    # ordered pairs p != q; summing them directly equals MMPose's "Σ_{p,q} − N" without its float32 cancellation
    off_diagonal = ~torch.eye(reference.shape[1], dtype=torch.bool, device=tags.device)
    pair = (person[:, :, None] & person[:, None, :] & off_diagonal).to(tags.dtype)
    push_sum = (similarity * pair).sum(dim=(1, 2))
    push = torch.where(
        num_people > 1, push_sum / (num_people * (num_people - 1)).clamp(min=1) * 0.5, torch.zeros_like(push_sum)
    )
    return push, pull


def multi_resolution_ae_loss(
    outputs: Sequence[torch.Tensor],
    target_heatmaps: Sequence[torch.Tensor],
    target_masks: Sequence[torch.Tensor],
    joints: torch.Tensor,
    num_keypoints: int,
    heatmap_loss_factors: Sequence[float],
    push_loss_factor: float = 0.001,
    pull_loss_factor: float = 0.001,
    supervise_empty: bool = True,
    loss_type: str = "exp",
) -> dict[str, torch.Tensor]:
    """MMPose 0.29 `MultiLossFactory` + head `get_loss`, for heads whose stage 0 outputs heatmaps and tags.

    Stage s output: channels `[0, K)` are heatmaps, compared with `target_heatmaps[s]` under `target_masks[s]`
    (× `heatmap_loss_factors[s]`); stage 0's channels `[K, 2K)` are the tags (one per keypoint) that the AE loss
    reads (× `push_loss_factor`, `pull_loss_factor`). Only stage 0 has tags (with_ae_loss = [True, False, ...]).
    Totals are batch means, summed over stages.

    Args:
        outputs (sequence of S `torch.FloatTensor`): stage 0 `(B, 2K, H_0, W_0)`, stage s > 0 `(B, ≥K, H_s, W_s)`.
        target_heatmaps (sequence of S `torch.FloatTensor` `(B, K, H_s, W_s)`), target_masks (sequence of S
            `(B, H_s, W_s)`), joints (`(B, M, K, 2)` integer, indices into stage 0's tags).

    Returns:
        dict with `loss_heatmap`, `loss_push`, `loss_pull` (scalars) and the per-image terms
        `heatmap_per_image` (list of S `(B,)`), `push_per_image`, `pull_per_image` (`(B,)`, factors applied).

    Raises:
        ValueError: if the numbers of stages disagree or stage 0 has fewer than 2K channels.
    """
    num_stages = len(outputs)
    for name, value in (
        ("target_heatmaps", target_heatmaps),
        ("target_masks", target_masks),
        ("heatmap_loss_factors", heatmap_loss_factors),
    ):
        if len(value) != num_stages:
            raise ValueError(f"{name} must have one entry per output resolution ({num_stages}), got {len(value)}")
    if outputs[0].shape[1] < 2 * num_keypoints:
        raise ValueError(
            f"stage-0 output needs {2 * num_keypoints} channels (heatmaps + tags), got {outputs[0].shape[1]}"
        )

    heatmap_per_image = [
        masked_heatmap_loss(out[:, :num_keypoints], target, mask, supervise_empty) * factor
        for out, target, mask, factor in zip(outputs, target_heatmaps, target_masks, heatmap_loss_factors)
    ]
    push, pull = associative_embedding_loss(outputs[0][:, num_keypoints : 2 * num_keypoints], joints, loss_type)
    push_per_image, pull_per_image = push * push_loss_factor, pull * pull_loss_factor
    loss_heatmap = sum(loss.mean() for loss in heatmap_per_image)
    return {
        "loss_heatmap": loss_heatmap,
        "loss_push": push_per_image.mean(),
        "loss_pull": pull_per_image.mean(),
        "heatmap_per_image": heatmap_per_image,
        "push_per_image": push_per_image,
        "pull_per_image": pull_per_image,
    }
