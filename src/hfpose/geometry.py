# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Box and affine geometry shared by the image processors, the training transforms and post-processing.

Conventions (see CONVENTIONS.md):
    * Points are ``(x, y)`` in pixels, pixel centres at integer coordinates; the top-left pixel is ``(0, 0)``.
    * Boxes in the public API are COCO ``[x, y, w, h]`` in image pixels; ``xyxy`` is ``[x1, y1, x2, y2]``.
    * ``center`` and ``scale`` are in image pixels (MMPose 1.x): ``scale = (w, h)`` of the region that is
      warped to the network input.
    * ``output_size`` / ``input_size`` are ``(width, height)`` pairs.

Sources: Xiao et al., "Simple Baselines for Human Pose Estimation and Tracking", ECCV 2018 (center/scale crop);
Huang et al., "The Devil is in the Details: Delving into Unbiased Data Processing for Human Pose Estimation",
CVPR 2020, Sec. 3-4 (UDP warp); reference implementation MMPose 1.x ``mmpose/structures/bbox/transforms.py``
(open-mmlab/mmpose@759b39c).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

__all__ = [
    "bottomup_udp_warp_matrix",
    "warp_affine_joints",
    "warp_affine_bilinear",
    "bbox_xywh_to_xyxy",
    "bbox_xyxy_to_xywh",
    "clip_bbox_xyxy",
    "bbox_xyxy_to_center_scale",
    "fix_aspect_ratio",
    "get_warp_matrix",
    "get_udp_warp_matrix",
    "warp_points",
    "input_to_image",
    "validate_boxes_xywh",
]


def bbox_xywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """COCO ``(N, 4)`` ``[x, y, w, h]`` → ``[x1, y1, x2, y2]`` with ``x2 = x + w`` (no ``-1``), same dtype."""
    boxes = np.asarray(boxes)
    out = boxes.copy()
    out[..., 2] = boxes[..., 0] + boxes[..., 2]
    out[..., 3] = boxes[..., 1] + boxes[..., 3]
    return out


def bbox_xyxy_to_xywh(boxes: np.ndarray) -> np.ndarray:
    """``(N, 4)`` ``[x1, y1, x2, y2]`` → COCO ``[x, y, w, h]``, same dtype."""
    boxes = np.asarray(boxes)
    out = boxes.copy()
    out[..., 2] = boxes[..., 2] - boxes[..., 0]
    out[..., 3] = boxes[..., 3] - boxes[..., 1]
    return out


