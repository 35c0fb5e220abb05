# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Draw predicted skeletons on an image with OpenCV (RGB uint8 in, RGB uint8 out)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cv2
import numpy as np

__all__ = ["draw_keypoints"]

# Distinct RGB colours, cycled over keypoints and limbs.
_PALETTE = (
    (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240),
    (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (220, 190, 255), (170, 110, 40),
    (255, 250, 200), (128, 0, 0), (170, 255, 195), (128, 128, 0),
)  # fmt: skip


def draw_keypoints(
    image,
    persons: Sequence[Mapping],
    skeleton: Sequence[Sequence[int]] = (),
    keypoint_threshold: float = 0.3,
    radius: int | None = None,
    thickness: int | None = None,
    draw_bbox: bool = True,
) -> np.ndarray:
    """Draw keypoints, limbs and (optionally) boxes of the persons of one image.

    Args:
        image (`np.ndarray` of shape `(H, W, 3)` uint8 RGB, or `PIL.Image.Image`): not modified.
        persons (`list[dict]`): one image's entry of `TopDownPoseImageProcessor.post_process_pose_estimation`:
            ``keypoints`` ``(K, 2)`` image px, ``scores`` ``(K,)`` (optional, default 1), ``bbox`` COCO
            ``[x, y, w, h]`` (optional).
        skeleton (`list[tuple[int, int]]`): keypoint index pairs joined by a line, e.g. ``COCO_KEYPOINTS.skeleton``.
        keypoint_threshold (`float`): keypoints with ``score < keypoint_threshold`` or non-finite coordinates are
            skipped, and so is every limb touching one.
        radius, thickness (`int`, *optional*): circle radius and line width in px; scaled with the image size when
            unset.
        draw_bbox (`bool`): outline each person's ``bbox``.

    Returns:
        `np.ndarray` of shape `(H, W, 3)` uint8 RGB: a drawn copy.

    Raises:
        ValueError: if the image is not ``(H, W, 3)`` uint8, or a skeleton index is out of range.
    """
    canvas = np.array(image.convert("RGB") if hasattr(image, "convert") else image, dtype=None, copy=True)
    if canvas.ndim != 3 or canvas.shape[-1] != 3 or canvas.dtype != np.uint8:
        raise ValueError(f"image must be an (H, W, 3) uint8 RGB array; got shape {canvas.shape}, dtype {canvas.dtype}")
    canvas = np.ascontiguousarray(canvas)
    size = max(canvas.shape[:2])
    radius = max(1, round(size / 200)) if radius is None else int(radius)
    thickness = max(1, round(size / 300)) if thickness is None else int(thickness)

    for person in persons:
        keypoints = np.asarray(person["keypoints"], dtype=np.float64).reshape(-1, 2)
        scores = person.get("scores")
        scores = np.ones(len(keypoints)) if scores is None else np.asarray(scores, dtype=np.float64).reshape(-1)
        keep = np.isfinite(keypoints).all(axis=1) & (scores >= keypoint_threshold)
        points = [tuple(int(round(v)) for v in point) for point in np.nan_to_num(keypoints)]

        if draw_bbox and person.get("bbox") is not None:
            x, y, w, h = (float(v) for v in np.asarray(person["bbox"]).reshape(4))
            cv2.rectangle(canvas, (round(x), round(y)), (round(x + w), round(y + h)), (255, 255, 255), thickness)
        for link, (start, end) in enumerate(skeleton):
            if not (0 <= start < len(points) and 0 <= end < len(points)):
                raise ValueError(f"skeleton[{link}] = ({start}, {end}) is out of range for {len(points)} keypoints")
            if keep[start] and keep[end]:
                color = _PALETTE[link % len(_PALETTE)]
                cv2.line(canvas, points[start], points[end], color, thickness, lineType=cv2.LINE_AA)
        for index, point in enumerate(points):
            if keep[index]:
                cv2.circle(canvas, point, radius, _PALETTE[index % len(_PALETTE)], -1, lineType=cv2.LINE_AA)
    return canvas
