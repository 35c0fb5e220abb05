# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Gaussian heatmap drawing (MSRA, UDP) and the DARK/UDP sub-pixel decoding helpers, as pure numpy functions.

Glossary:
    N: number of instances. K: number of keypoints.
    heatmap_size: ``(W, H)`` of the heatmap in pixels; heatmap arrays have shape ``(K, H, W)``.
    heatmap space: ``(x, y)`` in heatmap pixels, pixel centres at integer coordinates, so array element ``[k, y, x]``
        sits at ``(x, y)`` and the top-left pixel is ``(0, 0)``.
    sigma: standard deviation of the Gaussian in heatmap pixels; the drawing window has radius ``3 * sigma``
        (a 13x13 window for ``sigma = 2``).
    trunc: C-style conversion to an integer, rounding toward zero (``int(-0.25) == 0``), which is what
        ``ndarray.astype(np.int64)`` does.

Drawing (Sources: Xiao et al., "Simple Baselines for Human Pose Estimation and Tracking", ECCV 2018 (MSRA target);
Huang et al., "The Devil is in the Details: Delving into Unbiased Data Processing for Human Pose Estimation",
CVPR 2020, Sec. 4 (UDP target); reference implementation MMPose 1.x ``mmpose/codecs/utils/gaussian_heatmap.py``,
open-mmlab/mmpose@759b39c):

    * the window is centred on the integer pixel ``m = trunc(u + 0.5)`` and spans ``[m - 3 sigma, m + 3 sigma]``;
    * MSRA evaluates ``exp(-((X - m_x)^2 + (Y - m_y)^2) / (2 sigma^2))`` (centred on the integer pixel);
      UDP evaluates ``exp(-((X - u_x)^2 + (Y - u_y)^2) / (2 sigma^2))`` (centred on the exact sub-pixel point);
    * a keypoint is skipped when ``visible < 0.5`` (so 0.5 is drawn), or when its window misses the map
      (``m - 3 sigma >= W`` or ``m + 3 sigma + 1 < 0`` on either axis), in which case its weight becomes 0;
    * window pixels outside the map are dropped and channels take the maximum over instances.

Decoding (Source: Zhang et al., "Distribution-Aware Coordinate Representation for Human Pose Estimation", CVPR 2020,
Sec. 3.1-3.2 (Taylor/Newton refinement on the log of a blurred heatmap); Huang et al., CVPR 2020 (UDP variant);
reference implementation MMPose 1.x ``mmpose/codecs/utils/post_processing.py`` and ``refinement.py``
(``get_heatmap_maximum``, ``gaussian_blur``, ``refine_keypoints_dark_udp``) and MMPose 0.x ``post_dark_udp``):

    1. :func:`get_heatmap_maximum`: first argmax per channel, ``(-1, -1)`` when the maximum is ``<= 0``;
    2. :func:`gaussian_blur_heatmaps`: ``cv2.GaussianBlur`` with sigma 0, zero padding and max-preserving rescale
       (MMPose 1.x), or OpenCV's default reflect-101 border with no rescale (MMPose 0.x ``post_dark_udp``);
    3. :func:`log_heatmaps`: ``ln(clip(h, 1e-3, 50))``;
    4. :func:`newton_refine_keypoints`: one Newton step on the edge-padded log map at the integer location.

:func:`refine_keypoints_dark_udp` chains steps 2-4.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

__all__ = [
    "generate_msra_heatmaps",
    "generate_udp_heatmaps",
    "get_heatmap_maximum",
    "gaussian_blur_heatmaps",
    "log_heatmaps",
    "newton_refine_keypoints",
    "refine_keypoints_dark_udp",
]

_FLOAT32_EPS = float(np.finfo(np.float32).eps)  # 1.1920929e-07, the Hessian damping of MMPose's refinement


# ----------------------------------------------------------------------------------------------------------------------
# Input validation
# ----------------------------------------------------------------------------------------------------------------------


def _check_size(size: Sequence[int], name: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in size)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a (width, height) pair of integers; got {size!r}") from None
    if width <= 0 or height <= 0 or width != size[0] or height != size[1]:
        raise ValueError(f"{name} must be a (width, height) pair of positive integers; got {tuple(size)}")
    return width, height


