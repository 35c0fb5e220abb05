# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Keypoint datasets in the Hugging Face layout (`datasets.Dataset`) as training and evaluation input.

Schema (the layout of the transformers object-detection fine-tuning guides, with keypoints added), one row per image:

* ``image``: `datasets.Image` (a file path or encoded bytes);
* ``objects``: the image's people, either a dict of per-person lists (``{"bbox": [...], "keypoints": [...]}``, as
  the detection guides) or a list of per-person dicts, with
    * ``bbox``: COCO ``[x, y, w, h]`` in image pixels;
    * ``keypoints``: K x 3 ``(x, y, visibility)`` in image pixels (visibility 0 = not labelled, 1 = labelled but
      occluded, 2 = visible, as COCO); a flat list of 3K numbers is accepted too;
    * optional ``iscrowd`` (0/1), ``area`` (px²) and ``id``;
* optional ``image_id`` (int; default: the row index).

Both ``load_dataset("imagefolder", data_dir=...)`` with a ``metadata.jsonl`` (``{"file_name": ..., "objects": {...}}``
per line) and a local Arrow dataset (``save_to_disk`` / ``load_from_disk``) give this layout (`load_keypoint_dataset`).

`export_coco_format` writes such a dataset as a COCO-format annotation json plus an image directory (links to the
original files where they exist, else the encoded bytes), so that the training transforms, MMPose's instance filter
and the COCO / PCK evaluation run unchanged on it; the keypoint set (names, flip pairs, skeleton, sigmas) goes into
the json's ``categories`` entry.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
from pathlib import Path

import numpy as np

__all__ = ["export_coco_format", "keypoint_dataset_features", "load_keypoint_dataset"]

logger = logging.getLogger(__name__)


def keypoint_dataset_features(num_keypoints: int):
    """`datasets.Features` of the schema above (``objects`` as a dict of per-person lists)."""
    from datasets import Features, Image, List, Value

    return Features(
        {
            "image_id": Value("int64"),
            "image": Image(),
            "objects": {
                "bbox": List(List(Value("float32"), length=4)),
                "keypoints": List(List(List(Value("float32"), length=3), length=num_keypoints)),
            },
        }
    )


