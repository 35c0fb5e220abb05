# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""PCKh on MPII, as MMPose ``MpiiPCKAccuracy`` (norm_item ``"head"``).

Glossary:
    N: number of person instances. K: 16 MPII joints in MPII order (0 r_ankle, 1 r_knee, 2 r_hip, 3 l_hip,
        4 l_knee, 5 l_ankle, 6 pelvis, 7 thorax, 8 upper_neck, 9 head_top, 10 r_wrist, 11 r_elbow, 12 r_shoulder,
        13 l_shoulder, 14 l_elbow, 15 l_wrist).
    keypoints: ``(x, y)`` in image pixels, **as stored in MMPose's MPII json** (MMPose 1.x does not subtract 1).
    head_size: ``0.6 * ||corner_2 - corner_1||`` of the head box (Andriluka et al., CVPR 2014; the official
        ``evaluatePCKh.m`` uses ``SC_BIAS = 0.6``).

Definition (MMPose ``mmpose/evaluation/metrics/keypoint_2d_metrics.py::MpiiPCKAccuracy`` and
``mmpose/evaluation/functional/keypoint_eval.py::keypoint_pck_accuracy``, open-mmlab/mmpose@759b39c):

* every prediction is shifted by **+1.0 px** ("MATLAB 1-based"), although the ground truth is not (MMPose's
  ``MpiiPCKAccuracy`` adds it, copied from the MATLAB evaluation of 1-based annotations);
* normalized distance ``d = ||pred + 1 - gt|| / head_size`` (stored as float32), for visible joints only, and for
  instances whose head size is non-zero;
* ``PCKh_j(t) = #(d < t) / #visible`` per joint (strict ``<``), in percent;
* groups average the two sides: Shoulder (12, 13), Elbow (11, 14), Wrist (10, 15), Hip (2, 3), Knee (1, 4),
  Ankle (0, 5); Head is joint 9;
* ``PCK = sum_j PCKh_j * count_j / sum_j count_j`` over all joints except 6 (pelvis) and 7 (thorax);
* ``PCK@0.1`` uses the same weights with the per-joint values at threshold 0.1 rounded to float32 (MMPose keeps
  its threshold sweep in a float32 array).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np

from ..data.head_boxes import head_sizes_from_headboxes, load_mpii_headboxes, synthetic_head_boxes

__all__ = [
    "PCKH_STAT_NAMES",
    "compute_pckh",
    "head_sizes_from_headboxes",
    "load_mpii_ground_truth",
    "load_mpii_headboxes",
    "pckh_per_joint",
    "synthetic_head_boxes",
]

PCKH_STAT_NAMES = (
    "Head PCK", "Shoulder PCK", "Elbow PCK", "Wrist PCK", "Hip PCK", "Knee PCK", "Ankle PCK", "PCK", "PCK@0.1",
)  # fmt: skip
_NUM_JOINTS = 16
_HEAD = 9
_GROUPS = {
    "Shoulder PCK": (13, 12),
    "Elbow PCK": (14, 11),
    "Wrist PCK": (15, 10),
    "Hip PCK": (3, 2),
    "Knee PCK": (4, 1),
    "Ankle PCK": (5, 0),
}
_EXCLUDED = (6, 7)  # pelvis, thorax


def _validate(pred, gt, visible, head_size) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    pred = np.asarray(pred)
    gt = np.asarray(gt)
    if not np.issubdtype(pred.dtype, np.floating):
        pred = pred.astype(np.float64)
    if not np.issubdtype(gt.dtype, np.floating):
        gt = gt.astype(np.float64)
    if pred.ndim != 3 or pred.shape[-1] != 2:
        raise ValueError(f"pred must have shape (N, K, 2); got {pred.shape}")
    if gt.shape != pred.shape:
        raise ValueError(f"gt must have the shape of pred {pred.shape}; got {gt.shape}")
    visible = np.asarray(visible)
    if visible.shape != pred.shape[:2]:
        raise ValueError(f"visible must have shape {pred.shape[:2]}; got {visible.shape}")
    head_size = np.asarray(head_size, dtype=np.float64).reshape(-1)
    if head_size.shape != (pred.shape[0],):
        raise ValueError(f"head_size must have shape ({pred.shape[0]},); got {np.asarray(head_size).shape}")
    mask = visible.astype(bool)
    for name, array in (("pred", pred), ("gt", gt)):
        bad = mask & ~np.isfinite(array).all(axis=-1)
        if bad.any():
            instance, joint = np.argwhere(bad)[0]
            raise ValueError(f"{name}[{instance}, {joint}] of a visible joint is not finite")
    if not np.isfinite(head_size).all():
        raise ValueError(f"head_size[{int(np.flatnonzero(~np.isfinite(head_size))[0])}] is not finite")
    return pred, gt, mask, head_size


