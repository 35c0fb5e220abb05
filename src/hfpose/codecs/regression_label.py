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
            ValueError: if the shapes disagree, a keypoint is not finite (in float32) or a visibility is NaN or
                negative (names ``[n, k]``).
        """
        keypoints = np.asarray(keypoints, dtype=np.float32)
        if keypoints.ndim != 3 or keypoints.shape[-1] != 2:
            raise ValueError(f"keypoints must have shape (N, K, 2); got {keypoints.shape}")
        if keypoints_visible is None:
            keypoints_visible = np.ones(keypoints.shape[:2], dtype=np.float32)
        keypoints_visible = np.asarray(keypoints_visible, dtype=np.float32)
        if keypoints_visible.shape != keypoints.shape[:2]:
            raise ValueError(
                f"keypoints_visible must have shape {keypoints.shape[:2]} to match keypoints; "
                f"got {keypoints_visible.shape}"
            )
        # A NaN label times a zero weight is still NaN in the loss: refuse non-finite keypoints / visibility.
        if not np.isfinite(keypoints).all():
            n, k = np.argwhere(~np.isfinite(keypoints).all(axis=-1))[0]
            raise ValueError(f"keypoints must be finite; keypoint [{n}, {k}] is {keypoints[n, k].tolist()}")
        bad = ~(np.isfinite(keypoints_visible) & (keypoints_visible >= 0))
        if bad.any():
            n, k = np.argwhere(bad)[0]
            raise ValueError(
                f"keypoints_visible must be finite and >= 0; keypoints_visible[{n}, {k}] is {keypoints_visible[n, k]}"
            )
        w, h = self.input_size
        inside = (
            (keypoints[..., 0] >= 0)
            & (keypoints[..., 0] <= w - 1)
            & (keypoints[..., 1] >= 0)
            & (keypoints[..., 1] <= h - 1)
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
            ``keypoints`` float64 ``(N, K, 2)`` in input pixels, and ``scores`` float32 ``(N, K)``: ones for
            ``(N, K, 2)`` input, ``mean(1 - sigma)`` over x and y for ``(N, K, 4)`` input.

        Raises:
            ValueError: if the last dimension is not 2 or 4, a coordinate is not finite, or a sigma is NaN or outside
                ``[0, 1]`` (names ``encoded[n, k]``); decoding never returns NaN or a score outside ``[0, 1]``.
        """
        encoded = np.asarray(encoded)
        if encoded.ndim == 0 or encoded.shape[-1] not in (2, 4):
            raise ValueError(f"encoded must end in 2 (x, y) or 4 (x, y, sigma_x, sigma_y); got shape {encoded.shape}")
        if not np.issubdtype(encoded.dtype, np.number) or np.issubdtype(encoded.dtype, np.complexfloating):
            raise TypeError(f"encoded must hold real numbers; got dtype {encoded.dtype}")
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(encoded[..., :2]).all(axis=-1)
            if encoded.shape[-1] == 4:
                sigma = encoded[..., 2:4]
                bad |= ~((sigma >= 0) & (sigma <= 1)).all(axis=-1)
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"encoded{list(index)} = {encoded[index].tolist()}: coordinates must be finite and sigma in [0, 1]"
            )
        if encoded.shape[-1] == 2:
            scores = np.ones(encoded.shape[:-1], dtype=np.float32)
        else:
            scores = (1 - encoded[..., 2:4]).mean(axis=-1).astype(np.float32)
        keypoints = encoded[..., :2] * np.array(self.input_size, dtype=np.float64)
        return keypoints, scores
