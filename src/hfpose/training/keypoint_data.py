# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Training and evaluation on any keypoint set: which set a recipe trains, where its images are, how it is scored.

A recipe trains on a COCO-format dataset (``dataset: coco``) named by ``train_ann_file`` / ``train_image_dir`` /
``val_ann_file`` / ``val_image_dir`` (absolute, or relative to ``data_root``). Its keypoint set is, in order:

1. ``keypoint_set``: ``"coco"``, ``"mpii"``, a keypoint-set file (YAML / JSON, see `hfpose.keypoints.KeypointSet`) or
   a COCO-format json;
2. the ``categories[].keypoints`` / ``skeleton`` of ``train_ann_file`` (flip pairs inferred from the names);
3. the dataset's own (COCO-17, MPII-16).

Evaluation: COCO OKS AP with the set's sigmas when it has them; otherwise (top-down) PCK@0.2 of the box size, AUC and
EPE (`hfpose.evaluation.pck`), and for bottom-up models OKS AP with `hfpose.keypoints.DEFAULT_OKS_SIGMA` and a
warning. Half-body augmentation uses COCO's / MPII's upper and lower body; for another set it is off. Bottom-up
grouping follows the set's ``grouping_order``, else ``range(K)`` (annotation order: list the most reliable keypoints
first in the set, as COCO's torso-first order does).
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..keypoints import (
    COCO_KEYPOINTS,
    MPII_KEYPOINTS,
    KeypointSet,
    load_keypoint_set,
)

__all__ = [
    "grouping_order_for",
    "half_body_ids",
    "materialize_hf_datasets",
    "recipe_keypoint_set",
    "resolve_data_path",
]

logger = logging.getLogger(__name__)


def resolve_data_path(recipe, path) -> Path | None:
    """``path`` as given when absolute or existing (made absolute), else relative to ``recipe.data_root``; None stays
    None."""
    if path is None:
        return None
    path = Path(path)
    if path.is_absolute() or path.exists():
        return path.resolve()
    return Path(recipe.data_root) / path


def recipe_keypoint_set(recipe) -> KeypointSet:
    """The keypoint set a recipe trains (see the module docstring for the order).

    Raises:
        ValueError / FileNotFoundError: from `hfpose.keypoints.load_keypoint_set` (names the file and the problem).
    """
    if getattr(recipe, "keypoint_set", None):
        spec = recipe.keypoint_set
        if str(spec).lower() not in ("coco", "mpii"):
            spec = resolve_data_path(recipe, spec)
        return load_keypoint_set(spec)
    if recipe.dataset == "mpii":
        return MPII_KEYPOINTS
    if recipe.train_ann_file:
        return KeypointSet.from_coco(resolve_data_path(recipe, recipe.train_ann_file))
    return COCO_KEYPOINTS


def half_body_ids(config) -> dict:
    """``upper_body_ids`` / ``lower_body_ids`` for `TopDownTrainTransform`: the defaults of COCO / MPII names (None),
    empty lists (half-body off) for another keypoint set."""
    names = tuple(config.id2label[index] for index in range(len(config.id2label)))
    if names in (COCO_KEYPOINTS.names, MPII_KEYPOINTS.names):
        return {}
    return {"upper_body_ids": [], "lower_body_ids": []}


def grouping_order_for(config, keypoint_set: KeypointSet | None = None) -> list[int]:
    """Bottom-up grouping order of a config's keypoints: ``keypoint_set.grouping_order`` when the set has one and its
    names are the config's (a keypoint-set file's ``grouping_order``), else COCO's torso-first order for COCO names,
    else ``range(K)``."""
    names = tuple(config.id2label[index] for index in range(len(config.id2label)))
    if keypoint_set is not None and keypoint_set.grouping_order is not None and tuple(keypoint_set.names) == names:
        return list(keypoint_set.grouping_order)
    if names == COCO_KEYPOINTS.names:
        return list(COCO_KEYPOINTS.grouping_order)
    return list(range(len(names)))


def materialize_hf_datasets(recipe, accelerator=None):
    """Export ``recipe.train_dataset`` / ``val_dataset`` (`datasets` keypoint datasets: a ``save_to_disk`` directory
    or an imagefolder with ``metadata.jsonl``, split ``train`` / ``validation``) to COCO format under
    ``<output_dir>/data/{train,val}`` and point ``train_ann_file`` / ``train_image_dir`` (``val_*``) at them, in
    place. The main process exports first; the others then reuse its files (same dataset fingerprint).

    Raises:
        FileNotFoundError / ValueError: from `hfpose.data.hf_datasets.load_keypoint_dataset` / `export_coco_format`.
    """
    import contextlib

    from ..data.hf_datasets import export_coco_format, load_keypoint_dataset

    for prefix, split in (("train", "train"), ("val", "validation")):
        source = getattr(recipe, f"{prefix}_dataset", None)
        if not source:
            continue
        first = accelerator.main_process_first() if accelerator is not None else contextlib.nullcontext()
        with first:
            dataset = load_keypoint_dataset(resolve_data_path(recipe, source), split=split)
            spec = recipe.keypoint_set
            if spec and str(spec).lower() not in ("coco", "mpii"):
                spec = resolve_data_path(recipe, spec)
            ann_file, image_dir = export_coco_format(dataset, Path(recipe.output_dir) / "data" / prefix, spec)
        setattr(recipe, f"{prefix}_ann_file", str(ann_file.resolve()))
        setattr(recipe, f"{prefix}_image_dir", str(image_dir.resolve()))
    return recipe