def clip_bbox_xyxy(boxes: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """Clip ``xyxy`` boxes to ``[0, W-1] x [0, H-1]`` as MMPose's ``CocoDataset`` does for GT boxes.

    Args:
        boxes: ``(N, 4)`` xyxy in image pixels.
        image_size: ``(width, height)`` of the image.
    """
    width, height = image_size
    out = np.array(boxes, copy=True)
    out[..., 0::2] = np.clip(out[..., 0::2], 0, width - 1)
    out[..., 1::2] = np.clip(out[..., 1::2], 0, height - 1)
    return out


def validate_boxes_xywh(boxes, name: str = "boxes") -> np.ndarray:
    """Check COCO ``[x, y, w, h]`` boxes and return them as a float32 ``(N, 4)`` array.

    Raises:
        ValueError: if the array is not ``(N, 4)``, or a box is non-finite or has a non-positive width or height;
            the message names the offending box index.
    """
    array = np.asarray(boxes, dtype=np.float64)
    if array.size == 0:
        return np.zeros((0, 4), dtype=np.float32)
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"{name} must have shape (num_boxes, 4) in COCO [x, y, w, h]; got shape {array.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        as_float32 = array.astype(np.float32)  # check what callers will use: float32 can overflow or round w/h to 0
    non_finite = ~(np.isfinite(array).all(axis=1) & np.isfinite(as_float32).all(axis=1))
    # One vectorized test; the loop below only runs to name the first offending box.
    if non_finite.any() or not ((as_float32[:, 2] > 0) & (as_float32[:, 3] > 0)).all():
        for index, (box, box32) in enumerate(zip(array, as_float32)):
            if non_finite[index]:
                raise ValueError(f"{name}[{index}] = {box.tolist()} has a non-finite value (in float32)")
            if box32[2] <= 0 or box32[3] <= 0:
                raise ValueError(f"{name}[{index}] = {box.tolist()} has non-positive width or height")
    return as_float32


def bbox_xyxy_to_center_scale(boxes: np.ndarray, padding: float = 1.25) -> tuple[np.ndarray, np.ndarray]:
    """Box → ``(center, scale)``: ``center = ((x1 + x2) / 2, (y1 + y2) / 2)``, ``scale = (x2 - x1, y2 - y1) * padding``.

    Args:
        boxes: ``(N, 4)`` xyxy in image pixels.
        padding: enlargement factor of the box (MMPose ``GetBBoxCenterScale(padding=1.25)``).

    Returns:
        ``center`` and ``scale``, each float32 ``(N, 2)`` in image pixels.
    """
    boxes = np.asarray(boxes, dtype=np.float32)
    x1, y1, x2, y2 = np.hsplit(boxes, [1, 2, 3])
    center = np.hstack([x1 + x2, y1 + y2]) * np.float32(0.5)
    scale = np.hstack([x2 - x1, y2 - y1]) * np.float32(padding)
    return center.astype(np.float32), scale.astype(np.float32)


def fix_aspect_ratio(scale: np.ndarray, aspect_ratio: float) -> np.ndarray:
    """Enlarge one side of ``scale`` so that ``w / h == aspect_ratio``; the box only grows.

    Args:
        scale: ``(..., 2)`` ``(w, h)`` in pixels.
        aspect_ratio: target ``w / h`` (the network input's width / height).

    Returns:
        float32 array of the same shape. Source: MMPose ``TopdownAffine._fix_aspect_ratio``.
    """
    scale = np.asarray(scale, dtype=np.float32)
    w, h = scale[..., 0:1], scale[..., 1:2]
    aspect_ratio = np.float32(aspect_ratio)
    return np.where(
        w > h * aspect_ratio, np.concatenate([w, w / aspect_ratio], -1), np.concatenate([h * aspect_ratio, h], -1)
    ).astype(np.float32)


def _rotate(point: np.ndarray, angle_rad: float) -> np.ndarray:
    sin, cos = math.sin(angle_rad), math.cos(angle_rad)
    return np.array([point[0] * cos - point[1] * sin, point[0] * sin + point[1] * cos])


def _third_point(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The point that makes ``(a, b, c)`` a right angle at ``b`` (``c - b`` is ``a - b`` turned by 90 deg)."""
    direction = a - b
    return b + np.array([-direction[1], direction[0]], dtype=np.float32)


def get_warp_matrix(
    center: np.ndarray,
    scale: np.ndarray,
    rotation: float,
    output_size: tuple[int, int],
    shift: tuple[float, float] = (0.0, 0.0),
    inverse: bool = False,
) -> np.ndarray:
    """Standard (biased) top-down affine matrix, image px → input px (or back with ``inverse=True``).

    The region of width ``scale[0]`` centred at ``center`` and rotated by ``rotation`` degrees maps to the
    ``output_size`` canvas with the same factor ``w / scale[0]`` on both axes:
    ``x' = (x - c_x) * w / s_w + w / 2``. The matrix is solved with ``cv2.getAffineTransform`` from three float32
    point pairs (the centre, the midpoint of the region's left edge, and a third point at a right angle), which
    reproduces the float32 rounding of the reference.

    Args:
        center: ``(2,)`` crop centre, image px.
        scale: ``(2,)`` crop size ``(w, h)``, image px (only the width enters).
        rotation: degrees, counter-clockwise.
        output_size: ``(width, height)`` of the output canvas.
        shift: shift of the centre as a fraction of ``scale``.
        inverse: return the input → image matrix instead.

    Returns:
        float64 ``(2, 3)`` matrix for ``cv2.warpAffine``.

    Source: Xiao et al., ECCV 2018 (Simple Baselines) data pipeline; MMPose ``get_warp_matrix``.
    """
    center = np.asarray(center, dtype=np.float32)
    scale = np.asarray(scale, dtype=np.float32)
    shift = np.asarray(shift, dtype=np.float32)
    out_w, out_h = output_size
    angle = np.deg2rad(rotation)
    source = np.zeros((3, 2), dtype=np.float32)
    source[0] = center + scale * shift
    source[1] = center + _rotate(np.array([scale[0] * -0.5, 0.0]), angle) + scale * shift
    source[2] = _third_point(source[0], source[1])
    target = np.zeros((3, 2), dtype=np.float32)
    target[0] = [out_w * 0.5, out_h * 0.5]
    target[1] = np.array([out_w * 0.5, out_h * 0.5]) + np.array([out_w * -0.5, 0.0])
    target[2] = _third_point(target[0], target[1])
    if inverse:
        return cv2.getAffineTransform(target, source)
    return cv2.getAffineTransform(source, target)


def get_udp_warp_matrix(
    center: np.ndarray, scale: np.ndarray, rotation: float, output_size: tuple[int, int]
) -> np.ndarray:
    """Unbiased (UDP) affine matrix, image px → input px.

    Measures sizes in pixel *intervals* so that the first and last pixel centres of the region map onto the first
    and last pixel centres of the output: ``x' = (x - c_x + s_w / 2) * (w - 1) / s_w`` (unrotated), and likewise for
    ``y`` with its own factor ``(h - 1) / s_h``.

    Args:
        center: ``(2,)`` crop centre, image px. scale: ``(2,)`` crop size ``(w, h)``, image px.
        rotation: degrees, counter-clockwise. output_size: ``(width, height)``.

    Returns:
        float32 ``(2, 3)`` matrix.

    Source: Huang et al., CVPR 2020, Eq. 7-9; MMPose ``get_udp_warp_matrix``.
    """
    # float32 throughout (numpy 2 keeps Python scalars weak), which reproduces the reference's rounding exactly.
    center = np.asarray(center, dtype=np.float32)
    scale = np.asarray(scale, dtype=np.float32)
    size = center * 2  # the reference writes the centre as half of a (virtual) input size
    angle = np.deg2rad(rotation)
    cos, sin = math.cos(angle), math.sin(angle)
    factor_x = (int(output_size[0]) - 1) / scale[0]  # Python ints keep the arithmetic in float32
    factor_y = (int(output_size[1]) - 1) / scale[1]
    # Rotate about the centre, scale by the interval ratio, then move the region's top-left corner to (0, 0).
    matrix = np.zeros((2, 3), dtype=np.float32)
    matrix[0, 0] = cos * factor_x
    matrix[0, 1] = -sin * factor_x
    matrix[0, 2] = factor_x * (-0.5 * size[0] * cos + 0.5 * size[1] * sin + 0.5 * scale[0])
    matrix[1, 0] = sin * factor_y
    matrix[1, 1] = cos * factor_y
    matrix[1, 2] = factor_y * (-0.5 * size[0] * sin - 0.5 * size[1] * cos + 0.5 * scale[1])
    return matrix


def warp_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a ``(2, 3)`` affine matrix to ``(..., 2)`` points; returns float32 of the same shape."""
    points = np.asarray(points, dtype=np.float32)
    matrix = np.asarray(matrix)
    out = points @ matrix[:, :2].T + matrix[:, 2]
    return out.astype(np.float32)


def input_to_image(
    points: np.ndarray, center: np.ndarray, scale: np.ndarray, input_size: tuple[int, int]
) -> np.ndarray:
    """Map keypoints from input-crop pixels back to image pixels.

    ``p_img = p_in / input_size * scale + center - scale / 2``, per instance, computed in float64.

    Args:
        points: ``(N, K, 2)`` in input px.
        center: ``(N, 2)`` image px. scale: ``(N, 2)`` image px (the aspect-fixed crop size).
        input_size: ``(width, height)`` of the network input.

    Returns:
        float64 ``(N, K, 2)`` in image px. For the standard warp this is its exact inverse; for the UDP warp it is
        exact only together with the UDP heatmap decoding's ``w / (W - 1)`` factor (MMPose quirk, see the golden
        README).

    Source: MMPose ``TopdownPoseEstimator.add_pred_to_datasample``.
    """
    points = np.asarray(points, dtype=np.float64)
    center = np.asarray(center, dtype=np.float64)[:, None, :]
    scale = np.asarray(scale, dtype=np.float64)[:, None, :]
    size = np.asarray(input_size, dtype=np.float64)
    return points / size * scale + center - 0.5 * scale


def warp_affine_bilinear(image: np.ndarray, matrix: np.ndarray, output_size: tuple[int, int]) -> np.ndarray:
    """``cv2.warpAffine(image, matrix, output_size, flags=INTER_LINEAR)`` (constant-0 border) with OpenCV 4's
    fixed-point arithmetic, on any OpenCV version.

    OpenCV 4.x (the reference's 4.11) inverts ``matrix`` in float64, computes every output pixel's source position
    in fixed point (``round(m * x * 1024)`` steps, then ``>> 5``), i.e. on a 1/32-pixel grid, and interpolates with
    the bilinear weight table of that grid (uint8: integer weights summing to 2^15, rounded shift). OpenCV 5's
    ``warpAffine`` no longer quantizes the position, which changes up to ~10 % of the pixels of a resized photo by
    up to 4 grey levels. This computes the 4.x source positions and weight indices exactly and lets ``cv2.remap``
    apply them (its fixed-point ``CV_16SC2`` + interpolation-table map format is the one 4.x ``warpAffine`` uses
    internally), which reproduces the reference fixtures bit for bit.

    Args:
        image: ``(h, w)`` or ``(h, w, C)`` uint8 / float32 image.
        matrix: ``(2, 3)`` image px → output px (forward, as for ``cv2.warpAffine`` without ``WARP_INVERSE_MAP``).
        output_size: ``(width, height)``.

    Returns:
        ``(height, width, C)`` (``(height, width)`` for 2-D input) array of ``image``'s dtype.

    Raises:
        ValueError: if ``output_size`` is not positive or the output exceeds OpenCV's 32767-pixel map range.

    Source: OpenCV 4.x ``modules/imgproc/src/imgwarp.cpp`` (``WarpAffineInvoker``, ``initInterTab2D``).
    """
    width, height = int(output_size[0]), int(output_size[1])
    if width <= 0 or height <= 0 or width > 32767 or height > 32767:
        raise ValueError(f"output_size must be positive and at most 32767; got {output_size}")
    m = np.asarray(matrix, dtype=np.float64).reshape(6).copy()
    determinant = m[0] * m[4] - m[1] * m[3]  # invert as OpenCV does (output px -> image px)
    determinant = 1.0 / determinant if determinant != 0 else 0.0
    m[0], m[4] = m[4] * determinant, m[0] * determinant
    m[1] *= -determinant
    m[3] *= -determinant
    m[2], m[5] = -m[0] * m[2] - m[1] * m[5], -m[3] * m[2] - m[4] * m[5]
    xs = np.arange(width, dtype=np.float64)
    ys = np.arange(height, dtype=np.float64)
    bits, round_delta = 10, 16  # AB_BITS; AB_SCALE / INTER_TAB_SIZE / 2
    low, high = np.iinfo(np.int32).min, np.iinfo(np.int32).max

    def fixed(values):  # saturate_cast<int>(double): round half to even, clamp to int32
        return np.clip(np.rint(values), low, high).astype(np.int64)

    x_fixed = (fixed((m[1] * ys + m[2]) * 1024) + round_delta)[:, None] + fixed(m[0] * xs * 1024)[None, :]
    y_fixed = (fixed((m[4] * ys + m[5]) * 1024) + round_delta)[:, None] + fixed(m[3] * xs * 1024)[None, :]
    x_fixed >>= bits - 5  # to 1/32 px (INTER_BITS = 5)
    y_fixed >>= bits - 5
    positions = np.stack([x_fixed >> 5, y_fixed >> 5], axis=-1).clip(-32768, 32767).astype(np.int16)
    fractions = ((y_fixed & 31) * 32 + (x_fixed & 31)).astype(np.uint16)
    warped = cv2.remap(image, positions, fractions, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return warped.reshape(height, width, *image.shape[2:])


def bottomup_udp_warp_matrix(rotation: float, center, box_size, output_size: int) -> np.ndarray:
    """UDP matrix of ``BottomUpRandomAffine`` (0.29 ``get_warp_matrix``), image px → r x r output px.

    Args:
        rotation: degrees (counter-clockwise in image coordinates, as the reference).
        center: ``(2,)`` float64 rotation centre, image px.
        box_size: side ``b`` of the square box (float32, the short side of ``S``).
        output_size: ``r``.

    Returns:
        float32 ``(2, 3)``. ``scale = float32(r - 1) / float32(b)`` is a float32 division; the other terms are float64
        and the result is rounded to float32, as numpy 1.26 evaluated the reference.
    """
    theta = float(np.deg2rad(rotation))
    box = np.float32(box_size)
    factor = float(np.float32(output_size - 1) / box)
    input_w, input_h = 2.0 * float(center[0]), 2.0 * float(center[1])
    cos, sin = math.cos(theta), math.sin(theta)
    matrix = np.zeros((2, 3), dtype=np.float32)
    matrix[0, 0] = cos * factor
    matrix[0, 1] = -sin * factor
    matrix[0, 2] = factor * (-0.5 * input_w * cos + 0.5 * input_h * sin + 0.5 * float(box))
    matrix[1, 0] = sin * factor
    matrix[1, 1] = cos * factor
    matrix[1, 2] = factor * (-0.5 * input_w * sin - 0.5 * input_h * cos + 0.5 * float(box))
    return matrix


def warp_affine_joints(joints: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``(..., 2)`` points times a float32 ``(2, 3)`` matrix as ``[x, y, 1] @ M.T`` in float32 (0.29
    ``warp_affine_joints``)."""
    joints = np.asarray(joints, dtype=np.float32)
    flat = joints.reshape(-1, 2)
    homogeneous = np.concatenate([flat, np.ones((len(flat), 1), dtype=np.float32)], axis=1)
    return np.dot(homogeneous, np.asarray(matrix, dtype=np.float32).T).reshape(joints.shape)