def _check_sigma(sigma: float) -> float:
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.integer, np.floating)):
        raise TypeError(f"sigma must be a positive number; got {type(sigma).__name__}")
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma must be a positive finite number; got {sigma}")
    return float(sigma)


def _check_keypoints(keypoints, keypoints_visible) -> tuple[np.ndarray, np.ndarray]:
    """``(N, K, 2)`` float32 keypoints and ``(N, K)`` float32 visibility (default all ones)."""
    keypoints = np.asarray(keypoints)
    if keypoints.ndim != 3 or keypoints.shape[-1] != 2:
        raise ValueError(f"keypoints must have shape (N, K, 2); got {keypoints.shape}")
    if not np.issubdtype(keypoints.dtype, np.number) or np.issubdtype(keypoints.dtype, np.complexfloating):
        raise TypeError(f"keypoints must be real numbers; got dtype {keypoints.dtype}")
    keypoints = keypoints.astype(np.float32)
    if not np.isfinite(keypoints).all():
        n, k = np.argwhere(~np.isfinite(keypoints).all(axis=-1))[0]
        raise ValueError(f"keypoints must be finite; keypoint [{n}, {k}] is {keypoints[n, k].tolist()}")
    if keypoints_visible is None:
        keypoints_visible = np.ones(keypoints.shape[:2], dtype=np.float32)
    keypoints_visible = np.asarray(keypoints_visible, dtype=np.float32)
    if keypoints_visible.shape != keypoints.shape[:2]:
        raise ValueError(
            f"keypoints_visible must have shape {keypoints.shape[:2]} to match keypoints; got {keypoints_visible.shape}"
        )
    _check_visibility(keypoints_visible)
    return keypoints, keypoints_visible


def _check_visibility(keypoints_visible: np.ndarray) -> None:
    """Visibility becomes a loss weight: NaN would poison the loss and a negative value flip its sign."""
    bad = ~(np.isfinite(keypoints_visible) & (keypoints_visible >= 0))
    if bad.any():
        n, k = np.argwhere(bad)[0]
        raise ValueError(
            f"keypoints_visible must be finite and >= 0; keypoints_visible[{n}, {k}] is {keypoints_visible[n, k]}"
        )


def _check_heatmaps(heatmaps, name: str = "heatmaps", ndims: tuple[int, ...] = (3,)) -> np.ndarray:
    heatmaps = np.asarray(heatmaps)
    if heatmaps.ndim not in ndims:
        shapes = " or ".join({3: "(K, H, W)", 4: "(B, K, H, W)"}[d] for d in ndims)
        raise ValueError(f"{name} must have shape {shapes}; got {heatmaps.shape}")
    if not np.issubdtype(heatmaps.dtype, np.floating) and not np.issubdtype(heatmaps.dtype, np.integer):
        raise TypeError(f"{name} must be a real-valued array; got dtype {heatmaps.dtype}")
    if min(heatmaps.shape[-2:]) < 1:
        raise ValueError(f"{name} must have non-empty spatial dimensions; got {heatmaps.shape}")
    return heatmaps


def _check_kernel_size(kernel_size: int, name: str = "kernel_size") -> int:
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, (int, np.integer)):
        raise TypeError(f"{name} must be an odd positive integer; got {kernel_size!r}")
    if kernel_size <= 0 or kernel_size % 2 != 1:
        raise ValueError(f"{name} must be an odd positive integer; got {kernel_size}")
    return int(kernel_size)


# ----------------------------------------------------------------------------------------------------------------------
# Drawing
# ----------------------------------------------------------------------------------------------------------------------


