# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Track ids for the people of consecutive video frames: greedy IoU or OKS matching against the previous frame.

The rule is MMPose's pose tracker (``mmpose/apis/inference_tracking.py``: ``_track_by_iou``, ``_track_by_oks``,
``get_track_id``; the same functions back ``Pose3DInferencer`` in MMPose 1.x): the persons of the current frame are
taken in the order given; each takes the id of the *remaining* person of the previous frame it is most similar to,
when that similarity is above ``threshold`` (default 0.3, MMPose's ``tracking_thr``), and that previous person is
then used up. A person left unmatched starts a new id when at least ``min_keypoints`` of its keypoints score above
``keypoint_threshold`` (MMPose: 3 non-zero keypoints), and gets ``-1`` otherwise. Only the previous frame is looked
at, as in MMPose: a person missed for one frame comes back with a new id.

Glossary:
    N: persons in the current frame; M: persons in the previous frame; K: keypoints.
    bbox: COCO ``[x, y, w, h]`` in image pixels.
    keypoints: ``(K, 2)`` ``(x, y)`` in image pixels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["PoseTracker", "box_iou", "pose_oks"]


def box_iou(boxes_a, boxes_b) -> np.ndarray:
    """Intersection over union of every pair of COCO ``[x, y, w, h]`` boxes.

    Args:
        boxes_a (`np.ndarray` of shape `(N, 4)`), boxes_b (`np.ndarray` of shape `(M, 4)`): image pixels.

    Returns:
        `np.ndarray` of shape `(N, M)`, float64 in ``[0, 1]`` (0 where both boxes have no area).
    """
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 4)
    left = np.maximum(a[:, None, 0], b[None, :, 0])
    top = np.maximum(a[:, None, 1], b[None, :, 1])
    right = np.minimum(a[:, None, 0] + a[:, None, 2], b[None, :, 0] + b[None, :, 2])
    bottom = np.minimum(a[:, None, 1] + a[:, None, 3], b[None, :, 1] + b[None, :, 3])
    intersection = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None, :] - intersection
    return np.where(union > 0, intersection / np.where(union > 0, union, 1.0), 0.0)


def pose_oks(keypoints_a, areas_a, keypoints_b, areas_b, sigmas) -> np.ndarray:
    """Object keypoint similarity of every pair of poses, symmetric in the two poses.

    ``OKS = mean_k exp(-d_k^2 / (2 s^2 kappa_k^2))`` with ``kappa_k = 2 sigma_k`` and ``s^2`` the mean of the two
    areas: COCO's OKS (cocodataset.org/#keypoints-eval; ``COCOeval.computeOks``) with the ground-truth area replaced
    by the mean area, as MMPose's ``oks_iou`` does for tracking and OKS-NMS.

    Args:
        keypoints_a (`np.ndarray` of shape `(N, K, 2)`), keypoints_b (`(M, K, 2)`): image pixels.
        areas_a (`(N,)`), areas_b (`(M,)`): person areas in square pixels (box ``w * h``).
        sigmas (`np.ndarray` of shape `(K,)`): per-keypoint OKS constants (``hfpose.keypoints``).

    Returns:
        `np.ndarray` of shape `(N, M)`, float64 in ``[0, 1]``.

    Raises:
        ValueError: if the keypoint counts of the poses and of `sigmas` differ.
    """
    a = np.asarray(keypoints_a, dtype=np.float64)
    b = np.asarray(keypoints_b, dtype=np.float64)
    sigmas = np.asarray(sigmas, dtype=np.float64).reshape(-1)
    if a.ndim != 3 or b.ndim != 3 or a.shape[1] != sigmas.size or b.shape[1] != sigmas.size:
        raise ValueError(
            f"pose_oks needs keypoints of shape (N, K, 2) with K = len(sigmas) = {sigmas.size}; got "
            f"{a.shape} and {b.shape}"
        )
    squared = ((a[:, None] - b[None]) ** 2).sum(-1)  # (N, M, K)
    scale = (np.asarray(areas_a, dtype=np.float64)[:, None] + np.asarray(areas_b, dtype=np.float64)[None, :]) / 2
    exponent = squared / (2.0 * (2.0 * sigmas) ** 2 * (scale[..., None] + np.spacing(1)))
    return np.exp(-exponent).mean(-1)


