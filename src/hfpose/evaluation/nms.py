# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Object keypoint similarity (OKS) between predictions and greedy OKS non-maximum suppression.

Glossary:
    N: number of predicted instances (of one image). K: number of keypoints.
    keypoints: ``(x, y)`` in image pixels.
    area: the instance area in squared image pixels that normalizes the distances. MMPose's top-down ``CocoMetric``
        passes ``prod(bbox_scale)``, the padded (x1.25), aspect-fixed box size, not the ground-truth area.
    sigmas: per-keypoint OKS constants (COCO: ``hfpose.keypoints.COCO_KEYPOINTS.sigmas``).

OKS between two instances ``a`` and ``b`` (Lin et al., COCO keypoint evaluation; MMPose
``mmpose/evaluation/functional/nms.py::oks_iou``, open-mmlab/mmpose@759b39c)::

    e_k = ((x_a,k - x_b,k)^2 + (y_a,k - y_b,k)^2) / (2 sigma_k)^2 / ((area_a + area_b) / 2 + eps) / 2
    OKS = mean_k exp(-e_k)

with ``eps = np.spacing(1)``. Unlike COCOeval, the OKS used for NMS is symmetric (mean of the two areas) and, by
default, averages over all K keypoints whatever their scores.

Precision follows MMPose exactly so that the set of kept predictions is reproduced bit for bit: keypoints, areas
and sigmas are float32, the squared distance divided by ``(2 sigma)^2`` is float32, the rest is float64, and the OKS
is stored (and compared with the threshold) as float32.
"""

from __future__ import annotations

import numpy as np

__all__ = ["oks_iou", "oks_matrix", "oks_nms"]


def _as_keypoints(keypoints, name: str, num_keypoints: int | None = None) -> np.ndarray:
    array = np.asarray(keypoints, dtype=np.float32)
    if array.ndim != 3 or array.shape[-1] != 2:
        raise ValueError(f"{name} must have shape (N, K, 2); got {array.shape}")
    if num_keypoints is not None and array.shape[1] != num_keypoints:
        raise ValueError(f"{name} has {array.shape[1]} keypoints but sigmas has {num_keypoints}")
    bad = ~np.isfinite(array).all(axis=(1, 2))
    if bad.any():
        raise ValueError(f"{name}[{int(np.flatnonzero(bad)[0])}] has a non-finite coordinate")
    return array


def _as_vector(values, name: str, length: int) -> np.ndarray:
    array = np.asarray(values)
    if array.shape != (length,):
        raise ValueError(f"{name} must have shape ({length},); got {array.shape}")
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real numbers; got dtype {array.dtype}")
    bad = ~np.isfinite(array)
    if bad.any():
        raise ValueError(f"{name}[{int(np.flatnonzero(bad)[0])}] is not finite")
    return array


def _as_sigmas(sigmas) -> np.ndarray:
    if sigmas is None:
        from ..keypoints import COCO_KEYPOINTS

        sigmas = COCO_KEYPOINTS.sigmas
    array = np.asarray(sigmas, dtype=np.float32)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"sigmas must have shape (K,); got {array.shape}")
    if not (np.isfinite(array).all() and (array > 0).all()):
        raise ValueError("sigmas must be finite and positive")
    return array


def _oks(
    keypoints_a: np.ndarray,
    keypoints_b: np.ndarray,
    areas_a: np.ndarray,
    areas_b: np.ndarray,
    sigmas: np.ndarray,
    visible: np.ndarray | None,
) -> np.ndarray:
    """Pairwise OKS, ``(A, B)`` float32, from float32 ``(A, K, 2)``, ``(B, K, 2)``, ``(A,)``, ``(B,)``, ``(K,)``."""
    variances = (sigmas * np.float32(2.0)) ** 2
    difference = keypoints_b[None, :, :, :] - keypoints_a[:, None, :, :]
    squared = difference[..., 0] ** 2 + difference[..., 1] ** 2  # float32 (A, B, K)
    normalized = squared / variances  # float32
    # float32 mean area, then + np.spacing(1) (a float64 scalar) promotes to float64 as in MMPose.
    mean_area = (areas_a[:, None] + areas_b[None, :]) / np.float32(2.0)
    denominator = mean_area.astype(np.float64) + np.spacing(1)
    exponent = normalized / denominator[..., None] / 2.0
    similarity = np.exp(-exponent)
    if visible is None:
        oks = similarity.sum(axis=-1) / similarity.shape[-1]
    else:
        counts = visible.sum(axis=-1)
        oks = np.where(counts > 0, np.where(visible, similarity, 0.0).sum(axis=-1) / np.maximum(counts, 1), 0.0)
    return oks.astype(np.float32)


def oks_iou(
    keypoints: np.ndarray,
    area: float,
    other_keypoints: np.ndarray,
    other_areas: np.ndarray,
    sigmas=None,
    keypoint_scores: np.ndarray | None = None,
    other_keypoint_scores: np.ndarray | None = None,
    score_thr: float | None = None,
) -> np.ndarray:
    """OKS of one instance against M others, as MMPose ``oks_iou`` (used by OKS-NMS).

    Args:
        keypoints: ``(K, 2)`` ``(x, y)`` in image pixels.
        area: area of that instance in squared image pixels.
        other_keypoints: ``(M, K, 2)`` in image pixels.
        other_areas: ``(M,)`` areas.
        sigmas: ``(K,)`` OKS sigmas; COCO's when None.
        keypoint_scores, other_keypoint_scores, score_thr: when ``score_thr`` is given, only keypoints whose scores
            are ``> score_thr`` in both instances are averaged (MMPose's ``vis_thr``); an instance pair with no such
            keypoint has OKS 0.

    Returns:
        float32 ``(M,)`` OKS values in [0, 1].

    Raises:
        ValueError: on wrong shapes, a K different from ``len(sigmas)``, non-finite values or a missing score array
            when ``score_thr`` is given.
    """
    sigmas = _as_sigmas(sigmas)
    num_keypoints = sigmas.size
    reference = _as_keypoints(np.asarray(keypoints)[None], "keypoints", num_keypoints)
    others = _as_keypoints(other_keypoints, "other_keypoints", num_keypoints)
    reference_area = _as_vector(np.asarray(area).reshape(1), "area", 1).astype(np.float32)
    others_area = _as_vector(other_areas, "other_areas", others.shape[0]).astype(np.float32)
    visible = None
    if score_thr is not None:
        if keypoint_scores is None or other_keypoint_scores is None:
            raise ValueError("score_thr needs keypoint_scores and other_keypoint_scores")
        scores = np.asarray(keypoint_scores).reshape(1, num_keypoints)
        other_scores = np.asarray(other_keypoint_scores).reshape(others.shape[0], num_keypoints)
        visible = (scores[:, None, :] > score_thr) & (other_scores[None, :, :] > score_thr)
    return _oks(reference, others, reference_area, others_area, sigmas, visible)[0]


def oks_matrix(keypoints: np.ndarray, areas: np.ndarray, sigmas=None) -> np.ndarray:
    """Symmetric pairwise OKS of N instances, all K keypoints, MMPose precision.

    Args:
        keypoints: ``(N, K, 2)`` in image pixels.
        areas: ``(N,)`` areas in squared image pixels.
        sigmas: ``(K,)`` OKS sigmas; COCO's when None.

    Returns:
        float32 ``(N, N)``; the diagonal is 1.

    Raises:
        ValueError: on wrong shapes, a K different from ``len(sigmas)`` or non-finite values (names the index).
    """
    sigmas = _as_sigmas(sigmas)
    keypoints = _as_keypoints(keypoints, "keypoints", sigmas.size)
    areas = _as_vector(areas, "areas", keypoints.shape[0]).astype(np.float32)
    return _oks(keypoints, keypoints, areas, areas, sigmas, None)


def oks_nms(keypoints: np.ndarray, scores: np.ndarray, areas: np.ndarray, thr: float = 0.9, sigmas=None) -> np.ndarray:
    """Greedy OKS non-maximum suppression of the instances of one image (MMPose ``oks_nms``).

    Instances are visited by decreasing score (``np.argsort(scores)[::-1]``, as MMPose, so ties keep MMPose's
    order); each visited instance that is not yet suppressed is kept and suppresses every later instance whose OKS
    with it is ``> thr`` (MMPose keeps ``oks <= thr``).

    Args:
        keypoints: ``(N, K, 2)`` ``(x, y)`` in image pixels.
        scores: ``(N,)`` instance scores (already rescored; dtype kept as given).
        areas: ``(N,)`` areas in squared image pixels (MMPose top-down: ``prod(bbox_scale)``).
        thr: OKS threshold.
        sigmas: ``(K,)`` OKS sigmas; COCO's when None.

    Returns:
        int64 ``(N_kept,)`` indices into the inputs, in the order they were kept (decreasing score).

    Raises:
        ValueError: on wrong shapes, a K different from ``len(sigmas)``, or non-finite values (names the index).

    Source: MMPose ``mmpose/evaluation/functional/nms.py::oks_nms`` (open-mmlab/mmpose@759b39c), vectorized: the
    pairwise OKS matrix is computed once instead of once per kept instance, which gives identical decisions.
    """
    sigmas = _as_sigmas(sigmas)
    keypoints = _as_keypoints(keypoints, "keypoints", sigmas.size)
    num_instances = keypoints.shape[0]
    scores = _as_vector(scores, "scores", num_instances)
    areas = _as_vector(areas, "areas", num_instances).astype(np.float32)
    if num_instances == 0:
        return np.zeros((0,), dtype=np.int64)
    overlap = _oks(keypoints, keypoints, areas, areas, sigmas, None)
    order = np.argsort(scores)[::-1]
    suppressed = np.zeros(num_instances, dtype=bool)
    keep = []
    for index in order:
        if suppressed[index]:
            continue
        keep.append(index)
        # MMPose keeps `oks <= thr`; anything else (including NaN) is suppressed.
        suppressed |= ~(overlap[index] <= np.float32(thr))
    return np.asarray(keep, dtype=np.int64)
