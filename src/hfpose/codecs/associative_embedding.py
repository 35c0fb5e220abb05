# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Associative-embedding (AE) decoding of bottom-up heatmaps and tags, as MMPose 0.29 parses them with UDP.

Glossary:
    K: number of keypoints (17 for COCO). L: tag dimensions per keypoint (2 with flip test: original and
        flipped-back tag, 1 without). P: number of people found. k: candidates kept per keypoint (``max_num_people``).
    heatmap size ``[W, H]``: size of the maps that are parsed (stride 4 for HRNet, stride 2 for HigherHRNet).
    heatmap px: ``(x, y)`` with pixel centres at integers; element ``[y, x]`` sits at ``(x, y)``.
    grouped keypoints: ``(P, K, 3 + L)`` float32 rows ``(x, y, value, tag_1, ..., tag_L)``; a missing keypoint is
        an all-zero row.

Decoding (one image) runs these steps, each a public function here so it can be tested on its own:

1. :func:`nms`: keep a pixel only where it equals the maximum of its ``kernel x kernel`` window.
2. :func:`top_k`: the ``k`` largest NMS values of each keypoint channel, their pixels and tags.
3. :func:`group_keypoints`: Hungarian matching of candidates to people by tag distance (Newell et al.).
4. :func:`adjust_dark_udp`: DARK sub-pixel refinement with UDP (Zhang et al.; Huang et al.), on all keypoints.
5. :func:`person_scores`: mean keypoint value per person, taken **before** refinement.
6. :func:`refine_keypoints`: fill missing keypoints from the heatmaps near the person's mean tag.

:class:`AssociativeEmbeddingDecoder` chains them; :func:`heatmap_to_image` maps the result to image pixels.
Parsing follows the GPU behaviour of MMPose 0.29 (refinement reads the original heatmaps; on a CPU tensor 0.29
overwrites them in place with the log maps of step 4 and never fills a keypoint).

Sources: Newell et al., "Associative Embedding: End-to-End Learning for Joint Detection and Grouping", NeurIPS 2017
(grouping by tag distance); Cheng et al., "HigherHRNet", CVPR 2020; Zhang et al., "Distribution-Aware Coordinate
Representation for Human Pose Estimation" (DARK), CVPR 2020; Huang et al., "The Devil is in the Details: Delving into
Unbiased Data Processing for Human Pose Estimation" (UDP), CVPR 2020. Reference implementation: MMPose v0.29.0
(open-mmlab/mmpose@0d9a00c) ``mmpose/core/post_processing/group.py`` (``HeatmapParser``), ``post_transforms.py``
(``get_group_preds``) and ``evaluation/top_down_eval.py`` (``post_dark_udp``), as specified step by step in
the MMPose 0.29 golden-fixture README (``bottomup029/README.md``) (section C).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch
from scipy.ndimage import maximum_filter

from .munkres_assignment import min_cost_assignment

__all__ = [
    "encode_joint_indices",
    "generate_udp_heatmaps_029",
    "min_cost_assignment",
    "nms",
    "top_k",
    "group_keypoints",
    "adjust_dark_udp",
    "person_scores",
    "refine_keypoints",
    "heatmap_to_image_matrix",
    "heatmap_to_image",
    "AssociativeEmbeddingDecoder",
]

# Cost of a padding column in the assignment (a candidate matched to it starts a new person).
_PADDING_COST = 1e10
# Pixels per heatmap scored first when filling missing keypoints (see refine_keypoints).
_REFINE_BLOCK = 2048


def _as_float32_maps(array, name: str, ndim: int) -> np.ndarray:
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu().numpy()
    array = np.asarray(array)
    if array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions; got shape {array.shape}")
    if array.dtype.kind != "f":
        raise TypeError(f"{name} must be a floating-point array; got dtype {array.dtype}")
    return np.ascontiguousarray(array, dtype=np.float32)


def nms(heatmaps: np.ndarray, kernel: int = 5) -> np.ndarray:
    """Non-maximum suppression: zero every pixel that is not the maximum of its ``kernel x kernel`` window.

    Args:
        heatmaps: float ``(..., H, W)``.
        kernel: odd window size; the window is centred (padding ``(kernel - 1) // 2``, outside the map counts as
            ``-inf``), so border pixels compare only with pixels inside the map.

    Returns:
        float32 array of the same shape: the value where it equals the window maximum, else 0. Negative maxima
        survive. Equal to ``h * (max_pool2d(h, kernel, 1, (kernel - 1) // 2) == h)``.

    Raises:
        ValueError: if ``kernel`` is not a positive odd integer or ``heatmaps`` has fewer than 2 dimensions.

    Source: MMPose 0.29 ``HeatmapParser.nms`` (``MaxPool2d(nms_kernel, 1, nms_padding)``).
    """
    if not isinstance(kernel, (int, np.integer)) or kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"kernel must be a positive odd integer; got {kernel!r}")
    heatmaps = np.asarray(heatmaps, dtype=np.float32)
    if heatmaps.ndim < 2:
        raise ValueError(f"heatmaps must have shape (..., H, W); got {heatmaps.shape}")
    size = (1,) * (heatmaps.ndim - 2) + (kernel, kernel)
    window_max = maximum_filter(heatmaps, size=size, mode="constant", cval=-np.inf)
    return np.where(window_max == heatmaps, heatmaps, np.float32(0)).astype(np.float32)


