# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Unbiased Data Processing (UDP) Gaussian heatmaps with DARK sub-pixel decoding.

Glossary:
    N: number of instances. K: number of keypoints.
    input_size: ``(w, h)`` of the network input in pixels; heatmap_size: ``(W, H)`` of the heatmap in pixels.
    input space / heatmap space: ``(x, y)`` in input / heatmap pixels, pixel centres at integer coordinates.
    scale_factor: ``s = (w - 1, h - 1) / (W - 1, H - 1)`` stored as float32; UDP aligns the corner pixel centres of
        input and heatmap, so heatmap ``u = keypoint / s``.

Encode: :func:`hfpose.codecs.gaussian.generate_udp_heatmaps` at ``u = keypoint / s`` (the exact sub-pixel Gaussian in
the 13x13 window around ``trunc(u + 0.5)``, peak <= 1, not normalized). The keypoint weights are the raw visibility
values (0.49 stays 0.49 although nothing is drawn), zeroed only when the window misses the map.

Decode: first argmax per channel, DARK refinement (zero-padded ``cv2.GaussianBlur`` of ``blur_kernel_size`` with
max-preserving rescale, ``ln(clip(., 1e-3, 50))``, one Newton step), then ``(x, y) / (W - 1, H - 1) * (w, h)``.
Note the factor: encode divides by ``(w - 1) / (W - 1)`` but decode multiplies by ``w / (W - 1)``, so
``decode(encode(x)) = x * w / (w - 1)``. This is MMPose's behaviour and is undone only by its top-down back-projection
(``hfpose.geometry.input_to_image``), so the full chain inverts the UDP warp exactly. An all-zero channel decodes to
NaN (0/0 in the blur rescale) with score 0.

Sources: Huang et al., "The Devil is in the Details: Delving into Unbiased Data Processing for Human Pose Estimation",
CVPR 2020; Zhang et al., "Distribution-Aware Coordinate Representation for Human Pose Estimation", CVPR 2020;
reference implementation MMPose 1.x ``mmpose/codecs/udp_heatmap.py`` (open-mmlab/mmpose@759b39c),
``heatmap_type='gaussian'``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .gaussian import (
    _check_heatmaps,
    _check_kernel_size,
    _check_keypoints,
    _check_sigma,
    _check_size,
    generate_udp_heatmaps,
    get_heatmap_maximum,
    refine_keypoints_dark_udp,
)

__all__ = ["UDPHeatmap"]


class UDPHeatmap:
    """Encode keypoints as UDP Gaussian heatmaps and decode heatmaps with DARK-UDP refinement.

    Args:
        input_size: ``(w, h)`` of the network input in pixels, e.g. ``(192, 256)``.
        heatmap_size: ``(W, H)`` of the heatmap in pixels, e.g. ``(48, 64)``; both must be at least 2.
        sigma: Gaussian standard deviation in heatmap pixels.
        blur_kernel_size: odd kernel size of the DARK blur.

    Raises:
        ValueError / TypeError: on bad sizes, sigma or kernel size.
    """

    def __init__(
        self,
        input_size: Sequence[int],
        heatmap_size: Sequence[int],
        sigma: float = 2.0,
        blur_kernel_size: int = 11,
    ):
        self.input_size = _check_size(input_size, "input_size")
        self.heatmap_size = _check_size(heatmap_size, "heatmap_size")
        if min(self.input_size) < 2 or min(self.heatmap_size) < 2:
            raise ValueError(
                f"UDP needs input_size and heatmap_size of at least 2 px per side; got {self.input_size}, "
                f"{self.heatmap_size}"
            )
        self.sigma = _check_sigma(sigma)
        self.blur_kernel_size = _check_kernel_size(blur_kernel_size, "blur_kernel_size")
        self.scale_factor = ((np.array(self.input_size) - 1) / (np.array(self.heatmap_size) - 1)).astype(np.float32)

    def encode(self, keypoints, keypoints_visible=None) -> dict[str, np.ndarray]:
        """Encode keypoints.

        Args:
            keypoints: ``(1, K, 2)`` ``(x, y)`` in input space: one instance, as in MMPose's top-down codec.
            keypoints_visible: ``(1, K)`` visibility; defaults to all ones. Keypoints with visibility < 0.5 are not
                drawn.

        Returns:
            dict with ``heatmaps`` float32 ``(K, H, W)`` and ``keypoint_weights`` float32 ``(1, K)`` (raw
            visibility, 0 where the window misses the map).

        Raises:
            ValueError: on bad shapes or non-finite keypoints, or if ``N != 1`` (MMPose's ``UDPHeatmap.encode``
                accepts one instance only; for several people on one map call
                :func:`hfpose.codecs.gaussian.generate_udp_heatmaps`, which takes the maximum over instances).
        """
        keypoints, keypoints_visible = _check_keypoints(keypoints, keypoints_visible)
        if keypoints.shape[0] != 1:
            raise ValueError(
                f"UDPHeatmap.encode takes one instance (keypoints of shape (1, K, 2)), as MMPose's does; got "
                f"{keypoints.shape[0]} instances: encode each person's crop separately"
            )
        heatmaps, keypoint_weights = generate_udp_heatmaps(
            self.heatmap_size, keypoints / self.scale_factor, keypoints_visible, self.sigma
        )
        return {"heatmaps": heatmaps, "keypoint_weights": keypoint_weights}

    def decode(self, encoded) -> tuple[np.ndarray, np.ndarray]:
        """Decode one instance's heatmaps.

        Args:
            encoded: ``(K, H, W)`` heatmaps in heatmap space. Not modified.

        Returns:
            ``keypoints`` float64 ``(1, K, 2)`` in input space, ``(x, y) / (W - 1, H - 1) * (w, h)`` of the refined
            heatmap location (NaN for all-zero channels), and ``scores`` ``(1, K)`` (float32 for float32 input): the
            channel maxima.

        Raises:
            ValueError: if ``encoded`` is not ``(K, H, W)`` with ``(W, H) == heatmap_size``, or a channel holds a
                non-finite value (names ``encoded[k]``).
        """
        heatmaps = _check_heatmaps(encoded, name="encoded")
        width, height = self.heatmap_size
        if heatmaps.shape[1:] != (height, width):
            raise ValueError(
                f"encoded must have shape (K, {height}, {width}) for heatmap_size {self.heatmap_size}; "
                f"got {heatmaps.shape}"
            )
        finite = np.isfinite(heatmaps).reshape(len(heatmaps), -1).all(axis=-1)
        if not finite.all():
            raise ValueError(f"encoded[{int(np.argmin(finite))}] (heatmap channel) has a non-finite value")
        locations, scores = get_heatmap_maximum(heatmaps)
        refined = refine_keypoints_dark_udp(locations[None], heatmaps, self.blur_kernel_size)
        keypoints = refined / np.array([width - 1, height - 1]) * np.array(self.input_size)
        return keypoints, scores[None]