def load_keypoint_dataset(path: str | os.PathLike, split: str = "train"):
    """A keypoint `datasets.Dataset` from a ``save_to_disk`` directory or an imagefolder with ``metadata.jsonl``.

    Raises:
        FileNotFoundError: if ``path`` is not a directory.
        ValueError: if the dataset has no ``image`` / ``objects`` column, or a `DatasetDict` lacks ``split``.
    """
    import datasets

    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"keypoint dataset directory not found: {path}")
    if (path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file():
        dataset = datasets.load_from_disk(str(path))
    else:
        dataset = datasets.load_dataset("imagefolder", data_dir=str(path))
    if isinstance(dataset, datasets.DatasetDict):
        if split not in dataset and len(dataset) == 1:
            split = next(iter(dataset))  # a folder with one split is that split, whatever its name
        if split not in dataset:
            raise ValueError(f"{path}: no split {split!r}; it has {sorted(dataset)}")
        dataset = dataset[split]
    missing = [name for name in ("image", "objects") if name not in dataset.column_names]
    if missing:
        raise ValueError(f"{path}: a keypoint dataset needs the columns 'image' and 'objects'; missing {missing}")
    return dataset


def _people(objects, record: str) -> list[dict]:
    if isinstance(objects, dict):
        keys = list(objects)
        count = len(objects.get("bbox") or [])
        return [{key: objects[key][index] for key in keys} for index in range(count)]
    if isinstance(objects, list):
        return list(objects)
    raise ValueError(
        f"{record}: 'objects' must be a dict of per-person lists or a list of dicts, got {type(objects).__name__}"
    )


def _image_file(image: dict, index: int, image_dir: Path) -> tuple[str, int, int]:
    """Place row ``index``'s image in ``image_dir``; returns (file name, width, height)."""
    from PIL import Image

    source = image.get("path")
    data = image.get("bytes")
    if data is None and source and Path(source).is_file():
        suffix = Path(source).suffix or ".jpg"
        name = f"{index:08d}{suffix}"
        target = image_dir / name
        if not target.exists():
            os.symlink(Path(source).resolve(), target)
    elif data is not None:
        with Image.open(io.BytesIO(data)) as decoded:
            suffix = "." + (decoded.format or "png").lower().replace("jpeg", "jpg")
        name = f"{index:08d}{suffix}"
        (image_dir / name).write_bytes(data)
    else:
        raise ValueError(f"row {index}: the image has neither bytes nor an existing file path ({source!r})")
    with Image.open(image_dir / name) as opened:
        width, height = opened.size
    return name, int(width), int(height)


def export_coco_format(dataset, out_dir: str | os.PathLike, keypoint_set=None) -> tuple[Path, Path]:
    """Write a keypoint `datasets.Dataset` as ``<out_dir>/annotations.json`` (COCO format) and ``<out_dir>/images``.

    Args:
        dataset: a `datasets.Dataset` in the schema of this module.
        out_dir: output directory; an export whose ``fingerprint`` file matches the dataset's is reused.
        keypoint_set: a `hfpose.keypoints.KeypointSet` or anything `load_keypoint_set` reads; default: COCO's when
            K = 17, else K generic names ``keypoint_i`` (no flip pairs: a warning says so).

    Returns:
        ``(annotation file, image directory)``.

    Raises:
        ValueError: a person whose ``keypoints`` are not K x 3 or whose ``bbox`` is not 4 numbers (names the row and
            person), K different from the keypoint set's, or an image without bytes or file.
    """
    from datasets import Image

    from ..keypoints import COCO_KEYPOINTS, KeypointSet, load_keypoint_set

    out_dir = Path(out_dir)
    ann_file, image_dir = out_dir / "annotations.json", out_dir / "images"
    fingerprint = hashlib.sha256(f"{getattr(dataset, '_fingerprint', '')}|{keypoint_set!r}".encode()).hexdigest()
    if (
        ann_file.is_file()
        and (out_dir / "fingerprint").is_file()
        and (out_dir / "fingerprint").read_text() == fingerprint
        and getattr(dataset, "_fingerprint", None)
    ):
        return ann_file, image_dir
    image_dir.mkdir(parents=True, exist_ok=True)
    raw = dataset.cast_column("image", Image(decode=False))
    images, annotations = [], []
    num_keypoints = None
    for index, row in enumerate(raw):
        image_id = int(row.get("image_id", index) if row.get("image_id") is not None else index)
        name, width, height = _image_file(row["image"], index, image_dir)
        images.append({"id": image_id, "file_name": name, "width": width, "height": height})
        for person_index, person in enumerate(_people(row["objects"], f"row {index}")):
            record = f"row {index}, person {person_index}"
            keypoints = np.asarray(person.get("keypoints"), dtype=np.float64).reshape(-1)
            if keypoints.size == 0 or keypoints.size % 3:
                raise ValueError(f"{record}: keypoints must be K x 3 (x, y, visibility); got {keypoints.size} values")
            if num_keypoints is None:
                num_keypoints = keypoints.size // 3
            if keypoints.size != 3 * num_keypoints:
                raise ValueError(f"{record}: {keypoints.size // 3} keypoints, but earlier people have {num_keypoints}")
            bbox = np.asarray(person.get("bbox"), dtype=np.float64).reshape(-1)
            if bbox.size != 4 or not np.isfinite(bbox).all():
                raise ValueError(f"{record}: bbox must be COCO [x, y, w, h] in image pixels; got {person.get('bbox')}")
            annotations.append(
                {
                    "id": int(person.get("id") or len(annotations) + 1),
                    "image_id": image_id,
                    "category_id": 1,
                    "bbox": bbox.tolist(),
                    "keypoints": keypoints.tolist(),
                    "num_keypoints": int((keypoints[2::3] > 0).sum()),
                    "iscrowd": int(person.get("iscrowd") or 0),
                    "area": float(person.get("area") or bbox[2] * bbox[3]),
                }
            )
    if keypoint_set is not None:
        keypoint_set = load_keypoint_set(keypoint_set)
    elif num_keypoints in (None, 17):
        keypoint_set = COCO_KEYPOINTS
    else:
        logger.warning(
            "keypoint dataset with %d keypoints and no keypoint set: generic names and no flip pairs "
            "(give keypoint_set for left/right keypoints)",
            num_keypoints,
        )
        keypoint_set = KeypointSet(name="custom", names=tuple(f"keypoint_{i}" for i in range(num_keypoints)))
    if num_keypoints is not None and num_keypoints != keypoint_set.num_keypoints:
        raise ValueError(
            f"the dataset has {num_keypoints} keypoints per person but keypoint set "
            f"{keypoint_set.name!r} has {keypoint_set.num_keypoints}"
        )
    category = {
        "id": 1,
        "name": keypoint_set.name,
        "supercategory": keypoint_set.name,
        "keypoints": list(keypoint_set.names),
        "skeleton": [[a + 1, b + 1] for a, b in keypoint_set.skeleton],
    }
    if keypoint_set.sigmas is not None:
        category["sigmas"] = list(keypoint_set.sigmas)
    if keypoint_set.flip_pairs:
        category["flip_pairs"] = [list(pair) for pair in keypoint_set.flip_pairs]
    ann_file.write_text(json.dumps({"images": images, "annotations": annotations, "categories": [category]}))
    (out_dir / "fingerprint").write_text(fingerprint)
    return ann_file, image_dir
