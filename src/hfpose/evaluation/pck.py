# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""PCK (of the box size), AUC and EPE: metrics for keypoint sets without OKS sigmas.

Glossary: N persons (ground truth matched one-to-one with predictions: top-down, one prediction per box), K keypoints;
coordinates are (x, y) in image pixels.

* PCK@thr (MMPose ``PCKAccuracy(norm_item='bbox')``): a keypoint is correct when its distance to the ground truth,
  divided by the person's box size ``max(w, h)`` (COCO ``[x, y, w, h]`` box, as MMPose 0.x; MMPose 1.x takes the
  maximum of the ``xyxy`` corner instead), is below ``thr``. The accuracy of keypoint k is the fraction of correct
  visible instances; PCK is the mean over the keypoints that have at least one visible instance.
* AUC (MMPose ``AUC``): the mean PCK over thresholds ``i / num_thresholds`` (i = 0..num_thresholds-1) with the
  distance divided by a fixed ``norm_factor`` in pixels (30).
* EPE (MMPose ``EPE``): the mean end-point error in pixels over visible keypoints.

Source: MMPose ``mmpose/evaluation/functional/keypoint_eval.py`` (``keypoint_pck_accuracy``, ``keypoint_auc``,
``keypoint_epe``) and ``metrics/keypoint_2d_metrics.py`` (open-mmlab/mmpose@759b39c), read for the definitions.
"""

from __future__ import annotations

import numpy as np

__all__ = ["keypoint_auc", "keypoint_epe", "keypoint_pck_accuracy", "match_predictions_to_annotations", "pck_metrics"]


def _check(pred, gt, mask):
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    if pred.ndim != 3 or pred.shape[-1] != 2 or pred.shape != gt.shape:
        raise ValueError(f"pred and gt must both be (N, K, 2); got {pred.shape} and {gt.shape}")
    if mask.shape != pred.shape[:2]:
        raise ValueError(f"mask must be (N, K) = {pred.shape[:2]}; got {mask.shape}")
    return pred, gt, mask


def _normalized_distances(pred, gt, mask, norm) -> np.ndarray:
    """(K, N) distances ``||(pred - gt) / norm||``; -1 where not visible or the normalizer is not positive."""
    valid = mask & (norm[:, None] > 0)
    safe = np.where(norm > 0, norm, 1.0)[:, None, None]
    distances = np.linalg.norm((pred - gt) / safe, axis=-1)
    return np.where(valid, distances, -1.0).T


def _accuracy(distances: np.ndarray, thr: float) -> np.ndarray:
    """(K,) fraction of valid distances below ``thr`` per keypoint; -1 for a keypoint with no valid instance."""
    valid = distances != -1
    counts = valid.sum(axis=1)
    hits = ((distances < thr) & valid).sum(axis=1)
    return np.where(counts > 0, hits / np.maximum(counts, 1), -1.0)


def keypoint_pck_accuracy(pred, gt, mask, thr: float, norm) -> tuple[np.ndarray, float, int]:
    """PCK of each keypoint and their mean.

    Args:
        pred, gt (`np.ndarray` of shape `(N, K, 2)`): predicted / ground-truth (x, y), image px.
        mask (`np.ndarray` of shape `(N, K)`): visible ground-truth keypoints.
        thr (`float`): threshold on the normalized distance (0.2 for PCK@0.2).
        norm (`np.ndarray` of shape `(N,)`): per-person normalizer in px (box size ``max(w, h)``); persons with
            ``norm <= 0`` are ignored.

    Returns:
        (per-keypoint accuracy `(K,)`, -1 where a keypoint is never visible; mean accuracy over the others, 0 if
        none; number of keypoints with a valid instance).

    Raises:
        ValueError: on mismatched shapes (names both).
    """
    pred, gt, mask = _check(pred, gt, mask)
    norm = np.asarray(norm, dtype=np.float64).reshape(-1)
    if norm.shape[0] != pred.shape[0]:
        raise ValueError(f"norm must have one entry per person ({pred.shape[0]}); got {norm.shape[0]}")
    accuracy = _accuracy(_normalized_distances(pred, gt, mask, norm), thr)
    valid = accuracy >= 0
    return accuracy, float(accuracy[valid].mean()) if valid.any() else 0.0, int(valid.sum())


def keypoint_auc(pred, gt, mask, norm_factor: float = 30.0, num_thresholds: int = 20) -> float:
    """Area under the PCK curve for thresholds ``i / num_thresholds``, distances divided by ``norm_factor`` px.

    Raises:
        ValueError: on mismatched shapes.
    """
    pred, gt, mask = _check(pred, gt, mask)
    norm = np.full(pred.shape[0], float(norm_factor))
    distances = _normalized_distances(pred, gt, mask, norm)
    values = []
    for index in range(num_thresholds):
        accuracy = _accuracy(distances, index / num_thresholds)
        valid = accuracy >= 0
        values.append(accuracy[valid].mean() if valid.any() else 0.0)
    return float(np.mean(values))


def keypoint_epe(pred, gt, mask) -> float:
    """Mean end-point error (px) over the visible keypoints; 0 when none is visible.

    Raises:
        ValueError: on mismatched shapes.
    """
    pred, gt, mask = _check(pred, gt, mask)
    distances = np.linalg.norm(pred - gt, axis=-1)[mask]
    return float(distances.mean()) if distances.size else 0.0


def pck_metrics(pred, gt, mask, bboxes, thr: float = 0.2) -> dict[str, float]:
    """``{"PCK@0.2": ..., "AUC": ..., "EPE": ...}`` for N matched persons.

    Args:
        pred, gt (`(N, K, 2)`), mask (`(N, K)`): as `keypoint_pck_accuracy`.
        bboxes (`np.ndarray` of shape `(N, 4)`): ground-truth COCO ``[x, y, w, h]`` boxes, image px.
        thr (`float`): PCK threshold on the distance over ``max(w, h)``.
    """
    bboxes = np.asarray(bboxes, dtype=np.float64).reshape(-1, 4)
    _, pck, _ = keypoint_pck_accuracy(pred, gt, mask, thr, bboxes[:, 2:].max(axis=1))
    return {f"PCK@{thr:g}": pck, "AUC": keypoint_auc(pred, gt, mask), "EPE": keypoint_epe(pred, gt, mask)}


def match_predictions_to_annotations(predictions: list[dict], annotations: list[dict]):
    """Pair top-down predictions made on ground-truth boxes with their annotations (by annotation ``id``).

    Args:
        predictions: records with ``id`` (the annotation id of the box) and ``keypoints`` (K x 2, image px), as
            `hfpose.training.evaluation_loop.predict_topdown` returns them.
        annotations: COCO-format annotations with ``id``, ``bbox`` (xywh) and ``keypoints`` (3K: x, y, v).

    Returns:
        ``(pred (N, K, 2), gt (N, K, 2), mask (N, K), bboxes (N, 4))`` over the annotations with a prediction.

    Raises:
        ValueError: if no prediction has the id of an annotation (PCK needs predictions on ground-truth boxes).
    """
    by_id = {int(record["id"]): np.asarray(record["keypoints"], dtype=np.float64) for record in predictions}
    pred, gt, mask, boxes = [], [], [], []
    for ann in annotations:
        if int(ann["id"]) not in by_id:
            continue
        keypoints = np.asarray(ann["keypoints"], dtype=np.float64).reshape(-1, 3)
        pred.append(by_id[int(ann["id"])].reshape(len(keypoints), -1)[:, :2])
        gt.append(keypoints[:, :2])
        mask.append(keypoints[:, 2] > 0)
        boxes.append(np.asarray(ann["bbox"], dtype=np.float64))
    if not pred:
        raise ValueError(
            "no prediction has the id of a ground-truth annotation; PCK needs predictions made on the "
            "ground-truth boxes (bbox_file=None)"
        )
    return np.stack(pred), np.stack(gt), np.stack(mask), np.stack(boxes)
