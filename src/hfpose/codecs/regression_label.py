# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Normalized-coordinate regression targets (DeepPose, RLE).

Glossary:
    N: number of instances. K: number of keypoints.
    input_size: ``(w, h)`` of the network input in pixels.
    normalized coordinates: input-space pixels divided by ``(w, h)`` with no half-pixel offset.

Source: Toshev & Szegedy, "DeepPose", CVPR 2014; reference implementation MMPose 1.x
``mmpose/codecs/regression_label.py`` (open-mmlab/mmpose@759b39c).
"""

from __future__ import annotations

import numpy as np

__all__ = ["RegressionLabel"]


class RegressionLabel:
    """Encode keypoints as normalized coordinates and decode them back to input pixels.

    Args:
        input_size: ``(w, h)`` of the network input in pixels.
    """

    def __init__(self, input_size: tuple[int, int]):
        self.input_size = (int(input_size[0]), int(input_size[1]))

    def encode(self, keypoints: np.ndarray, keypoints_visible: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Encode keypoints.

        Args:
            keypoints: ``(N, K, 2)`` in input-space pixels.
            keypoints_visible: ``(N, K)`` visibility; defaults to all ones.

        Returns:
            ``keypoint_labels`` float32 ``(N, K, 2)`` = keypoints / (w, h), and ``keypoint_weights`` float32 ``(N, K)``:
            1 where ``0 <= x <= w - 1``, ``0 <= y <= h - 1`` (both inclusive) and ``visible > 0.5`` (strict), else 0.

        Raises:
            ValueError: if the shapes disagree.
        """
        keypoints = np.asarray(keypoints, dtype=np.float32)
        if keypoints.ndim != 3 or keypoints.shape[-1] != 2:
            raise ValueError(f"keypoints must have shape (N, K, 2); got {keypoints.shape}")
        if keypoints_visible is None:
            keypoints_visible = np.ones(keypoints.shape[:2], dtype=np.float32)
        keypoints_visible = np.asarray(keypoints_visible, dtype=np.float32)
        if keypoints_visible.shape != keypoints.shape[:2]:
            raise ValueError(
                f"keypoints_visible must have shape {keypoints.shape[:2]} to match keypoints; got {keypoints_visible.shape}"
            )
        w, h = self.input_size
        inside = (
            (keypoints[..., 0] >= 0) & (keypoints[..., 0] <= w - 1) & (keypoints[..., 1] >= 0) & (keypoints[..., 1] <= h - 1)
        )
        weights = (inside & (keypoints_visible > 0.5)).astype(np.float32)
        labels = (keypoints / np.array([w, h], dtype=np.float32)).astype(np.float32)
        return {"keypoint_labels": labels, "keypoint_weights": weights}

    def decode(self, encoded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Decode normalized coordinates.

        Args:
            encoded: ``(N, K, 2)`` normalized ``(x, y)``, or ``(N, K, 4)`` RLE-style ``(x, y, sigma_x, sigma_y)`` with
                sigma already passed through the sigmoid.

        Returns:
            ``keypoints`` float64 ``(N, K, 2)`` in input pixels, and ``scores`` float32 ``(N, K)``: ones for ``(N, K, 2)``
            input, ``mean(1 - sigma)`` over x and y for ``(N, K, 4)`` input.

        Raises:
            ValueError: if the last dimension is not 2 or 4.
        """
        encoded = np.asarray(encoded)
        if encoded.shape[-1] == 2:
            scores = np.ones(encoded.shape[:-1], dtype=np.float32)
        elif encoded.shape[-1] == 4:
            scores = (1 - encoded[..., 2:4]).mean(axis=-1).astype(np.float32)
        else:
            raise ValueError(f"encoded must end in 2 (x, y) or 4 (x, y, sigma_x, sigma_y); got shape {encoded.shape}")
        keypoints = encoded[..., :2] * np.array(self.input_size, dtype=np.float64)
        return keypoints, scores
