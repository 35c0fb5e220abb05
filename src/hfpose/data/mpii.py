# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""MPII Human Pose in MMPose's json layout → `datasets.Dataset` (one row per person), with PCKh head sizes.

MMPose's MPII json is a list of people: ``{"image": "005808361.jpg", "joints": [[x, y] * 16], "joints_vis": [v * 16],
"center": [x, y], "scale": s}``, where ``center`` is in MATLAB (1-based) pixels and ``scale`` is the person height in
units of 200 px (the MMPose 0.x ``pixel_std``). MMPose 1.x ``MpiiDataset`` turns this into a box as follows, and so do
we:

* ``bbox_scale = (s, s) * 200`` (square, pixels);
* ``bbox_center = center + (0, 15 * s)`` (moved down by 15 / 200 of the box "to avoid cropping limbs"), then
  ``- 1`` on both coordinates (MATLAB → 0-based);
* ``bbox_xyxy = bbox_center -/+ bbox_scale / 2``.

The top-down transforms then multiply ``bbox_scale`` by their padding (1.25, ``GetBBoxCenterScale`` applies the padding
to existing centre/scale) and fix the aspect ratio, so an MPII crop spans ``1.25 * 200 * s`` px. The joints are kept
**as stored** (MMPose 1.x does not subtract 1 from them, unlike 0.x; its PCKh metric adds 1 to predictions instead).