def _draw_gaussians(
    heatmap_size: Sequence[int],
    keypoints,
    keypoints_visible,
    sigma: float,
    subpixel: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Shared MSRA/UDP drawing; vectorized over all (instance, keypoint) pairs, one ``np.maximum.at`` scatter."""
    width, height = _check_size(heatmap_size, "heatmap_size")
    sigma = _check_sigma(sigma)
    keypoints, keypoints_visible = _check_keypoints(keypoints, keypoints_visible)
    num_keypoints = keypoints.shape[1]

    heatmaps = np.zeros((num_keypoints, height, width), dtype=np.float32)
    keypoint_weights = keypoints_visible.copy()

    radius = 3 * sigma
    window = 2 * radius + 1  # the Gaussian patch has len(arange(0, window)) samples, its centre at floor(window / 2)
    num_samples = math.ceil(window)  # G; sample i sits at patch coordinate float32(i)
    patch_centre = float(window // 2)

    # m = trunc(u + 0.5) in float32, exactly as the reference rounds. Clipping first keeps the integer cast defined
    # for keypoints far off the map (|u| > 2^40 px misses the map whatever its exact value).
    centre = (np.clip(keypoints, np.float32(-(2.0**40)), np.float32(2.0**40)) + np.float32(0.5)).astype(np.int64)
    start = (centre - radius).astype(np.int64)  # left / top, truncated toward zero
    stop = (centre + radius + 1).astype(np.int64)  # right / bottom (exclusive)
    misses = (start[..., 0] >= width) | (start[..., 1] >= height) | (stop[..., 0] < 0) | (stop[..., 1] < 0)
    drawn = keypoints_visible >= 0.5
    keypoint_weights[drawn & misses] = 0
    draw = drawn & ~misses
    if not draw.any():
        return heatmaps, keypoint_weights

    inst, kpt = np.nonzero(draw)  # the P keypoints to draw

    def samples(axis: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Patch sample indices ``i`` (P, L) that land on map pixels ``start + i`` in ``[0, size)`` and before
        ``stop``, with ``L = min(G, size)``: only the part of the window that overlaps the map is evaluated, so a
        large sigma costs no more than the map itself."""
        first = start[inst, kpt, axis]
        index = np.maximum(-first, 0)[:, None] + np.arange(min(num_samples, size))  # (P, L)
        position = first[:, None] + index
        ok = (index < num_samples) & (position < size) & (position < stop[inst, kpt, axis][:, None])
        return index, np.where(ok, position, 0), ok

    cols_index, cols, col_ok = samples(0, width)
    rows_index, rows, row_ok = samples(1, height)
    if subpixel:
        # UDP: shift the patch centre by u - m, so the Gaussian peaks at u (float64, as the reference computes it).
        shifted = patch_centre + (keypoints[inst, kpt].astype(np.float64) - centre[inst, kpt])  # (P, 2)
        dx2 = (cols_index.astype(np.float32).astype(np.float64) - shifted[:, :1]) ** 2  # (P, Lx)
        dy2 = (rows_index.astype(np.float32).astype(np.float64) - shifted[:, 1:]) ** 2  # (P, Ly)
        values = np.exp(-(dy2[:, :, None] + dx2[:, None, :]) / (2 * sigma**2)).astype(np.float32)  # (P, Ly, Lx)
    else:
        # MSRA: the float32 patch centred on the integer pixel, the same for every keypoint.
        dx2 = (cols_index.astype(np.float32) - np.float32(patch_centre)) ** 2
        dy2 = (rows_index.astype(np.float32) - np.float32(patch_centre)) ** 2
        values = np.exp(-(dy2[:, :, None] + dx2[:, None, :]) / np.float32(2 * sigma**2)).astype(np.float32)

    ok = row_ok[:, :, None] & col_ok[:, None, :]  # (P, Ly, Lx)
    p, i, j = np.nonzero(ok)
    np.maximum.at(heatmaps, (kpt[p], rows[p, i], cols[p, j]), values[p, i, j])
    return heatmaps, keypoint_weights


def generate_msra_heatmaps(
    heatmap_size: Sequence[int],
    keypoints,
    keypoints_visible=None,
    sigma: float = 2.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw MSRA Gaussian heatmaps, centred on the rounded integer pixel.

    Args:
        heatmap_size: ``(W, H)`` of the heatmap in pixels.
        keypoints: ``(N, K, 2)`` ``(x, y)`` in heatmap space (cast to float32).
        keypoints_visible: ``(N, K)`` visibility; defaults to all ones. Keypoints with ``visible < 0.5`` are skipped.
        sigma: Gaussian standard deviation in heatmap pixels.

    Returns:
        ``heatmaps`` float32 ``(K, H, W)`` with peak 1 at ``m = trunc(u + 0.5)`` (maximum over instances), and
        ``keypoint_weights`` float32 ``(N, K)``: a copy of the visibility, set to 0 where a drawable keypoint's
        window misses the map.

    Raises:
        ValueError: on bad shapes, non-finite keypoints, non-positive sizes or sigma.
        TypeError: on non-numeric inputs.

    Source: Xiao et al., ECCV 2018; MMPose 1.x ``generate_gaussian_heatmaps`` (open-mmlab/mmpose@759b39c).
    """
    return _draw_gaussians(heatmap_size, keypoints, keypoints_visible, sigma, subpixel=False)


def generate_udp_heatmaps(
    heatmap_size: Sequence[int],
    keypoints,
    keypoints_visible=None,
    sigma: float = 2.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw UDP Gaussian heatmaps: the exact sub-pixel Gaussian, evaluated in the window around the rounded pixel.

    Args:
        heatmap_size: ``(W, H)`` of the heatmap in pixels.
        keypoints: ``(N, K, 2)`` ``(x, y)`` in heatmap space (cast to float32).
        keypoints_visible: ``(N, K)`` visibility; defaults to all ones. Keypoints with ``visible < 0.5`` are skipped.
        sigma: Gaussian standard deviation in heatmap pixels.

    Returns:
        ``heatmaps`` float32 ``(K, H, W)``, value ``exp(-|X - u|^2 / (2 sigma^2))`` inside the window around
        ``trunc(u + 0.5)`` (peak <= 1, maximum over instances), and ``keypoint_weights`` float32 ``(N, K)``: a copy
        of the visibility (not binarized), set to 0 where a drawable keypoint's window misses the map.

    Raises:
        ValueError: on bad shapes, non-finite keypoints, non-positive sizes or sigma.
        TypeError: on non-numeric inputs.

    Source: Huang et al., CVPR 2020, Sec. 4; MMPose 1.x ``generate_udp_gaussian_heatmaps`` (open-mmlab/mmpose@759b39c).
    """
    return _draw_gaussians(heatmap_size, keypoints, keypoints_visible, sigma, subpixel=True)


# ----------------------------------------------------------------------------------------------------------------------
# Decoding
# ----------------------------------------------------------------------------------------------------------------------


def get_heatmap_maximum(heatmaps) -> tuple[np.ndarray, np.ndarray]:
    """Location and value of the maximum of each heatmap channel.

    Args:
        heatmaps: ``(K, H, W)`` or ``(B, K, H, W)`` heatmaps.

    Returns:
        ``locations`` float32 ``(K, 2)`` / ``(B, K, 2)``: integer ``(x, y)`` of the first maximum in row-major order,
        ``(-1, -1)`` where the maximum is ``<= 0``; and ``values`` ``(K,)`` / ``(B, K)`` (the heatmaps' dtype): the
        channel maxima. A channel containing NaN gives the first NaN's location and value NaN (``np.argmax``).

    Raises:
        ValueError: if ``heatmaps`` is not 3-D or 4-D.

    Source: MMPose 1.x ``get_heatmap_maximum`` (open-mmlab/mmpose@759b39c).
    """
    heatmaps = _check_heatmaps(heatmaps, ndims=(3, 4))
    height, width = heatmaps.shape[-2:]
    flat = heatmaps.reshape(heatmaps.shape[:-2] + (height * width,))
    index = np.argmax(flat, axis=-1)
    values = np.take_along_axis(flat, index[..., None], axis=-1)[..., 0]
    locations = np.stack([index % width, index // width], axis=-1).astype(np.float32)
    locations[values <= 0] = -1
    return locations, values


def _opencv_gaussian_blur(channel: np.ndarray, kernel_size: int, border: int) -> np.ndarray:
    return cv2.GaussianBlur(channel, (kernel_size, kernel_size), 0, borderType=border)


def gaussian_blur_heatmaps(
    heatmaps,
    kernel_size: int = 11,
    *,
    border: str = "zero",
    keep_max: bool = True,
) -> np.ndarray:
    """Blur every heatmap channel with OpenCV's sigma-0 Gaussian kernel (the DARK distribution modulation).

    The kernel is ``cv2.getGaussianKernel(kernel_size, 0)``: for ``kernel_size >= 9`` a normalized Gaussian with
    ``sigma = 0.3 * ((kernel_size - 1) / 2 - 1) + 0.8`` (2.0 for 11); for ``kernel_size <= 7`` OpenCV's fixed
    binomial tables (3 gives ``[1, 2, 1] / 4``).

    Args:
        heatmaps: ``(K, H, W)`` heatmaps (cast to float32). Not modified.
        kernel_size: odd kernel size in heatmap pixels.
        border: ``"zero"`` pads each channel with ``(kernel_size - 1) // 2`` zeros before blurring and crops back
            (MMPose 1.x ``gaussian_blur``, used by ``UDPHeatmap``); ``"reflect_101"`` uses OpenCV's default border
            ``gfedcb|abcdefgh|gfedcba`` (MMPose 0.x ``post_dark_udp``, used by the bottom-up UDP parser).
        keep_max: rescale each blurred channel by ``original max / blurred max`` (MMPose 1.x). An all-zero channel
            then becomes NaN (0/0), as in MMPose. ``False`` for MMPose 0.x ``post_dark_udp``.

    Returns:
        float32 ``(K, H, W)`` blurred heatmaps.

    Raises:
        ValueError: on a bad shape, an even or non-positive ``kernel_size`` or an unknown ``border``.

    Source: Zhang et al., CVPR 2020, Sec. 3.2 (distribution modulation); MMPose 1.x ``gaussian_blur`` and 0.x
    ``post_dark_udp``.
    """
    heatmaps = _check_heatmaps(heatmaps)
    kernel_size = _check_kernel_size(kernel_size)
    if border not in ("zero", "reflect_101"):
        raise ValueError(f"border must be 'zero' or 'reflect_101'; got {border!r}")
    heatmaps = np.array(heatmaps, dtype=np.float32)  # a copy: never touch the caller's maps
    pad = (kernel_size - 1) // 2
    blurred = np.empty_like(heatmaps)
    for k, channel in enumerate(heatmaps):  # K cv2 calls, each vectorized over the map
        if border == "zero":
            # The zero margin is exactly the kernel radius, so OpenCV's own border rule never reaches the data.
            padded = np.pad(channel, pad, mode="constant")
            blurred[k] = _opencv_gaussian_blur(padded, kernel_size, cv2.BORDER_REFLECT_101)[
                pad : pad + channel.shape[0], pad : pad + channel.shape[1]
            ]
        else:
            blurred[k] = _opencv_gaussian_blur(np.ascontiguousarray(channel), kernel_size, cv2.BORDER_REFLECT_101)
    if keep_max:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = heatmaps.max(axis=(1, 2)) / blurred.max(axis=(1, 2))  # float32, NaN for all-zero channels
            blurred *= ratio[:, None, None]
    return blurred


def log_heatmaps(heatmaps) -> np.ndarray:
    """``ln(clip(heatmaps, 1e-3, 50))`` in float32 (NaN stays NaN).

    Args:
        heatmaps: array of any shape, typically ``(K, H, W)`` blurred heatmaps.

    Returns:
        float32 array of the same shape.

    Source: Zhang et al., CVPR 2020, Sec. 3.1 (the Taylor expansion works on the log-likelihood); the clip bounds are
    MMPose's ``refine_keypoints_dark_udp`` / ``post_dark_udp``.
    """
    heatmaps = np.asarray(heatmaps, dtype=np.float32)
    with np.errstate(invalid="ignore"):
        return np.log(np.clip(heatmaps, np.float32(1e-3), np.float32(50.0)))


def newton_refine_keypoints(keypoints, log_heatmaps) -> np.ndarray:
    """One damped Newton step on each keypoint's log heatmap, with MMPose's exact finite-difference stencil.

    With ``L`` the log map padded by 1 px (edge replication) and ``(x, y)`` the integer location, in float32 and
    summed left to right::

        dx  = 0.5 * (L[y, x+1] - L[y, x-1]),        dy  = 0.5 * (L[y+1, x] - L[y-1, x])
        dxx = L[y, x+1] - 2 L[y, x] + L[y, x-1],     dyy = L[y+1, x] - 2 L[y, x] + L[y-1, x]
        dxy = 0.5 * (L[y+1,x+1] - L[y,x+1] - L[y+1,x] + L[y,x] + L[y,x] - L[y,x-1] - L[y-1,x] + L[y-1,x-1])

    and ``(x, y) -= (Hessian + eps * I)^-1 (dx, dy)`` with ``eps = 1.1920929e-7`` (float32 eps), the inverse in float64.
    The step is not clamped. The padded maps are addressed through one flat index, as in the reference, so a
    location of ``(-1, -1)`` reads the padded corner and its out-of-window neighbours wrap into the previous
    channel (or the end of the array for channel 0); the result is NaN when the channel is NaN.

    Args:
        keypoints: ``(N, K, 2)`` ``(x, y)`` in heatmap space, normally integers (the flat index is truncated toward
            zero as in the reference).
        log_heatmaps: ``(K, H, W)`` log heatmaps (see :func:`log_heatmaps`).

    Returns:
        float32 ``(N, K, 2)`` refined ``(x, y)`` in heatmap space (a new array).

    Raises:
        ValueError: if the shapes disagree.

    Source: Zhang et al., CVPR 2020, Eq. 3-5 (second-order Taylor expansion); MMPose 1.x ``refine_keypoints_dark_udp``
    and 0.x ``post_dark_udp`` (stencil and damping).
    """
    log_maps = _check_heatmaps(log_heatmaps, name="log_heatmaps").astype(np.float32, copy=False)
    keypoints = np.asarray(keypoints)
    num_keypoints, height, width = log_maps.shape
    if keypoints.ndim != 3 or keypoints.shape[1:] != (num_keypoints, 2):
        raise ValueError(
            f"keypoints must have shape (N, {num_keypoints}, 2) to match log_heatmaps; got {keypoints.shape}"
        )
    keypoints = keypoints.astype(np.float32)
    stride = width + 2
    padded = np.pad(log_maps, ((0, 0), (1, 1), (1, 1)), mode="edge").ravel()
    index = (keypoints[..., 0].astype(np.float64) + 1) + (keypoints[..., 1].astype(np.float64) + 1) * stride
    index = (index + stride * (height + 2) * np.arange(num_keypoints)).astype(np.int64)  # (N, K)

    def at(shift: int) -> np.ndarray:
        return np.take(padded, index + shift, mode="wrap")

    centre = at(0)
    right, left = at(1), at(-1)
    down, up = at(stride), at(-stride)
    down_right, up_left = at(stride + 1), at(-stride - 1)
    half = np.float32(0.5)
    dx = half * (right - left)
    dy = half * (down - up)
    dxx = right - np.float32(2) * centre + left
    dyy = down - np.float32(2) * centre + up
    dxy = half * (down_right - right - down + centre + centre - left - up + up_left)

    # Closed-form inverse of [[dxx + eps, dxy], [dxy, dyy + eps]] in float64 (never raises on a singular matrix).
    a = dxx.astype(np.float64) + _FLOAT32_EPS
    b = dxy.astype(np.float64)
    d = dyy.astype(np.float64) + _FLOAT32_EPS
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        det = a * d - b * b
        step_x = (d * dx - b * dy) / det
        step_y = (a * dy - b * dx) / det
        refined = keypoints - np.stack([step_x, step_y], axis=-1)
    return refined.astype(np.float32)


def refine_keypoints_dark_udp(
    keypoints,
    heatmaps,
    blur_kernel_size: int,
    *,
    border: str = "zero",
    keep_max: bool = True,
) -> np.ndarray:
    """DARK sub-pixel refinement for UDP heatmaps: blur, log, one Newton step.

    Args:
        keypoints: ``(N, K, 2)`` integer ``(x, y)`` maxima in heatmap space (e.g. from :func:`get_heatmap_maximum`).
        heatmaps: ``(K, H, W)`` heatmaps. Not modified (MMPose's DARK-UDP refinement blurs them in place, so its
            later uses of the heatmaps see the blurred maps).
        blur_kernel_size: odd Gaussian kernel size (11 for top-down UDP, 3 for the 0.x bottom-up parser).
        border, keep_max: passed to :func:`gaussian_blur_heatmaps`; the defaults are MMPose 1.x, use
            ``border="reflect_101", keep_max=False`` for MMPose 0.x ``post_dark_udp``.

    Returns:
        float32 ``(N, K, 2)`` refined ``(x, y)`` in heatmap space; NaN for all-zero channels when ``keep_max``.

    Raises:
        ValueError: on bad shapes or kernel size.

    Source: Zhang et al., CVPR 2020; Huang et al., CVPR 2020; MMPose 1.x ``refine_keypoints_dark_udp``.
    """
    blurred = gaussian_blur_heatmaps(heatmaps, blur_kernel_size, border=border, keep_max=keep_max)
    return newton_refine_keypoints(keypoints, log_heatmaps(blurred))