class PoseTracker:
    """Give each person of a stream of frames a track id (MMPose's greedy IoU / OKS rule, see the module docstring).

    Args:
        method (`str`): ``"iou"`` (boxes) or ``"oks"`` (keypoints; needs `sigmas`).
        threshold (`float`): least IoU / OKS with a previous person to keep its id (MMPose: 0.3).
        sigmas (`Sequence[float]`, *optional*): OKS constants ``(K,)``, required for ``"oks"``.
        min_keypoints (`int`): keypoints scoring above `keypoint_threshold` that a new track needs (MMPose: 3).
        keypoint_threshold (`float`): see `min_keypoints` (default 0: any positive score counts).

    Ids start at 0 and are never reused.

    Raises:
        ValueError: for an unknown method, a threshold outside ``[0, 1]``, or ``"oks"`` without sigmas.
    """

    def __init__(
        self,
        method: str = "iou",
        threshold: float = 0.3,
        sigmas: Sequence[float] | None = None,
        min_keypoints: int = 3,
        keypoint_threshold: float = 0.0,
    ):
        if method not in ("iou", "oks"):
            raise ValueError(f"tracking method must be 'iou' or 'oks'; got {method!r}")
        if not 0.0 <= float(threshold) <= 1.0:
            raise ValueError(f"tracking threshold must be in [0, 1]; got {threshold!r}")
        if method == "oks" and sigmas is None:
            raise ValueError("OKS tracking needs the keypoints' OKS sigmas (sigmas=...); use method='iou' otherwise")
        self.method = method
        self.threshold = float(threshold)
        self.sigmas = None if sigmas is None else np.asarray(sigmas, dtype=np.float64)
        self.min_keypoints = int(min_keypoints)
        self.keypoint_threshold = float(keypoint_threshold)
        self.next_id = 0
        self._previous: dict | None = None

    def reset(self) -> None:
        """Forget the previous frame (ids keep counting up)."""
        self._previous = None

    def update(self, bboxes, keypoints, scores) -> np.ndarray:
        """Match the persons of a new frame to those of the previous one.

        Args:
            bboxes (`np.ndarray` of shape `(N, 4)`): COCO ``[x, y, w, h]`` boxes, image pixels.
            keypoints (`np.ndarray` of shape `(N, K, 2)`): image pixels.
            scores (`np.ndarray` of shape `(N, K)`): keypoint scores.

        Returns:
            `np.ndarray` of shape `(N,)`, int64: the track id of each person (``-1``: too few keypoints for a track).

        Raises:
            ValueError: if the three arrays disagree on N.
        """
        bboxes = np.asarray(bboxes, dtype=np.float64).reshape(-1, 4)
        keypoints = np.asarray(keypoints, dtype=np.float64)
        scores = np.asarray(scores, dtype=np.float64)
        count = len(bboxes)
        if (
            keypoints.ndim != 3
            or keypoints.shape[-1] != 2
            or scores.shape != keypoints.shape[:2]
            or len(keypoints) != count
        ):
            raise ValueError(
                f"PoseTracker.update needs keypoints (N, K, 2) and scores (N, K) for N = {count} boxes; "
                f"got {keypoints.shape} and {scores.shape}"
            )
        ids = np.full(count, -1, dtype=np.int64)
        previous = self._previous
        if previous is not None and count and len(previous["ids"]):
            if self.method == "iou":
                similarity = box_iou(bboxes, previous["bboxes"])
            else:
                areas = bboxes[:, 2] * bboxes[:, 3]
                similarity = pose_oks(keypoints, areas, previous["keypoints"], previous["areas"], self.sigmas)
            available = previous["ids"] >= 0
            for index in range(count):
                candidates = np.where(available, similarity[index], -np.inf)
                best = int(np.argmax(candidates))
                if candidates[best] > self.threshold:
                    ids[index] = previous["ids"][best]
                    available[best] = False
        for index in np.flatnonzero(ids < 0):
            good = np.isfinite(keypoints[index]).all(-1) & (scores[index] > self.keypoint_threshold)
            if int(good.sum()) >= self.min_keypoints:
                ids[index] = self.next_id
                self.next_id += 1
        self._previous = {
            "ids": ids.copy(),
            "bboxes": bboxes,
            "keypoints": keypoints,
            "areas": bboxes[:, 2] * bboxes[:, 3],
        }
        return ids
