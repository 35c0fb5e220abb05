# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""COCO person keypoints → `datasets.Dataset`, with MMPose's instance filtering and ground-truth box clipping.

Two views of one annotation file:

* ``mode="topdown"``: one row per person, as MMPose 1.x ``CocoDataset(data_mode="topdown")``: an annotation is kept
  iff ``iscrowd == 0``, it has at least one non-zero keypoint value, ``num_keypoints > 0`` and its box, clipped to
  ``[0, W-1] x [0, H-1]``, has positive width and height. Rows come in image order (the json's ``images`` order) and,
  within an image, in annotation order.
* ``mode="image"``: one row per image of the json (annotated or not), with *all* its annotations (crowd regions and
  people without keypoints included) in an ``annotations`` list; used by bottom-up training (ignore masks) and by
  evaluation.

Coordinates: boxes are COCO ``[x, y, w, h]`` in image pixels; ``bbox_xyxy`` is MMPose's clipped
``[x1, y1, x2, y2]`` (``x1 = clip(x, 0, W-1)``, ``x2 = clip(x + w, 0, W-1)``, ...); ``bbox_center`` / ``bbox_scale``
are the centre and the *unpadded* size ``(x2 - x1, y2 - y1)`` of that clipped box, in pixels (the transforms multiply
by the padding, 1.25, as MMPose's ``GetBBoxCenterScale``). Keypoints are ``(x, y, v)`` exactly as stored in the json
(``v`` in {0, 1, 2}; MMPose's ``keypoints_visible`` is ``min(1, v)``).

The image itself is stored as its path (``image_path``, a string) and decoded on the fly by
:func:`hfpose.data.transforms.load_image` (OpenCV, as MMPose), which keeps rows small and picklable and the pixels
identical to the reference; ``datasets.Image`` would decode with PIL.

Why ``Dataset.from_dict`` and not ``Dataset.from_generator``: the generator builder caches its arrow file under a
fingerprint of the generator and its arguments, not of the annotation file's content, so an edited json could silently
come back stale. The parsed columns are small (COCO train2017: ~150k people) and are built in memory instead.

Source: MMPose 1.x ``mmpose/datasets/datasets/base/base_coco_style_dataset.py`` (open-mmlab/mmpose@759b39c),
``parse_data_info`` and ``_is_valid_instance``; COCO format: https://cocodataset.org/#format-data.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np

from ..geometry import bbox_xyxy_to_center_scale, clip_bbox_xyxy

__all__ = [
    "load_coco_keypoints",
    "parse_coco_keypoints",
    "coco_topdown_features",
    "coco_image_features",
    "resolve_image_path",
]

_REQUIRED_IMAGE_KEYS = ("id", "file_name", "width", "height")
_REQUIRED_ANNOTATION_KEYS = ("id", "image_id", "bbox", "keypoints")


# --------------------------------------------------------------------------------------------------------- features
def coco_topdown_features(num_keypoints: int = 17):
    """`datasets.Features` of the top-down view (one row per person); see the module docstring for the units."""
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
            "area": Value("float32"),
            "iscrowd": Value("int32"),
        }
    )


def coco_image_features(num_keypoints: int = 17):
    """`datasets.Features` of the image view: one row per image, ``annotations`` is a list of per-person dicts.

    Each annotation holds ``ann_id``, ``bbox`` (raw xywh), ``bbox_xyxy`` (clipped), ``keypoints`` (K lists of
    ``(x, y, v)``), ``num_keypoints``, ``area``, ``iscrowd``, ``valid`` (MMPose's top-down validity test) and
    ``segmentation`` (the json value re-encoded as a JSON string: polygons or RLE; ``""`` when absent).
    """
    from datasets import Features, List, Value

    annotation = {
        "ann_id": Value("int64"),
        "bbox": List(Value("float32"), length=4),
        "bbox_xyxy": List(Value("float32"), length=4),
        "keypoints": List(List(Value("float32"), length=3), length=num_keypoints),
        "num_keypoints": Value("int32"),
        "area": Value("float32"),
        "iscrowd": Value("int32"),
        "valid": Value("bool"),
        "segmentation": Value("string"),
    }
    return Features(
        {
            "image_id": Value("int64"),
            "file_name": Value("string"),
            "image_path": Value("string"),
            "width": Value("int32"),
            "height": Value("int32"),
            "annotations": List(annotation),
        }
    )


# ------------------------------------------------------------------------------------------------------- validation
def resolve_image_path(image_root: str | os.PathLike, file_name, record: str) -> Path:
    """Join ``file_name`` to ``image_root`` refusing anything that could leave the root.

    Args:
        image_root: the image directory.
        file_name: a relative path from the annotation file.
        record: how to name the record in errors (e.g. ``"image id 42"``).

    Raises:
        ValueError: if ``file_name`` is not a non-empty string, is absolute (POSIX or Windows style, drive letters
            included), or has a ``..`` component. Symbolic links inside the root are followed as usual (datasets are
            often linked in), the check is on the name.
    """
    if not isinstance(file_name, str) or not file_name.strip():
        raise ValueError(f"{record}: file_name must be a non-empty string; got {file_name!r}")
    posix, windows = PurePosixPath(file_name), PureWindowsPath(file_name)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or file_name.startswith(("/", "\\")):
        raise ValueError(
            f"{record}: file_name {file_name!r} is an absolute path; it must be relative to the image root"
        )
    if ".." in posix.parts or ".." in windows.parts:
        raise ValueError(f"{record}: file_name {file_name!r} contains '..' and would escape the image root")
    if "\x00" in file_name:
        raise ValueError(f"{record}: file_name {file_name!r} contains a NUL character")
    return Path(image_root) / file_name


def _finite_numbers(value, length: int | None, what: str, record: str) -> np.ndarray:
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{record}: {what} must be a list of numbers; got {type(value).__name__}")
    if length is not None and len(value) != length:
        raise ValueError(f"{record}: {what} must have {length} values; got {len(value)}")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise ValueError(f"{record}: {what} must hold only numbers; got {value!r}")
    array = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{record}: {what} has a non-finite value: {value!r}")
    return array


def _check_int(value, what: str, record: str, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
        raise ValueError(f"{record}: {what} must be an integer; got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{record}: {what} must be >= {minimum}; got {value!r}")
    return int(value)


def _load_json(ann_file: Path) -> dict:
    if not ann_file.is_file():
        raise ValueError(f"annotation file {str(ann_file)!r} does not exist")
    try:
        with open(ann_file, encoding="utf-8") as handle:
            data = json.load(handle)
    except json.JSONDecodeError as error:
        raise ValueError(f"annotation file {str(ann_file)!r} is not valid JSON: {error}") from None
    if not isinstance(data, Mapping):
        raise ValueError(f"annotation file {str(ann_file)!r} must hold a JSON object with 'images' and 'annotations'")
    for key in ("images", "annotations"):
        if not isinstance(data.get(key), list):
            raise ValueError(f"annotation file {str(ann_file)!r} has no '{key}' list")
    return data


def _parse_image(image, index: int, image_root: Path, check_files: bool) -> dict:
    if not isinstance(image, Mapping):
        raise ValueError(f"images[{index}] must be a JSON object; got {type(image).__name__}")
    missing = [key for key in _REQUIRED_IMAGE_KEYS if key not in image]
    record = f"image id {image.get('id', '?')} (images[{index}])"
    if missing:
        raise ValueError(f"{record}: missing key(s) {missing}")
    image_id = _check_int(image["id"], "id", record)
    width = _check_int(image["width"], "width", record, minimum=1)
    height = _check_int(image["height"], "height", record, minimum=1)
    path = resolve_image_path(image_root, image["file_name"], record)
    return {
        "image_id": image_id,
        "file_name": image["file_name"],
        "image_path": str(path),
        "width": width,
        "height": height,
        "checked": not check_files,
    }


def _parse_annotation(ann, index: int, images: dict, num_keypoints: int) -> dict:
    if not isinstance(ann, Mapping):
        raise ValueError(f"annotations[{index}] must be a JSON object; got {type(ann).__name__}")
    record = f"annotation id {ann.get('id', '?')} (annotations[{index}])"
    missing = [key for key in _REQUIRED_ANNOTATION_KEYS if key not in ann]
    if missing:
        raise ValueError(f"{record}: missing key(s) {missing}")
    ann_id = _check_int(ann["id"], "id", record)
    image_id = _check_int(ann["image_id"], "image_id", record)
    if image_id not in images:
        raise ValueError(f"{record}: image_id {image_id} is not in the 'images' list")
    bbox = _finite_numbers(ann["bbox"], 4, "bbox", record)
    if bbox[2] < 0 or bbox[3] < 0:
        raise ValueError(f"{record}: bbox {ann['bbox']!r} has a negative width or height")
    keypoints = _finite_numbers(ann["keypoints"], None, "keypoints", record)
    if keypoints.size != 3 * num_keypoints:
        raise ValueError(
            f"{record}: keypoints has {keypoints.size} values; expected {3 * num_keypoints} "
            f"({num_keypoints} keypoints x (x, y, v))"
        )
    keypoints = keypoints.reshape(num_keypoints, 3)
    if np.any(keypoints[:, 2] < 0):
        raise ValueError(f"{record}: keypoints has a negative visibility flag")
    if "area" in ann:
        area = float(_finite_numbers([ann["area"]], 1, "area", record)[0])
        if area < 0:
            raise ValueError(f"{record}: area {ann['area']!r} is negative")
    else:
        area = float(bbox[2] * bbox[3])  # documented default: the box area
    iscrowd = _check_int(ann.get("iscrowd", 0), "iscrowd", record, minimum=0)
    if "num_keypoints" in ann:
        count = _check_int(ann["num_keypoints"], "num_keypoints", record, minimum=0)
    else:
        # MMPose's fallback: keypoints whose larger coordinate is non-zero.
        count = int(np.count_nonzero(keypoints[:, :2].max(axis=1)))
    segmentation = ann.get("segmentation")
    image = images[image_id]
    xyxy = np.array([bbox[0], bbox[1], bbox[0] + bbox[2], bbox[1] + bbox[3]], dtype=np.float64)
    xyxy = clip_bbox_xyxy(xyxy[None], (image["width"], image["height"]))[0].astype(np.float32)
    valid = (
        iscrowd == 0
        and float(np.max(keypoints)) != 0.0
        and count > 0
        and float(xyxy[2] - xyxy[0]) > 0
        and float(xyxy[3] - xyxy[1]) > 0
    )
    return {
        "ann_id": ann_id,
        "image_id": image_id,
        "bbox": bbox.astype(np.float32),
        "bbox_xyxy": xyxy,
        "keypoints": keypoints.astype(np.float32),
        "num_keypoints": count,
        "area": area,
        "iscrowd": iscrowd,
        "valid": bool(valid),
        "segmentation": "" if segmentation is None else json.dumps(segmentation),
    }


def _check_file(image: dict) -> None:
    if not image["checked"]:
        if not os.path.isfile(image["image_path"]):
            raise ValueError(
                f"image id {image['image_id']}: image file {image['file_name']!r} not found at {image['image_path']!r}"
            )
        image["checked"] = True


def parse_coco_keypoints(
    ann_file: str | os.PathLike,
    image_root: str | os.PathLike,
    num_keypoints: int = 17,
    check_files: bool = True,
) -> tuple[list[dict], dict[int, list[dict]]]:
    """Read and validate a COCO keypoint annotation file.

    Args:
        ann_file: the ``person_keypoints_*.json`` file.
        image_root: directory the ``file_name`` entries are relative to.
        num_keypoints: expected K; every annotation must hold ``3 * K`` keypoint values.
        check_files: verify that every image referenced by the returned view exists (done lazily by the callers).

    Returns:
        ``images`` (list of dicts in json order: ``image_id``, ``file_name``, ``image_path``, ``width``, ``height``) and
        ``annotations`` per image id (lists in json order; fields as in :func:`coco_image_features`, numpy arrays).

    Raises:
        ValueError: naming the record (annotation id / image id / file name) for a missing key, a keypoint count other
            than K, a non-finite or negative-size box, a negative area or visibility flag, an unknown or duplicated
            image id, a duplicated annotation id, a ``file_name`` that is absolute or contains ``..``, or an
            unreadable/invalid json file.
    """
    if not isinstance(num_keypoints, int) or num_keypoints <= 0:
        raise ValueError(f"num_keypoints must be a positive integer; got {num_keypoints!r}")
    data = _load_json(Path(ann_file))
    image_root = Path(image_root)
    images: dict[int, dict] = {}
    for index, raw in enumerate(data["images"]):
        image = _parse_image(raw, index, image_root, check_files)
        if image["image_id"] in images:
            raise ValueError(f"image id {image['image_id']} (images[{index}]) appears more than once")
        images[image["image_id"]] = image
    per_image: dict[int, list[dict]] = {image_id: [] for image_id in images}
    seen: set[int] = set()
    for index, raw in enumerate(data["annotations"]):
        ann = _parse_annotation(raw, index, images, num_keypoints)
        if ann["ann_id"] in seen:
            raise ValueError(f"annotation id {ann['ann_id']} (annotations[{index}]) appears more than once")
        seen.add(ann["ann_id"])
        per_image[ann["image_id"]].append(ann)
    return list(images.values()), per_image


def _default_paths(root: Path, split: str, ann_file, image_dir) -> tuple[Path, Path]:
    if ann_file is None:
        ann_file = root / "annotations" / f"person_keypoints_{split}.json"
    else:
        ann_file = Path(ann_file)
        if not ann_file.is_absolute():
            ann_file = root / ann_file
    if image_dir is None:
        image_root = root / split
    else:
        image_root = Path(image_dir)
        if not image_root.is_absolute():
            image_root = root / image_root
    return ann_file, image_root


def load_coco_keypoints(
    root: str | os.PathLike,
    split: str = "val2017",
    mode: str = "topdown",
    ann_file: str | os.PathLike | None = None,
    num_keypoints: int = 17,
    image_dir: str | os.PathLike | None = None,
    check_files: bool = True,
):
    """Load COCO person keypoints as a `datasets.Dataset`.

    Args:
        root: dataset root holding ``annotations/person_keypoints_<split>.json`` and ``<split>/`` images.
        split: ``"train2017"``, ``"val2017"``, ...
        mode: ``"topdown"`` (one row per valid person; MMPose's filtering) or ``"image"`` (one row per image, all
            annotations). ``"bottomup"`` is accepted as an alias of ``"image"``.
        ann_file: annotation json (absolute, or relative to ``root``); default as above.
        num_keypoints: expected K (17 for COCO).
        image_dir: image directory (absolute, or relative to ``root``); default ``<root>/<split>``.
        check_files: raise if an image file of the view is missing (one ``stat`` per image).

    Returns:
        `datasets.Dataset` with :func:`coco_topdown_features` or :func:`coco_image_features`.

    Raises:
        ValueError: bad ``mode``; any malformed record (see :func:`parse_coco_keypoints`); a missing image file
            (names the image id and file name).
    """
    from datasets import Dataset

    if mode == "bottomup":
        mode = "image"
    if mode not in ("topdown", "image"):
        raise ValueError(f"mode must be 'topdown' or 'image'; got {mode!r}")
    ann_path, image_root = _default_paths(Path(root), split, ann_file, image_dir)
    images, per_image = parse_coco_keypoints(ann_path, image_root, num_keypoints, check_files)

    if mode == "topdown":
        columns: dict[str, list] = {name: [] for name in coco_topdown_features(num_keypoints)}
        for image in images:
            for ann in per_image[image["image_id"]]:
                if not ann["valid"]:
                    continue
                _check_file(image)
                center, scale = bbox_xyxy_to_center_scale(ann["bbox_xyxy"][None], padding=1.0)
                row = {
                    "image_id": image["image_id"],
                    "ann_id": ann["ann_id"],
                    "file_name": image["file_name"],
                    "image_path": image["image_path"],
                    "width": image["width"],
                    "height": image["height"],
                    "bbox": ann["bbox"],
                    "bbox_xyxy": ann["bbox_xyxy"],
                    "bbox_center": center[0],
                    "bbox_scale": scale[0],
                    "keypoints": ann["keypoints"],
                    "num_keypoints": ann["num_keypoints"],
                    "area": ann["area"],
                    "iscrowd": ann["iscrowd"],
                }
                for key, value in row.items():
                    columns[key].append(value)
        return Dataset.from_dict(columns, features=coco_topdown_features(num_keypoints))

    columns = {name: [] for name in coco_image_features(num_keypoints)}
    for image in images:
        _check_file(image)
        annotations = [
            {
                key: (value.tolist() if isinstance(value, np.ndarray) else value)
                for key, value in ann.items()
                if key != "image_id"
            }
            for ann in per_image[image["image_id"]]
        ]
        for key in ("image_id", "file_name", "image_path", "width", "height"):
            columns[key].append(image[key])
        columns["annotations"].append(annotations)
    return Dataset.from_dict(columns, features=coco_image_features(num_keypoints))