def _normalized_distances(pred, gt, mask, head_size) -> np.ndarray:
    """MMPose ``_calc_distances``: float32 ``(N, K)``, -1 where the joint is masked or the head size is 0."""
    mask = mask.copy()
    mask[head_size == 0, :] = False
    norm = np.where(head_size <= 0, 1e6, head_size)
    distances = np.full(mask.shape, -1, dtype=np.float32)
    shifted = pred + 1.0  # MATLAB 1-based, as MpiiPCKAccuracy
    difference = (shifted - gt) / norm[:, None, None]
    distances[mask] = np.linalg.norm(difference[mask], axis=-1)
    return distances


def _per_joint_accuracy(distances: np.ndarray, thr: float) -> np.ndarray:
    """Fraction of valid distances ``< thr`` per joint, float64 ``(K,)``; -1 for a joint without valid distances."""
    valid = distances != -1
    counts = valid.sum(axis=0)
    hits = ((distances < thr) & valid).sum(axis=0)
    return np.where(counts > 0, hits / np.maximum(counts, 1), -1.0)


def pckh_per_joint(pred, gt, visible, head_size, thr: float = 0.5) -> dict[str, np.ndarray]:
    """Per-joint PCKh ingredients, as MMPose computes them.

    Args:
        pred: ``(N, K, 2)`` predictions in image px (json convention; +1 is added here).
        gt: ``(N, K, 2)`` ground truth in image px, as stored in the MPII json.
        visible: ``(N, K)`` visibility; non-zero means visible.
        head_size: ``(N,)`` head sizes in px.
        thr: threshold on the normalized distance (strict ``<``).

    Returns:
        ``normalized_distances`` float32 ``(N, K)`` (-1 where invisible), ``joint_count`` int64 ``(K,)`` (visible
        instances per joint), ``accuracy`` float64 ``(K,)`` in [0, 1] (-1 for a joint without visible instance) and
        ``mean_accuracy`` (plain mean over joints with a visible instance, MMPose ``keypoint_pck_accuracy``).

    Raises:
        ValueError: on mismatched shapes or non-finite values of visible joints / head sizes.
    """
    pred, gt, mask, head_size = _validate(pred, gt, visible, head_size)
    distances = _normalized_distances(pred, gt, mask, head_size)
    accuracy = _per_joint_accuracy(distances, thr)
    valid = accuracy[accuracy >= 0]
    return {
        "normalized_distances": distances,
        "joint_count": mask.sum(axis=0).astype(np.int64),
        "accuracy": accuracy,
        "mean_accuracy": float(valid.mean()) if valid.size else 0.0,
    }