Head sizes (PCKh normalisation, ``head_size = 0.6 * ||corner_2 - corner_1||`` of the head box, MMPose's ``SC_BIAS``):
from the official ``mpii_gt_val.mat`` (``headboxes_src``, shape ``(2, 2, N)``) when ``headbox_file`` is given,
otherwise from a synthetic head box, the rule of the golden fixture ``metrics/pckh.npz``: an axis-aligned square of side
``L = ||head_top - upper_neck||`` (joints 9 and 8) centred on their midpoint, so ``head_size = 0.6 * sqrt(2) * L``.

Source: MMPose 1.x ``mmpose/datasets/datasets/body/mpii_dataset.py`` (open-mmlab/mmpose@759b39c); Andriluka et al.,
"2D Human Pose Estimation: New Benchmark and State of the Art Analysis", CVPR 2014 (PCKh).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..geometry import bbox_xyxy_to_xywh
from .coco import resolve_image_path
from .head_boxes import head_sizes_from_headboxes, load_mpii_headboxes, synthetic_head_boxes

__all__ = ["load_mpii", "mpii_features"]

NUM_MPII_KEYPOINTS = 16
PIXEL_STD = 200.0
_UPPER_NECK, _HEAD_TOP = 8, 9


def mpii_features(num_keypoints: int = NUM_MPII_KEYPOINTS):
    """`datasets.Features` of the MPII view; top-down columns as :func:`hfpose.data.coco.coco_topdown_features` plus
    ``head_size`` (px) and ``headbox`` (``[[x1, y1], [x2, y2]]``, px)."""
    from datasets import Array2D, Features, List, Value

    return Features(
        {
            "image_id": Value("int64"),
            "ann_id": Value("int64"),
            "file_name": Value("string"),
            "image_path": Value("string"),
            "width": Value("int32"),
            "height": Value("int32"),
            "bbox": List(Value("float32"), length=4),
            "bbox_xyxy": List(Value("float32"), length=4),
            "bbox_center": List(Value("float32"), length=2),
            "bbox_scale": List(Value("float32"), length=2),
            "keypoints": Array2D(shape=(num_keypoints, 3), dtype="float32"),
            "num_keypoints": Value("int32"),
            "head_size": Value("float64"),
            "headbox": Array2D(shape=(2, 2), dtype="float64"),
        }
    )


def _parse_person(ann, index: int, num_keypoints: int) -> dict:
    record = f"MPII annotation {index}"
    if not isinstance(ann, Mapping):
        raise ValueError(f"{record} must be a JSON object; got {type(ann).__name__}")
    missing = [key for key in ("image", "joints", "joints_vis", "center", "scale") if key not in ann]
    if missing:
        raise ValueError(f"{record} (image {ann.get('image', '?')!r}): missing key(s) {missing}")
    record = f"MPII annotation {index} (image {ann['image']!r})"
    try:
        joints = np.asarray(ann["joints"], dtype=np.float64)
        visible = np.asarray(ann["joints_vis"], dtype=np.float64)
        center = np.asarray(ann["center"], dtype=np.float64)
        scale = float(ann["scale"])
    except (TypeError, ValueError):
        raise ValueError(f"{record}: joints, joints_vis, center and scale must be numbers") from None
    if joints.shape != (num_keypoints, 2):
        raise ValueError(f"{record}: joints must have shape ({num_keypoints}, 2); got {joints.shape}")
    if visible.shape != (num_keypoints,):
        raise ValueError(f"{record}: joints_vis must have {num_keypoints} values; got shape {visible.shape}")
    if center.shape != (2,):
        raise ValueError(f"{record}: center must be [x, y]; got shape {center.shape}")
    for name, value in (("joints", joints), ("joints_vis", visible), ("center", center), ("scale", np.array(scale))):
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{record}: {name} has a non-finite value")
    if scale <= 0:
        raise ValueError(f"{record}: scale must be positive; got {scale}")
    stem = Path(str(ann["image"])).stem
    if not stem.isdigit():
        raise ValueError(f"{record}: image name must be '<digits>.jpg' (MMPose takes the image id from it)")
    return {
        "image": ann["image"],
        "image_id": int(stem),
        "joints": joints,
        "visible": visible,
        "center": center,
        "scale": scale,
    }


def load_mpii(
    root: str | os.PathLike,
    split: str = "val",
    ann_file: str | os.PathLike | None = None,
    headbox_file: str | os.PathLike | None = None,
    image_dir: str | os.PathLike = "images",
    check_files: bool = True,
):
    """Load an MPII annotation json (MMPose layout) as a `datasets.Dataset`, one row per person.

    Args:
        root: dataset root.
        split: used for the default ``ann_file`` ``<root>/annotations/mpii_<split>.json``.
        ann_file: annotation json (absolute, or relative to ``root``), e.g. ``annotations/mpii_sample.json``.
        headbox_file: ``mpii_gt_val.mat`` with the official head boxes (absolute or relative to ``root``); ``None``
            uses the synthetic head boxes (see the module docstring). Both via :mod:`hfpose.evaluation.pckh`.
        image_dir: image directory (absolute, or relative to ``root``).
        check_files: raise if an image file is missing. Image ``width``/``height`` are read from the file header
            (PIL, no decoding); they are ``-1`` when ``check_files=False``.

    Returns:
        `datasets.Dataset` with :func:`mpii_features`: ``bbox_center``/``bbox_scale`` in px (unpadded; see the module
        docstring), ``keypoints`` ``(16, 3)`` = joints as stored + ``joints_vis``, ``ann_id`` = index in the json,
        ``image_id`` = the digits of the image name (as MMPose).

    Raises:
        ValueError: naming the record for missing keys, wrong joint counts, non-finite values, non-positive scale, an
            unsafe image name (absolute or ``..``), a missing image file, or a head-box file whose count differs
            or that has no ``(2, 2, N)`` ``headboxes_src``.
        FileNotFoundError: if ``headbox_file`` does not exist.
    """
    from datasets import Dataset

    root = Path(root)
    ann_path = root / "annotations" / f"mpii_{split}.json" if ann_file is None else Path(ann_file)
    if not ann_path.is_absolute():
        ann_path = root / ann_path
    image_root = Path(image_dir)
    if not image_root.is_absolute():
        image_root = root / image_root
    if not ann_path.is_file():
        raise ValueError(f"annotation file {str(ann_path)!r} does not exist")
    try:
        with open(ann_path, encoding="utf-8") as handle:
            anns = json.load(handle)
    except json.JSONDecodeError as error:
        raise ValueError(f"annotation file {str(ann_path)!r} is not valid JSON: {error}") from None
    if not isinstance(anns, list):
        raise ValueError(f"annotation file {str(ann_path)!r} must hold a JSON list of people (MMPose MPII layout)")
    people = [_parse_person(ann, index, NUM_MPII_KEYPOINTS) for index, ann in enumerate(anns)]

    if headbox_file is not None:
        headbox_path = Path(headbox_file)
        if not headbox_path.is_absolute():
            headbox_path = root / headbox_path
        headboxes = load_mpii_headboxes(headbox_path)
        if len(headboxes) != len(people):
            raise ValueError(
                f"headbox_file {str(headbox_path)!r} has {len(headboxes)} head boxes for {len(people)} annotations"
            )
    elif people:
        joints = np.stack([person["joints"] for person in people])
        headboxes = synthetic_head_boxes(joints[:, _HEAD_TOP], joints[:, _UPPER_NECK])
    else:
        headboxes = np.zeros((0, 2, 2))
    head_sizes = head_sizes_from_headboxes(headboxes) if people else np.zeros(0)

    sizes: dict[str, tuple[int, int]] = {}
    columns: dict[str, list] = {name: [] for name in mpii_features()}
    for index, person in enumerate(people):
        record = f"MPII annotation {index} (image {person['image']!r})"
        path = resolve_image_path(image_root, person["image"], record)
        if person["image"] not in sizes:
            sizes[person["image"]] = _image_size(path, record) if check_files else (-1, -1)
        width, height = sizes[person["image"]]
        # MMPose 1.x MpiiDataset: scale x 200 px, centre moved down by 15 / 200 of the box, then 1-based -> 0-based.
        scale = np.array([person["scale"], person["scale"]], dtype=np.float32) * np.float32(PIXEL_STD)
        center = person["center"].astype(np.float32)
        if center[0] != -1:
            center[1] = center[1] + np.float32(15.0 / PIXEL_STD) * scale[1]
        center = center - np.float32(1)
        xyxy = np.concatenate([center - scale * np.float32(0.5), center + scale * np.float32(0.5)]).astype(np.float32)
        keypoints = np.concatenate([person["joints"], person["visible"][:, None]], axis=1).astype(np.float32)
        row = {
            "image_id": person["image_id"],
            "ann_id": index,
            "file_name": person["image"],
            "image_path": str(path),
            "width": width,
            "height": height,
            "bbox": bbox_xyxy_to_xywh(xyxy[None])[0],
            "bbox_xyxy": xyxy,
            "bbox_center": center,
            "bbox_scale": scale,
            "keypoints": keypoints,
            "num_keypoints": int(np.count_nonzero(person["visible"] > 0)),
            "head_size": float(head_sizes[index]),
            "headbox": headboxes[index],
        }
        for key, value in row.items():
            columns[key].append(value)
    return Dataset.from_dict(columns, features=mpii_features())


def _image_size(path: Path, record: str) -> tuple[int, int]:
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise ValueError(f"{record}: image file {path.name!r} not found at {str(path)!r}")
    try:
        with Image.open(path) as image:
            return int(image.width), int(image.height)
    except (UnidentifiedImageError, OSError) as error:
        raise ValueError(f"{record}: image file {str(path)!r} cannot be read: {error}") from None
