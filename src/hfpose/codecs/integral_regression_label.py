# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Targets of integral pose regression (IPR, DSNT): a normalized MSRA heatmap plus normalized coordinates.

Glossary:
    N: number of instances. K: number of keypoints.
    input_size: ``(w, h)`` of the network input in pixels; heatmap_size: ``(W, H)`` of the heatmap in pixels.
    input space / heatmap space: ``(x, y)`` in input / heatmap pixels, pixel centres at integer coordinates.
    normalized coordinates: input-space pixels divided by ``(w, h)``, no half-pixel offset (as ``RegressionLabel``).

The heatmap is the MSRA Gaussian of :func:`hfpose.codecs.gaussian.generate_msra_heatmaps`, drawn at
``u = keypoint / (w / W, h / H)`` (float32 scale factor) on the integer pixel ``trunc(u + 0.5)``; each channel is then
divided by ``its sum + 1e-24`` so that it is a probability map (all-zero channels stay zero). The keypoint labels,
weights and decoding are those of :class:`hfpose.codecs.RegressionLabel`: the weights do **not** depend on the heatmap
(a keypoint just outside the input has a drawn heatmap but weight 0; a keypoint with visibility exactly 0.5 is drawn
but has weight 0).

Sources: Sun et al., "Integral Human Pose Regression", ECCV 2018; Nibali et al., "Numerical Coordinate Regression with
Convolutional Neural Networks" (DSNT), 2018; reference implementation MMPose 1.x
``mmpose/codecs/integral_regression_label.py`` (open-mmlab/mmpose@759b39c), with ``unbiased=False``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .gaussian import _check_keypoints, _check_sigma, _check_size, generate_msra_heatmaps
from .regression_label import RegressionLabel

__all__ = ["IntegralRegressionLabel"]


class IntegralRegressionLabel:
    """Encode keypoints as (normalized) MSRA heatmaps plus normalized coordinates; decode normalized coordinates.

    Args:
        input_size: ``(w, h)`` of the network input in pixels.
        heatmap_size: ``(W, H)`` of the heatmap in pixels.
        sigma: Gaussian standard deviation in heatmap pixels.
        normalize: divide each heatmap channel by its sum (plus 1e-24).

    Raises:
        ValueError / TypeError: if a size is not a pair of positive integers or sigma is not positive.
    """

    def __init__(
        self,
        input_size: Sequence[int] = (256, 256),
        heatmap_size: Sequence[int] = (64, 64),
        sigma: float = 2.0,
        normalize: bool = True,
    ):
        self.input_size = _check_size(input_size, "input_size")
        self.heatmap_size = _check_size(heatmap_size, "heatmap_size")
        self.sigma = _check_sigma(sigma)
        self.normalize = bool(normalize)
        # input/heatmap scale, float32 as in the reference (exactly 4 for 256 -> 64).
        self.scale_factor = (np.array(self.input_size) / np.array(self.heatmap_size)).astype(np.float32)
        self.keypoint_codec = RegressionLabel(self.input_size)

    def encode(self, keypoints, keypoints_visible=None) -> dict[str, np.ndarray]:
        """Encode keypoints.

        Args:
            keypoints: ``(N, K, 2)`` ``(x, y)`` in input space.
            keypoints_visible: ``(N, K)`` visibility; defaults to all ones.

        Returns:
            dict with
            ``heatmaps`` float32 ``(K, H, W)``: MSRA Gaussians (maximum over instances; keypoints with visibility
            < 0.5 or whose 13x13 window misses the map are not drawn), each channel summing to 1 (or all 0) when
            ``normalize``;
            ``keypoint_labels`` float32 ``(N, K, 2)``: keypoints / (w, h);
            ``keypoint_weights`` float32 ``(N, K)``: 1 iff ``0 <= x <= w - 1``, ``0 <= y <= h - 1`` and visible > 0.5.

        Raises:
            ValueError: on bad shapes or non-finite keypoints.
        """
        keypoints, keypoints_visible = _check_keypoints(keypoints, keypoints_visible)
        heatmaps, _ = generate_msra_heatmaps(
            self.heatmap_size, keypoints / self.scale_factor, keypoints_visible, self.sigma
        )
        if self.normalize:
            heatmaps = heatmaps / (heatmaps.sum(axis=(-1, -2)).reshape(-1, 1, 1) + 1e-24)
        encoded = self.keypoint_codec.encode(keypoints, keypoints_visible)
        return {
            "heatmaps": heatmaps.astype(np.float32),
            "keypoint_labels": encoded["keypoint_labels"],
            "keypoint_weights": encoded["keypoint_weights"],
        }

    def decode(self, encoded) -> tuple[np.ndarray, np.ndarray]:
        """Decode normalized coordinates (e.g. the soft-argmax output of an integral head).

        Args:
            encoded: ``(N, K, 2)`` normalized ``(x, y)``.

        Returns:
            ``keypoints`` float64 ``(N, K, 2)`` in input space (``encoded * (w, h)``) and ``scores`` float32 ``(N, K)``
            (all ones).

        Raises:
            ValueError: if the last dimension is not 2.
        """
        encoded = np.asarray(encoded)
        if encoded.shape[-1] != 2:
            raise ValueError(f"encoded must have shape (N, K, 2) normalized (x, y); got {encoded.shape}")
        return self.keypoint_codec.decode(encoded)
