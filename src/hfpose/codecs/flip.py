# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Flips of keypoints, boxes, normalized coordinates and heatmaps (training augmentation and flip test).

Glossary:
    N / B: number of instances (batch size). K: number of keypoints.
    image_size: ``(W, H)`` of the image in pixels. input_size: ``(w, h)`` of the network input in pixels.
    flip_indices: ``(K,)`` permutation; after a left/right mirror, keypoint ``k`` is the old keypoint
        ``flip_indices[k]`` (``new[:, k] = old[:, flip_indices[k]]``), e.g. COCO left_eye <-> right_eye.

Coordinates (see CONVENTIONS.md): points are ``(x, y)`` with pixel centres at integer coordinates, so mirroring an
image of width ``W`` maps the centre of column ``x`` to ``W - 1 - x``. Normalized regression outputs are input-space
pixels divided by ``(w, h)`` with no half-pixel offset; their mirror is ``1 - x``, and ``shift_coords`` subtracts one
input pixel (``1 / w``) to reproduce the reference flip test exactly.

Every function accepts numpy arrays; `flip_keypoints`, `flip_coordinates` and `flip_heatmaps` also accept torch
tensors and return the same type. No function modifies its input (MMPose's ``flip_coordinates`` does; we don't).

Source: reference implementation MMPose 1.x ``mmpose/structures/keypoint/transforms.py`` (``flip_keypoints``),
``mmpose/structures/bbox/transforms.py`` (``flip_bbox``) and ``mmpose/models/utils/tta.py`` (``flip_coordinates``,
``flip_heatmaps``), open-mmlab/mmpose@759b39c; checked against ``golden/transforms/flip.npz``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["flip_keypoints", "flip_bbox", "flip_coordinates", "flip_heatmaps"]

_DIRECTIONS = ("horizontal", "vertical", "diagonal")
_BBOX_FORMATS = ("xyxy", "xywh", "center")


def _is_torch(x) -> bool:
    return type(x).__module__.startswith("torch")


def _copy(x):
    return x.clone() if _is_torch(x) else np.array(x, copy=True)