def compute_pckh(pred, gt, visible, head_size, thresholds: Sequence[float] = (0.5, 0.1)) -> dict[str, float]:
    """MPII PCKh stats in percent, as MMPose ``MpiiPCKAccuracy(thr=thresholds[0], norm_item="head")``.

    Args:
        pred: ``(N, 16, 2)`` predictions in image px, same convention as the json ground truth; MMPose's +1.0 shift
            is applied here (see the module docstring), so pass the predictions exactly as the model maps them to
            the image.
        gt: ``(N, 16, 2)`` ground-truth joints as stored in MMPose's MPII json.
        visible: ``(N, 16)`` joint visibility (``joints_vis``); non-zero means visible.
        head_size: ``(N,)`` head sizes in px (see :func:`head_sizes_from_headboxes`).
        thresholds: ``thresholds[0]`` is the threshold of the group stats and ``PCK``; every further threshold
            ``t`` adds a ``"PCK@{t:g}"`` entry computed as MMPose's ``PCK@0.1`` (float32 per-joint values).

    Returns:
        ``{"Head PCK", "Shoulder PCK", "Elbow PCK", "Wrist PCK", "Hip PCK", "Knee PCK", "Ankle PCK", "PCK",
        "PCK@0.1"}`` (with the default thresholds) as python floats in percent. A group whose joints have no
        visible instance gets MMPose's -100.

    Raises:
        ValueError: on shapes other than 16 MPII joints, an empty ``thresholds``, or non-finite values.
    """
    pred, gt, mask, head_size = _validate(pred, gt, visible, head_size)
    if pred.shape[1] != _NUM_JOINTS:
        raise ValueError(f"PCKh groups need the {_NUM_JOINTS} MPII joints; got K = {pred.shape[1]}")
    thresholds = [float(t) for t in thresholds]
    if not thresholds:
        raise ValueError("thresholds must contain at least one threshold")
    distances = _normalized_distances(pred, gt, mask, head_size)
    joint_count = mask.sum(axis=0).astype(np.float64)
    joint_count[list(_EXCLUDED)] = 0.0
    total = joint_count.sum()
    ratio = joint_count / total if total > 0 else np.zeros_like(joint_count)

    pckh = 100.0 * _per_joint_accuracy(distances, thresholds[0])
    stats = {"Head PCK": float(pckh[_HEAD])}
    for name, (left, right) in _GROUPS.items():
        stats[name] = float(0.5 * (pckh[left] + pckh[right]))
    stats["PCK"] = float(np.sum(pckh * ratio))
    for threshold in thresholds[1:]:
        sweep = (100.0 * _per_joint_accuracy(distances, threshold)).astype(np.float32)
        stats[f"PCK@{threshold:g}"] = float(np.sum(sweep * ratio))
    return stats


def load_mpii_ground_truth(ann_file: str | PathLike, headbox_file: str | PathLike | None = None) -> dict:
    """Ground truth for PCKh from an MPII json in MMPose's format (a list of ``{"image", "joints", "joints_vis",
    "center", "scale"}``), with head sizes from the official head boxes or, without them, synthetic ones.

    Args:
        ann_file: MMPose MPII json (e.g. ``mpii_val.json``).
        headbox_file: official ``mpii_gt_val.mat`` in the same order as ``ann_file``; when None,
            :func:`synthetic_head_boxes` is used.

    Returns:
        ``image_names`` (list of str), ``keypoints`` float32 ``(N, 16, 2)`` (as stored, no -1),
        ``keypoints_visible`` float32 ``(N, 16)``, ``headboxes`` float64 ``(N, 2, 2)``, ``head_size`` float64 ``(N,)``.

    Raises:
        FileNotFoundError: if a file does not exist.
        ValueError: if an entry (named by index and image) lacks a key or has the wrong number of joints, or the
            head-box count differs from the number of entries.
    """
    path = Path(ann_file)
    if not path.is_file():
        raise FileNotFoundError(f"MPII annotation file not found: {path}")
    with open(path) as handle:
        entries = json.load(handle)
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a json list of MPII entries")
    names, joints, visible = [], [], []
    for index, entry in enumerate(entries):
        missing = [key for key in ("image", "joints", "joints_vis") if key not in entry]
        if missing:
            raise ValueError(f"{path}: entry {index} is missing {missing}")
        points = np.asarray(entry["joints"], dtype=np.float64)
        flags = np.asarray(entry["joints_vis"], dtype=np.float32)
        if points.shape != (_NUM_JOINTS, 2) or flags.shape != (_NUM_JOINTS,):
            raise ValueError(
                f"{path}: entry {index} ({entry['image']}) must have {_NUM_JOINTS} joints; "
                f"got joints {points.shape}, joints_vis {flags.shape}"
            )
        names.append(entry["image"])
        joints.append(points)
        visible.append(flags)
    # Head boxes come from the json's float64 values; the returned keypoints are float32 as MMPose's.
    joints64 = np.stack(joints) if joints else np.zeros((0, _NUM_JOINTS, 2), np.float64)
    keypoints = joints64.astype(np.float32)
    keypoints_visible = np.stack(visible) if visible else np.zeros((0, _NUM_JOINTS), np.float32)
    if headbox_file is not None:
        headboxes = load_mpii_headboxes(headbox_file)
        if len(headboxes) != len(keypoints):
            raise ValueError(f"{headbox_file} has {len(headboxes)} head boxes but {path} has {len(keypoints)} entries")
    else:
        headboxes = synthetic_head_boxes(joints64[:, 9], joints64[:, 8])
    return {
        "image_names": names,
        "keypoints": keypoints,
        "keypoints_visible": keypoints_visible,
        "headboxes": headboxes,
        "head_size": head_sizes_from_headboxes(headboxes),
    }
