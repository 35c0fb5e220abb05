# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""MPII head boxes and head sizes: read from the official ``mpii_gt_val.mat``, or synthesized from the head-top and
upper-neck joints when a split has none.

A data concern shared by the MPII dataset builder (`hfpose.data.mpii`, which stores each person's head size) and the
PCKh metric (`hfpose.evaluation.pckh`, which normalizes distances by it).

Glossary: N person instances; boxes ``[[x1, y1], [x2, y2]]`` and joints ``(x, y)`` in image pixels.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np

__all__ = ["head_sizes_from_headboxes", "load_mpii_headboxes", "synthetic_head_boxes"]


def head_sizes_from_headboxes(headboxes, factor: float = 0.6) -> np.ndarray:
    """Head size = ``factor * ||corner_2 - corner_1||`` (MMPose ``MpiiDataset``, official ``SC_BIAS = 0.6``).

    Args:
        headboxes: ``(N, 2, 2)`` boxes ``[[x1, y1], [x2, y2]]`` in image px.
        factor: scale applied to the box diagonal.

    Returns:
        float64 ``(N,)`` head sizes in px.

    Raises:
        ValueError: if ``headboxes`` is not ``(N, 2, 2)`` or has non-finite values (names the box).
    """
    boxes = np.asarray(headboxes, dtype=np.float64)
    if boxes.ndim != 3 or boxes.shape[1:] != (2, 2):
        raise ValueError(f"headboxes must have shape (N, 2, 2); got {boxes.shape}")
    bad = ~np.isfinite(boxes).all(axis=(1, 2))
    if bad.any():
        raise ValueError(f"headboxes[{int(np.flatnonzero(bad)[0])}] is not finite")
    return np.linalg.norm(boxes[:, 1] - boxes[:, 0], axis=-1) * factor


def synthetic_head_boxes(head_top, upper_neck) -> np.ndarray:
    """Square head boxes for MPII samples without official ones (the golden fixtures' convention).

    The box is axis-aligned, of side ``L = ||head_top - upper_neck||`` (joints 9 and 8), centred at their midpoint;
    its head size (:func:`head_sizes_from_headboxes`) is therefore ``0.6 * sqrt(2) * L``.

    Args:
        head_top: ``(N, 2)`` head-top joints in image px.
        upper_neck: ``(N, 2)`` upper-neck joints in image px.

    Returns:
        float64 ``(N, 2, 2)`` boxes ``[[x1, y1], [x2, y2]]``.

    Raises:
        ValueError: on mismatched shapes or non-finite points.
    """
    top = np.asarray(head_top, dtype=np.float64)
    neck = np.asarray(upper_neck, dtype=np.float64)
    if top.ndim != 2 or top.shape[-1] != 2 or neck.shape != top.shape:
        raise ValueError(f"head_top and upper_neck must both have shape (N, 2); got {top.shape} and {neck.shape}")
    bad = ~(np.isfinite(top).all(axis=1) & np.isfinite(neck).all(axis=1))
    if bad.any():
        raise ValueError(f"head_top/upper_neck of instance {int(np.flatnonzero(bad)[0])} is not finite")
    center = (top + neck) / 2.0
    half = np.linalg.norm(top - neck, axis=1)[:, None] / 2.0
    return np.stack([center - half, center + half], axis=1)


def load_mpii_headboxes(mat_file: str | PathLike) -> np.ndarray:
    """Head boxes from the official ``mpii_gt_val.mat`` layout (``headboxes_src`` of shape ``(2, 2, N)``).

    Returns:
        float64 ``(N, 2, 2)`` boxes ``[[x1, y1], [x2, y2]]``, in the order of the matching MPII json.

    Raises:
        FileNotFoundError: if the file does not exist.
        ValueError: if it has no ``headboxes_src`` of shape ``(2, 2, N)``.
    """
    from scipy.io import loadmat

    path = Path(mat_file)
    if not path.is_file():
        raise FileNotFoundError(f"head box file not found: {path}")
    content = loadmat(str(path))
    if "headboxes_src" not in content:
        raise ValueError(f"{path} has no 'headboxes_src' (keys: {sorted(k for k in content if not k.startswith('_'))})")
    boxes = np.asarray(content["headboxes_src"], dtype=np.float64)
    if boxes.ndim != 3 or boxes.shape[:2] != (2, 2):
        raise ValueError(f"{path}: headboxes_src must have shape (2, 2, N); got {boxes.shape}")
    return np.transpose(boxes, (2, 0, 1))