def _as_array(x, name: str):
    if _is_torch(x):
        return x
    if isinstance(x, np.ndarray):
        return x
    try:
        return np.asarray(x, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a numpy array or torch tensor; got {type(x).__name__}") from error


def _check_flip_indices(flip_indices, num_keypoints: int) -> list[int]:
    if flip_indices is None:
        raise ValueError("flip_indices is required")
    indices = [int(i) for i in (flip_indices.tolist() if hasattr(flip_indices, "tolist") else flip_indices)]
    if len(indices) != num_keypoints:
        raise ValueError(f"flip_indices has {len(indices)} entries but the input has {num_keypoints} keypoints")
    if sorted(indices) != list(range(num_keypoints)):
        raise ValueError(f"flip_indices must be a permutation of 0..{num_keypoints - 1}; got {indices}")
    return indices


def _check_direction(direction: str) -> None:
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be one of {_DIRECTIONS}; got {direction!r}")


def flip_keypoints(
    keypoints,
    keypoints_visible=None,
    image_size: tuple[int, int] = None,
    flip_indices: Sequence[int] | None = None,
    direction: str = "horizontal",
):
    """Flip keypoints in image space together with the image.

    Args:
        keypoints (`np.ndarray` or `torch.Tensor` of shape `(N, K, 2)`): ``(x, y)`` in image px.
        keypoints_visible (`np.ndarray` or `torch.Tensor` of shape `(N, K)`, *optional*): visibility; permuted like
            the keypoints. ``None`` is passed through.
        image_size (`tuple[int, int]`): ``(W, H)`` of the image.
        flip_indices (`Sequence[int]` of length K): left/right permutation; required for ``"horizontal"`` and
            ``"vertical"``, ignored for ``"diagonal"``.
        direction (`str`): ``"horizontal"``: ``x' = W - 1 - x`` and joints permuted; ``"vertical"``:
            ``y' = H - 1 - y`` and joints permuted; ``"diagonal"``: both coordinates mirrored and joints **not**
            permuted (a diagonal flip is a 180 degree rotation, which keeps left and right).

    Returns:
        `tuple`: flipped ``keypoints`` (same type and shape; float, the input's float dtype for ``"horizontal"`` /
        ``"vertical"`` and float64 for ``"diagonal"``, as the reference returns) and ``keypoints_visible`` (or
        ``None``).

    Raises:
        ValueError: bad ``direction``, shapes that disagree, ``image_size`` missing, or ``flip_indices`` that is not a
            permutation of the K keypoints.

    Source: MMPose ``mmpose.structures.flip_keypoints``.
    """
    _check_direction(direction)
    keypoints = _as_array(keypoints, "keypoints")
    if keypoints.ndim < 2 or keypoints.shape[-1] != 2:
        raise ValueError(f"keypoints must have shape (N, K, 2); got {tuple(keypoints.shape)}")
    if keypoints_visible is not None:
        keypoints_visible = _as_array(keypoints_visible, "keypoints_visible")
        if tuple(keypoints_visible.shape) != tuple(keypoints.shape[:-1]):
            raise ValueError(
                f"keypoints_visible must have shape {tuple(keypoints.shape[:-1])} to match keypoints; "
                f"got {tuple(keypoints_visible.shape)}"
            )
    if image_size is None or len(image_size) != 2:
        raise ValueError(f"image_size must be (W, H); got {image_size!r}")
    width, height = float(image_size[0]), float(image_size[1])

    flipped = _copy(keypoints)
    if direction == "diagonal":
        # The reference subtracts from an integer (W, H) array, which promotes to float64; keep that precision.
        flipped = flipped.double() if _is_torch(flipped) else flipped.astype(np.float64)
    elif not (_is_torch(flipped) or np.issubdtype(flipped.dtype, np.floating)):
        flipped = flipped.astype(np.float32)
    visible = None if keypoints_visible is None else _copy(keypoints_visible)
    if direction != "diagonal":
        indices = _check_flip_indices(flip_indices, keypoints.shape[-2])
        flipped = flipped[..., indices, :]
        if visible is not None:
            visible = visible[..., indices]
    if direction in ("horizontal", "diagonal"):
        flipped[..., 0] = width - 1 - flipped[..., 0]
    if direction in ("vertical", "diagonal"):
        flipped[..., 1] = height - 1 - flipped[..., 1]
    return flipped, visible


def flip_bbox(
    bbox, image_size: tuple[int, int], bbox_format: str = "xywh", direction: str = "horizontal"
) -> np.ndarray:
    """Flip boxes in image space together with the image.

    Args:
        bbox (`np.ndarray` of shape `(..., 4)` or `(..., 2)` for ``"center"``): boxes in image px.
        image_size (`tuple[int, int]`): ``(W, H)`` of the image.
        bbox_format (`str`): ``"xyxy"`` (``[x1, y1, x2, y2]``), ``"xywh"`` (COCO ``[x, y, w, h]``) or ``"center"``
            (``[x, y]`` box centres).
        direction (`str`): ``"horizontal"``, ``"vertical"`` or ``"diagonal"`` (both).

    Returns:
        `np.ndarray`: flipped boxes, same shape and format. Horizontal: ``xyxy -> (W-1-x2, y1, W-1-x1, y2)``,
        ``center -> (W-1-x, y)``, ``xywh -> (W-1-(x+w), y, w, h)``; vertical likewise on y.

    Raises:
        ValueError: bad ``direction`` / ``bbox_format`` or a last dimension that does not fit the format.

    Source: MMPose ``mmpose.structures.bbox.flip_bbox`` for ``xyxy`` and ``center``. For ``xywh`` MMPose applies the
    point rule ``W - 1 - x`` to the top-left corner, which mirrors the corner but not the box; we mirror the box
    (its ``xyxy`` flip, written back as ``xywh``), so that all three formats describe the same flipped region.
    """
    _check_direction(direction)
    if bbox_format not in _BBOX_FORMATS:
        raise ValueError(f"bbox_format must be one of {_BBOX_FORMATS}; got {bbox_format!r}")
    bbox = np.asarray(bbox)
    if not np.issubdtype(bbox.dtype, np.floating):
        bbox = bbox.astype(np.float32)
    expected = 2 if bbox_format == "center" else 4
    if bbox.ndim < 1 or bbox.shape[-1] != expected:
        raise ValueError(f"bbox in format {bbox_format!r} must have shape (..., {expected}); got {bbox.shape}")
    if image_size is None or len(image_size) != 2:
        raise ValueError(f"image_size must be (W, H); got {image_size!r}")
    width, height = image_size
    flipped = bbox.copy()
    for axis, size, active in ((0, width, direction != "vertical"), (1, height, direction != "horizontal")):
        if not active:
            continue
        if bbox_format == "center":
            flipped[..., axis] = size - 1 - bbox[..., axis]
        elif bbox_format == "xyxy":
            flipped[..., axis] = size - 1 - bbox[..., axis + 2]
            flipped[..., axis + 2] = size - 1 - bbox[..., axis]
        else:  # xywh: mirror the far edge x + w, keep the extent
            flipped[..., axis] = size - 1 - (bbox[..., axis] + bbox[..., axis + 2])
    return flipped


def flip_coordinates(coords, flip_indices: Sequence[int], shift_coords: bool, input_size: tuple[int, int]):
    """Flip normalized regression outputs of the mirrored input back to the original input (flip test).

    ``x' = 1 - x - shift / w`` (``shift = 1`` if ``shift_coords`` else 0), ``y`` unchanged, then joints permuted:
    ``out[:, k] = flipped[:, flip_indices[k]]``. The shift accounts for the reference's mirror of pixel centres
    (``w - 1 - x_px``) expressed in normalized units ``x_px / w``.

    Args:
        coords (`np.ndarray` or `torch.Tensor` of shape `(B, K, 2)`): normalized ``(x / w, y / h)`` predicted on
            ``pixel_values.flip(-1)``.
        flip_indices (`Sequence[int]` of length K): left/right permutation.
        shift_coords (`bool`): subtract one input pixel (``1 / w``) after mirroring (MMPose ``shift_coords=True``
            in every regression config).
        input_size (`tuple[int, int]`): ``(w, h)`` of the network input.

    Returns:
        Same type, shape and dtype as ``coords``; the input is not modified.

    Raises:
        ValueError: if ``coords`` is not ``(B, K, 2)`` or ``flip_indices`` does not fit K.

    Source: MMPose ``mmpose.models.utils.tta.flip_coordinates`` (which changes its input in place; this does not).
    """
    coords = _as_array(coords, "coords")
    if coords.ndim != 3 or coords.shape[-1] != 2:
        raise ValueError(f"coords must have shape (B, K, 2); got {tuple(coords.shape)}")
    indices = _check_flip_indices(flip_indices, coords.shape[1])
    flipped = _copy(coords)
    flipped[..., 0] = 1.0 - flipped[..., 0]
    if shift_coords:
        flipped[..., 0] -= 1.0 / float(input_size[0])
    return flipped[:, indices]


def flip_heatmaps(heatmaps, flip_indices: Sequence[int], shift_heatmap: bool = False):
    """Flip heatmaps of the mirrored input back to the original input (flip test, ``flip_mode="heatmap"``).

    Reverses the width axis and permutes the channels (``out[:, k] = mirrored[:, flip_indices[k]]``). With
    ``shift_heatmap`` the result is shifted right by one column, ``out[..., 1:] = out[..., :-1]``, and column 0
    keeps its value (so it appears twice), as in the reference.

    Args:
        heatmaps (`np.ndarray` or `torch.Tensor` of shape `(B, K, H, W)`): heatmaps predicted on the mirrored input.
        flip_indices (`Sequence[int]` of length K): left/right permutation.
        shift_heatmap (`bool`): shift by one heatmap pixel (MMPose IPR configs: True; UDP and AE: False).

    Returns:
        Same type, shape and dtype as ``heatmaps``; the input is not modified.

    Raises:
        ValueError: if ``heatmaps`` is not 4-D or ``flip_indices`` does not fit K.

    Source: MMPose ``mmpose.models.utils.tta.flip_heatmaps``.
    """
    heatmaps = _as_array(heatmaps, "heatmaps")
    if heatmaps.ndim != 4:
        raise ValueError(f"heatmaps must have shape (B, K, H, W); got {tuple(heatmaps.shape)}")
    indices = _check_flip_indices(flip_indices, heatmaps.shape[1])
    if _is_torch(heatmaps):
        flipped = heatmaps.flip(-1)[:, indices].clone()
    else:
        flipped = np.ascontiguousarray(heatmaps[..., ::-1][:, indices])
    if shift_heatmap:
        flipped[..., 1:] = _copy(flipped[..., :-1])
    return flipped