def top_k(
    heatmaps: np.ndarray, tags: np.ndarray, k: int = 30, nms_kernel: int = 5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` best candidates of every keypoint after NMS.

    Args:
        heatmaps: float ``(K, H, W)`` heatmaps of one image.
        tags: float ``(K, H, W, L)`` tags (``(1, H, W, L)`` is broadcast to all keypoints).
        k: candidates per keypoint (``max_num_people``); at most ``H * W``.
        nms_kernel: window of :func:`nms`.

    Returns:
        ``values`` float32 ``(K, k)`` in descending order, ``locations`` int64 ``(K, k, 2)`` as ``(x, y)`` heatmap
        px (x = index mod W, y = index div W), ``candidate_tags`` float32 ``(K, k, L)``. Equal values are ordered as
        ``torch.topk`` orders them (this only matters among candidates with identical values, e.g. the zeros that
        NMS leaves, which never pass a positive detection threshold).

    Raises:
        ValueError: on inconsistent shapes or ``k`` outside ``[1, H * W]``.

    Source: MMPose 0.29 ``HeatmapParser.top_k``.
    """
    heatmaps = _as_float32_maps(heatmaps, "heatmaps", 3)
    tags = _as_float32_maps(tags, "tags", 4)
    num_keypoints, height, width = heatmaps.shape
    if tags.shape[1:3] != (height, width) or tags.shape[0] not in (1, num_keypoints):
        raise ValueError(f"tags must have shape ({num_keypoints} or 1, {height}, {width}, L); got {tags.shape}")
    if not 1 <= k <= height * width:
        raise ValueError(f"k must be in [1, H * W = {height * width}]; got {k}")
    suppressed = torch.from_numpy(nms(heatmaps, nms_kernel).reshape(num_keypoints, -1))
    values, indices = suppressed.topk(k, dim=1)
    values, indices = values.numpy(), indices.numpy()
    flat_tags = np.broadcast_to(tags, (num_keypoints,) + tags.shape[1:]).reshape(num_keypoints, height * width, -1)
    candidate_tags = np.take_along_axis(flat_tags, indices[..., None], axis=1)
    locations = np.stack([indices % width, indices // width], axis=-1).astype(np.int64)
    return values.astype(np.float32), locations, np.ascontiguousarray(candidate_tags, dtype=np.float32)


def group_keypoints(
    values: np.ndarray,
    locations: np.ndarray,
    candidate_tags: np.ndarray,
    grouping_order: Sequence[int],
    detection_threshold: float = 0.1,
    tag_threshold: float = 1.0,
    use_detection_val: bool = True,
    ignore_too_much: bool = False,
    max_num_people: int = 30,
) -> np.ndarray:
    """Group the top-k candidates into people by their tags (associative embedding).

    Keypoints are visited in ``grouping_order``; only candidates with ``value > detection_threshold`` take part.
    The candidates of the first keypoint that has any each start a person. For every later keypoint, a person's
    tag is the (float32) mean of its members' tags and the cost of candidate ``i`` joining person ``j`` is
    ``round(d_ij) * 100 - value_i`` (``d`` = L2 tag distance in float64, round half to even) when
    ``use_detection_val``, else ``d_ij``; with more candidates than people, columns of cost 1e10 are appended.
    The minimum-cost assignment (Hungarian algorithm) is solved and a candidate joins its person if that person is
    real and the **unrounded** ``d < tag_threshold``; otherwise it starts a new person.

    People are keyed by the float ``tag_1`` of the candidate that started them, as in the reference: a new person
    whose starting tag is bit-identical to an existing key is written into that person and resets its tag list.
    With ``ignore_too_much=False`` there is no cap on the number of people.

    Args:
        values: ``(K, k)`` candidate values; locations: ``(K, k, 2)`` ``(x, y)`` heatmap px;
            candidate_tags: ``(K, k, L)``; all from :func:`top_k`.
        grouping_order: permutation of ``range(K)``, e.g. ``COCO_KEYPOINTS.grouping_order``.
        detection_threshold, tag_threshold, use_detection_val, ignore_too_much, max_num_people: as in the
            reference ``test_cfg``.

    Returns:
        float32 ``(P, K, 3 + L)`` grouped keypoints ``(x, y, value, tags...)`` in person-creation order;
        ``(0, K, 3 + L)`` if nothing passes the threshold.

    Raises:
        ValueError: on inconsistent shapes or if ``grouping_order`` is not a permutation of ``range(K)``.

    Note:
        The assignment is :func:`min_cost_assignment`, which breaks ties between equal-cost assignments as the
        ``munkres`` package of the reference fixtures does (scipy's solver does not, and these costs tie often).

    Source: Newell et al., NeurIPS 2017, Sec. 3; MMPose 0.29 ``group._match_by_tag``.
    """
    values = np.asarray(values, dtype=np.float32)
    locations = np.asarray(locations)
    candidate_tags = np.asarray(candidate_tags, dtype=np.float32)
    if values.ndim != 2:
        raise ValueError(f"values must have shape (K, k); got {values.shape}")
    num_keypoints, num_candidates = values.shape
    if locations.shape != (num_keypoints, num_candidates, 2):
        raise ValueError(f"locations must have shape {(num_keypoints, num_candidates, 2)}; got {locations.shape}")
    if candidate_tags.ndim != 3 or candidate_tags.shape[:2] != (num_keypoints, num_candidates):
        raise ValueError(
            f"candidate_tags must have shape {(num_keypoints, num_candidates)} + (L,); got {candidate_tags.shape}"
        )
    order = [int(index) for index in grouping_order]
    if sorted(order) != list(range(num_keypoints)):
        raise ValueError(f"grouping_order must be a permutation of range({num_keypoints}); got {list(grouping_order)}")
    tag_dim = candidate_tags.shape[2]

    # Insertion-ordered: person key (float tag_1 of its first candidate) -> (K, 3 + L) rows / list of member tags.
    people: dict[float, np.ndarray] = {}
    people_tags: dict[float, list[np.ndarray]] = {}

    def start_person(key: float, keypoint: int, row: np.ndarray, tag: np.ndarray) -> None:
        people.setdefault(key, np.zeros((num_keypoints, 3 + tag_dim), dtype=np.float32))[keypoint] = row
        people_tags[key] = [tag]

    for keypoint in order:
        tags_k = candidate_tags[keypoint]
        # float64 rows (x, y, value, tags...), as concatenating int64 locations with float32 values gives.
        rows = np.concatenate([locations[keypoint], values[keypoint, :, None], tags_k], axis=1, dtype=np.float64)
        keep = rows[:, 2] > detection_threshold
        rows, tags_k = rows[keep], tags_k[keep]
        if rows.shape[0] == 0:
            continue
        if not people:
            for row, tag in zip(rows, tags_k):
                start_person(float(tag[0]), keypoint, row, tag)
            continue

        keys = list(people)
        if ignore_too_much:
            keys = keys[:max_num_people]
            if len(keys) == max_num_people:
                continue
        person_tags = np.array([np.mean(people_tags[key], axis=0) for key in keys])  # (G, L) float32
        distance = np.linalg.norm(rows[:, None, 3:] - person_tags[None], ord=2, axis=2)  # (N, G) float64
        cost = np.round(distance) * 100 - rows[:, 2:3] if use_detection_val else distance.copy()
        num_rows, num_people = cost.shape
        if num_rows > num_people:
            cost = np.concatenate([cost, np.full((num_rows, num_rows - num_people), _PADDING_COST)], axis=1)
        assigned_rows, assigned_cols = min_cost_assignment(cost)
        for row, col in zip(assigned_rows, assigned_cols):
            if col < num_people and distance[row, col] < tag_threshold:
                key = keys[col]
                people[key][keypoint] = rows[row]
                people_tags[key].append(tags_k[row])
            else:
                start_person(float(tags_k[row, 0]), keypoint, rows[row], tags_k[row])

    if not people:
        return np.zeros((0, num_keypoints, 3 + tag_dim), dtype=np.float32)
    return np.stack(list(people.values())).astype(np.float32)


def adjust_dark_udp(keypoints: np.ndarray, heatmaps: np.ndarray, kernel: int = 3) -> np.ndarray:
    """DARK sub-pixel refinement with UDP (one Newton step on the log of the blurred heatmap).

    For every keypoint (missing ones at ``(0, 0)`` included), on heatmap ``h_k``:

    * ``B = cv2.GaussianBlur(h_k, (kernel, kernel), 0)`` (for 3: the fixed ``[1, 2, 1] / 4`` kernel, border
      REFLECT_101), ``L = log(clip(B, 0.001, 50))``, padded by 1 with edge replication;
    * at the integer pixel ``(x, y)`` (truncated), in float32 and in this summation order:
      ``dx = 0.5 (L[y, x+1] - L[y, x-1])``, ``dy = 0.5 (L[y+1, x] - L[y-1, x])``,
      ``dxx = L[y, x+1] - 2 L[y, x] + L[y, x-1]``, ``dyy`` likewise,
      ``dxy = 0.5 (L[y+1,x+1] - L[y,x+1] - L[y+1,x] + L[y,x] + L[y,x] - L[y,x-1] - L[y-1,x] + L[y-1,x-1])``;
    * ``(x, y) -= (Hessian + eps32 I)^-1 gradient`` with the inverse in float64, stored as float32.

    The step is not clamped: in flat or clipped regions it can move a point far away.

    Args:
        keypoints: ``(P, K, 2)`` ``(x, y)`` heatmap px (integer-valued in the decoder).
        heatmaps: float ``(K, H, W)``; not modified.
        kernel: odd Gaussian kernel size.

    Returns:
        float32 ``(P, K, 2)`` refined ``(x, y)`` heatmap px.

    Raises:
        ValueError: on inconsistent shapes or a keypoint outside the map.

    A keypoint whose Hessian (plus eps) is exactly singular keeps its position (the reference raises
    ``LinAlgError`` for the whole image; see `_inverse_or_zero`).

    Source: Zhang et al., CVPR 2020, Eq. 5-7 (DARK); Huang et al., CVPR 2020 (UDP); MMPose 0.29 ``post_dark_udp``.
    """
    heatmaps = _as_float32_maps(heatmaps, "heatmaps", 3)
    keypoints = np.asarray(keypoints, dtype=np.float32)
    num_keypoints, height, width = heatmaps.shape
    if keypoints.ndim != 3 or keypoints.shape[1:] != (num_keypoints, 2):
        raise ValueError(f"keypoints must have shape (P, {num_keypoints}, 2); got {keypoints.shape}")
    if not isinstance(kernel, (int, np.integer)) or kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"kernel must be a positive odd integer; got {kernel!r}")
    if keypoints.shape[0] == 0:
        return keypoints.copy()
    blurred = np.stack([cv2.GaussianBlur(channel, (kernel, kernel), 0) for channel in heatmaps])
    log_maps = np.log(np.clip(blurred, np.float32(0.001), np.float32(50)))
    padded = np.pad(log_maps, ((0, 0), (1, 1), (1, 1)), mode="edge")

    x = keypoints[..., 0].astype(np.int64)
    y = keypoints[..., 1].astype(np.int64)
    if np.any((x < 0) | (x >= width) | (y < 0) | (y >= height)):
        raise ValueError(f"keypoints must lie inside the {width}x{height} heatmap to be adjusted")
    channel = np.arange(num_keypoints)[None, :]
    px, py = x + 1, y + 1  # indices into the padded map

    def at(dx: int, dy: int) -> np.ndarray:
        return padded[channel, py + dy, px + dx]

    center, right, left, down, up = at(0, 0), at(1, 0), at(-1, 0), at(0, 1), at(0, -1)
    down_right, up_left = at(1, 1), at(-1, -1)
    half = np.float32(0.5)
    gradient = np.stack([half * (right - left), half * (down - up)], axis=-1)[..., None]  # (P, K, 2, 1) float32
    dxx = right - np.float32(2) * center + left
    dyy = down - np.float32(2) * center + up
    dxy = half * (down_right - right - down + center + center - left - up + up_left)
    hessian = np.stack([dxx, dxy, dxy, dyy], axis=-1).reshape(keypoints.shape[:2] + (2, 2))
    inverse = _inverse_or_zero(hessian + np.finfo(np.float32).eps * np.eye(2))  # float64
    step = np.einsum("ijmn,ijnk->ijmk", inverse, gradient)[..., 0]  # float64 (P, K, 2)
    return (keypoints - step).astype(np.float32)


def _inverse_or_zero(matrices: np.ndarray) -> np.ndarray:
    """``np.linalg.inv`` of a stack of ``(..., 2, 2)`` matrices, with a zero matrix for each exactly singular one.

    The reference inverts the whole stack and raises ``LinAlgError`` when one Hessian (plus eps) is singular, e.g. a
    keypoint in a region where the clipped log-heatmap is linear along one axis; the real bottom-up workload
    (``benchmarks/real_bottomup.py``) met one. A zero inverse leaves that keypoint unrefined (no DARK step); every other
    keypoint gets exactly the reference's value (the stack is inverted as a whole first, matrix by matrix only then).
    """
    try:
        return np.linalg.inv(matrices)
    except np.linalg.LinAlgError:
        flat = matrices.reshape(-1, 2, 2)
        inverse = np.zeros_like(flat)
        for index, matrix in enumerate(flat):
            try:
                inverse[index] = np.linalg.inv(matrix)
            except np.linalg.LinAlgError:
                pass  # singular: no refinement step for this keypoint
        return inverse.reshape(matrices.shape)


def person_scores(grouped: np.ndarray) -> np.ndarray:
    """Score of each person: the float32 mean of its K keypoint values (missing keypoints count as 0).

    Args:
        grouped: ``(P, K, 3 + L)`` grouped keypoints (before :func:`refine_keypoints`, as the reference does).

    Returns:
        float32 ``(P,)``.

    Source: MMPose 0.29 ``HeatmapParser.parse`` (``score_per_joint=False``).
    """
    grouped = np.asarray(grouped, dtype=np.float32)
    return np.array([person[:, 2].mean() for person in grouped], dtype=np.float32)


def _rounded_tag_distance(tag_planes: np.ndarray, mean_tag: np.ndarray) -> np.ndarray:
    """``round(||tag - mean_tag||_2)`` in float32 for ``(..., L, N)`` tag planes (squares summed over L in order,
    as numpy sums a short axis), half to even."""
    total = None
    for index in range(tag_planes.shape[-2]):
        square = np.square(tag_planes[..., index, :] - mean_tag[index])
        total = square if total is None else np.add(total, square, out=total)
    np.sqrt(total, out=total)
    return np.round(total, out=total)


def refine_keypoints(grouped: np.ndarray, heatmaps: np.ndarray, tags: np.ndarray, use_udp: bool = True) -> np.ndarray:
    """Fill each person's missing keypoints from the heatmaps near the person's mean tag.

    Per person: its tag ``t`` is the float32 mean over detected keypoints (value > 0) of ``tags[k, int(y), int(x)]``
    (coordinates truncated toward zero and clipped to the map). For every keypoint ``k``, with
    ``D = ||tags_k - t||_2`` per pixel (float32), the pixel ``(x*, y*)`` is the first (row-major) argmax of
    ``heatmaps_k - round(D)`` and ``value = heatmaps_k[y*, x*]``. Then ``x = x* + 0.25`` if
    ``h[y*, min(W-1, x*+1)] > h[y*, max(0, x*-1)]`` else ``x* - 0.25`` (likewise for ``y``), plus 0.5 on both
    axes without UDP. The keypoint becomes ``(x, y, value)`` only if ``value > 0`` and its current value is 0;
    tag columns are not changed.

    Only missing keypoints are scored, and first only on the 2048 highest pixels of each map: since
    ``round(D) >= 0``, a best score there above every other pixel's heatmap value is the exact argmax (else the
    whole map is scored). The elementwise float32 arithmetic is the reference's, so results are bit-identical.

    Args:
        grouped: ``(P, K, 3 + L)`` grouped (and adjusted) keypoints in heatmap px.
        heatmaps: float ``(K, H, W)`` the **original** heatmaps (GPU semantics of the reference).
        tags: float ``(K, H, W, L)`` (or ``(1, H, W, L)``, broadcast).
        use_udp: no +0.5 offset when True.

    Returns:
        float32 ``(P, K, 3 + L)`` copy with missing keypoints filled.

    Raises:
        ValueError: on inconsistent shapes.

    Source: MMPose 0.29 ``HeatmapParser.refine``.
    """
    heatmaps = _as_float32_maps(heatmaps, "heatmaps", 3)
    tags = _as_float32_maps(tags, "tags", 4)
    num_keypoints, height, width = heatmaps.shape
    tags = np.broadcast_to(tags, (num_keypoints,) + tags.shape[1:])
    if tags.shape[1:3] != (height, width):
        raise ValueError(f"tags must have shape ({num_keypoints}, {height}, {width}, L); got {tags.shape}")
    grouped = np.array(grouped, dtype=np.float32, copy=True)
    if grouped.ndim != 3 or grouped.shape[1] != num_keypoints:
        raise ValueError(f"grouped must have shape (P, {num_keypoints}, 3 + L); got {grouped.shape}")
    offset = 0.0 if use_udp else 0.5
    num_pixels = height * width
    flat_heatmaps = heatmaps.reshape(num_keypoints, num_pixels)
    tag_planes = np.ascontiguousarray(np.moveaxis(tags.reshape(num_keypoints, num_pixels, -1), -1, 1))  # (K, L, HW)
    # Exact shortcut: score = h - round(D) <= h, so if the best score among the `block` highest pixels of h_k is
    # strictly above every other pixel's h, the argmax (and all its ties) lies among them. Otherwise (or with NaN)
    # the whole map is scored.
    block = min(_REFINE_BLOCK, num_pixels)
    if block < num_pixels:
        top = np.sort(np.argpartition(flat_heatmaps, num_pixels - block, axis=1)[:, num_pixels - block :], axis=1)
        outside_max = np.take_along_axis(flat_heatmaps, top, axis=1).min(axis=1)
    else:
        top = np.broadcast_to(np.arange(num_pixels), (num_keypoints, num_pixels))
        outside_max = np.full(num_keypoints, -np.inf, dtype=np.float32)
    top_heatmaps = np.take_along_axis(flat_heatmaps, top, axis=1)
    top_tag_planes = np.take_along_axis(tag_planes, top[:, None, :], axis=2)  # (K, L, block)

    for person in grouped:
        detected = np.flatnonzero(person[:, 2] > 0)
        missing = np.flatnonzero(person[:, 2] == 0)
        if missing.size == 0:
            continue
        if detected.size:
            x = np.clip(person[detected, 0].astype(np.int64), 0, width - 1)
            y = np.clip(person[detected, 1].astype(np.int64), 0, height - 1)
            mean_tag = np.mean(tags[detected, y, x], axis=0)  # float32 (L,)
        else:  # the reference takes the mean of nothing (NaN) and then argmax of all-NaN maps: pixel (0, 0)
            mean_tag = np.full(tags.shape[-1], np.nan, dtype=np.float32)
        scores = top_heatmaps[missing] - _rounded_tag_distance(top_tag_planes[missing], mean_tag)
        best = top[missing, np.argmax(scores, axis=1)]  # top is sorted, so this is the first argmax in row-major
        for row in np.flatnonzero(~(scores.max(axis=1) > outside_max[missing])):
            keypoint = missing[row]
            full = flat_heatmaps[keypoint] - _rounded_tag_distance(tag_planes[keypoint], mean_tag)
            best[row] = np.argmax(full)
        ys, xs = best // width, best % width
        best_values = flat_heatmaps[missing, best]
        right = flat_heatmaps[missing, ys * width + np.minimum(width - 1, xs + 1)]
        left = flat_heatmaps[missing, ys * width + np.maximum(0, xs - 1)]
        below = flat_heatmaps[missing, np.minimum(height - 1, ys + 1) * width + xs]
        above = flat_heatmaps[missing, np.maximum(0, ys - 1) * width + xs]
        new_x = xs + offset + np.where(right > left, 0.25, -0.25)
        new_y = ys + offset + np.where(below > above, 0.25, -0.25)
        fill = best_values > 0
        person[missing[fill], 0] = new_x[fill]
        person[missing[fill], 1] = new_y[fill]
        person[missing[fill], 2] = best_values[fill]
    return grouped


def heatmap_to_image_matrix(scale: Sequence[float], heatmap_size: tuple[int, int]) -> np.ndarray:
    """The float32 ``(2, 3)`` matrix from heatmap px to image px of the 0.29 UDP bottom-up test resize.

    ``x_img = x_hm * scale_w / (W - 1)``, ``y_img = y_hm * scale_h / (H - 1)``, no translation: the exact inverse of
    the top-left-anchored resize (see :mod:`hfpose.image_processing_bottomup`).

    Args:
        scale: ``(scale_w, scale_h)`` image px, from the image processor (``scale`` of the smallest test scale).
        heatmap_size: ``(W, H)`` of the parsed maps.

    Raises:
        ValueError: if ``heatmap_size`` is smaller than 2x2.

    Source: MMPose 0.29 ``get_group_preds(use_udp=True)`` (``get_warp_matrix(0, size - 1, scale, size - 1)``).
    """
    width, height = int(heatmap_size[0]), int(heatmap_size[1])
    if width < 2 or height < 2:
        raise ValueError(f"heatmap_size must be at least 2x2; got {heatmap_size}")
    scale = np.asarray(scale, dtype=np.float64)
    matrix = np.zeros((2, 3), dtype=np.float32)
    matrix[0, 0] = scale[0] / np.float64(np.float32(width - 1))
    matrix[1, 1] = scale[1] / np.float64(np.float32(height - 1))
    return matrix


def heatmap_to_image(keypoints: np.ndarray, scale: Sequence[float], heatmap_size: tuple[int, int]) -> np.ndarray:
    """Map ``(..., 2 + C)`` keypoints from heatmap px to image px; columns beyond ``(x, y)`` are copied.

    Computed in float32 as the reference does (``[x, y, 1] @ M.T``, see :func:`heatmap_to_image_matrix`).

    Returns:
        float32 array of the same shape.
    """
    keypoints = np.array(keypoints, dtype=np.float32, copy=True)
    if keypoints.shape[-1] < 2:
        raise ValueError(f"keypoints must have shape (..., 2 + C); got {keypoints.shape}")
    if keypoints.size == 0:
        return keypoints
    matrix = heatmap_to_image_matrix(scale, heatmap_size)
    homogeneous = np.concatenate([keypoints[..., :2], np.ones_like(keypoints[..., :1])], axis=-1)
    keypoints[..., :2] = homogeneous @ matrix.T
    return keypoints


class AssociativeEmbeddingDecoder:
    """MMPose 0.29 ``HeatmapParser`` with UDP, for one image: top-k, grouping, DARK-UDP adjust, scores, refine.

    Args:
        num_keypoints: K.
        grouping_order: order in which keypoints are grouped; defaults to ``range(K)``
            (use ``COCO_KEYPOINTS.grouping_order`` for COCO).
        max_num_people: candidates per keypoint (k); caps people only with ``ignore_too_much``.
        detection_threshold, tag_threshold, use_detection_val, ignore_too_much: see :func:`group_keypoints`.
        nms_kernel: NMS window.
        adjust: apply :func:`adjust_dark_udp`. refine: apply :func:`refine_keypoints`.
        use_udp: only True is supported (the non-UDP ``adjust`` of 0.x is not implemented).

    Raises:
        ValueError: on invalid parameters (names the parameter).
    """

    def __init__(
        self,
        num_keypoints: int = 17,
        grouping_order: Sequence[int] | None = None,
        max_num_people: int = 30,
        detection_threshold: float = 0.1,
        tag_threshold: float = 1.0,
        use_detection_val: bool = True,
        ignore_too_much: bool = False,
        nms_kernel: int = 5,
        adjust: bool = True,
        refine: bool = True,
        use_udp: bool = True,
    ):
        if num_keypoints < 1:
            raise ValueError(f"num_keypoints must be positive; got {num_keypoints}")
        if max_num_people < 1:
            raise ValueError(f"max_num_people must be positive; got {max_num_people}")
        if not use_udp:
            raise ValueError("use_udp=False (the non-UDP 0.x adjust) is not supported; use use_udp=True")
        order = list(range(num_keypoints)) if grouping_order is None else [int(i) for i in grouping_order]
        if sorted(order) != list(range(num_keypoints)):
            raise ValueError(f"grouping_order must be a permutation of range({num_keypoints}); got {order}")
        if nms_kernel < 1 or nms_kernel % 2 == 0:
            raise ValueError(f"nms_kernel must be a positive odd integer; got {nms_kernel}")
        self.num_keypoints = num_keypoints
        self.grouping_order = order
        self.max_num_people = max_num_people
        self.detection_threshold = detection_threshold
        self.tag_threshold = tag_threshold
        self.use_detection_val = use_detection_val
        self.ignore_too_much = ignore_too_much
        self.nms_kernel = nms_kernel
        self.adjust = adjust
        self.refine = refine
        self.use_udp = use_udp

    def decode(self, heatmaps: np.ndarray, tags: np.ndarray) -> dict[str, np.ndarray]:
        """Parse one image's aggregated maps.

        Args:
            heatmaps: float ``(K, H, W)`` aggregated heatmaps (heatmap px).
            tags: float ``(K, H, W, L)`` tags at the same resolution (``(1, H, W, L)`` without tag_per_joint).

        Returns:
            dict of numpy arrays: ``topk_values`` ``(K, k)``, ``topk_locations`` ``(K, k, 2)``, ``topk_tags``
            ``(K, k, L)``, ``grouped`` ``(P, K, 3 + L)``, ``adjusted`` ``(P, K, 3 + L)`` (grouped with DARK-adjusted
            x, y), ``person_scores`` ``(P,)``, ``keypoints`` ``(P, K, 3 + L)`` final (refined) rows
            ``(x, y, value, tags...)`` in heatmap px.

        Raises:
            ValueError: if the shapes are inconsistent or K differs from ``num_keypoints``.
        """
        heatmaps = _as_float32_maps(heatmaps, "heatmaps", 3)
        tags = _as_float32_maps(tags, "tags", 4)
        if heatmaps.shape[0] != self.num_keypoints:
            raise ValueError(f"heatmaps must have {self.num_keypoints} channels; got shape {heatmaps.shape}")
        k = min(self.max_num_people, heatmaps.shape[1] * heatmaps.shape[2])
        values, locations, candidate_tags = top_k(heatmaps, tags, k, self.nms_kernel)
        grouped = group_keypoints(
            values,
            locations,
            candidate_tags,
            self.grouping_order,
            detection_threshold=self.detection_threshold,
            tag_threshold=self.tag_threshold,
            use_detection_val=self.use_detection_val,
            ignore_too_much=self.ignore_too_much,
            max_num_people=self.max_num_people,
        )
        adjusted = grouped.copy()
        if self.adjust and len(grouped):
            adjusted[..., :2] = adjust_dark_udp(grouped[..., :2], heatmaps)
        scores = person_scores(adjusted)
        keypoints = refine_keypoints(adjusted, heatmaps, tags, self.use_udp) if self.refine else adjusted.copy()
        return {
            "topk_values": values,
            "topk_locations": locations,
            "topk_tags": candidate_tags,
            "grouped": grouped,
            "adjusted": adjusted,
            "person_scores": scores,
            "keypoints": keypoints,
        }

    __call__ = decode


# ------------------------------------------------------------------------------------------------------- encoding
# Training targets of the AE loss (MMPose 0.29 `HeatmapGenerator(use_udp=True)`, `JointsEncoder`), used by
# `hfpose.data.bottomup.BottomUpTrainTransform`.


def generate_udp_heatmaps_029(joints: np.ndarray, output_size: int, sigma: float = 2.0) -> np.ndarray:
    """0.29 ``HeatmapGenerator(use_udp=True)``: sub-pixel Gaussians on windows anchored at the truncated point.

    Args:
        joints: ``(n, K, 3)`` ``(x, y, v)`` in heatmap px of this resolution.
        output_size: side ``r`` of the square heatmap.
        sigma: Gaussian standard deviation, heatmap px.

    Returns:
        float32 ``(K, r, r)``, maximum over people, peak <= 1, not normalized (see the module docstring).
    """
    joints = np.asarray(joints, dtype=np.float32)
    num_keypoints = joints.shape[1]
    heatmaps = np.zeros((num_keypoints, output_size, output_size), dtype=np.float32)
    radius = int(3 * sigma + 1)  # 7 for sigma 2: 15 x 15 window
    grid = np.arange(0, 6 * sigma + 3, 1, dtype=np.float32)
    denominator = 2 * sigma**2
    for person in joints:
        for k, (x, y, v) in enumerate(person):
            if v <= 0:
                continue
            xi, yi = int(x), int(y)
            if xi < 0 or yi < 0 or xi >= output_size or yi >= output_size:
                continue
            # offset of the exact point inside the window, float64 then float32 (numpy 1.x scalar promotion)
            x0 = np.float32(float(3 * sigma + 1) + float(x) - xi)
            y0 = np.float32(float(3 * sigma + 1) + float(y) - yi)
            gaussian = np.exp(-((grid[None, :] - x0) ** 2 + (grid[:, None] - y0) ** 2) / np.float32(denominator))
            left, top = xi - radius, yi - radius
            x_lo, x_hi = max(0, left), min(xi + radius + 1, output_size)
            y_lo, y_hi = max(0, top), min(yi + radius + 1, output_size)
            window = gaussian[y_lo - top : y_hi - top, x_lo - left : x_hi - left]
            np.maximum(heatmaps[k, y_lo:y_hi, x_lo:x_hi], window, out=heatmaps[k, y_lo:y_hi, x_lo:x_hi])
    return heatmaps


def encode_joint_indices(joints: np.ndarray, output_size: int, max_num_people: int = 30) -> np.ndarray:
    """0.29 ``JointsEncoder`` (tag per joint): packed ``[k r^2 + int(y) r + int(x), 1]`` rows.

    Args:
        joints: ``(n, K, 3)`` in heatmap px of this resolution. output_size: ``r``. max_num_people: rows.

    Returns:
        int64 ``(max_num_people, K, 2)``; unused slots are ``(0, 0)``.

    Raises:
        ValueError: if ``n > max_num_people`` (MMPose fails there as well).
    """
    joints = np.asarray(joints, dtype=np.float32)
    if len(joints) > max_num_people:
        raise ValueError(f"{len(joints)} people exceed max_num_people={max_num_people}")
    encoded = np.zeros((max_num_people, joints.shape[1] if joints.ndim == 3 else 0, 2), dtype=np.int64)
    for m, person in enumerate(joints):
        slot = 0
        for k, (x, y, v) in enumerate(person):
            xi, yi = int(x), int(y)
            if v > 0 and 0 <= xi < output_size and 0 <= yi < output_size:
                encoded[m, slot] = (k * output_size * output_size + yi * output_size + xi, 1)
                slot += 1
    return encoded
