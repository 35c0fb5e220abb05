# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""COCO keypoint evaluation (OKS AP/AR) with MMPose ``CocoMetric``'s instance rescoring and OKS-NMS.

Glossary:
    P: number of predicted person instances. K: number of keypoints (17 for COCO).
    keypoints: ``(x, y)`` in image pixels, pixel centres at integer coordinates.
    bbox_score: the instance score from the detector (top-down) or the grouping (bottom-up).
    area: the area used by OKS-NMS; MMPose's top-down pipeline uses ``prod(bbox_scale)`` (the x1.25-padded,
        aspect-fixed box in image pixels). COCOeval itself always uses the ground-truth areas.

Pipeline of :meth:`CocoKeypointEvaluator.compute` (reference: MMPose 1.x
``mmpose/evaluation/metrics/coco_metric.py::CocoMetric.compute_metrics``, open-mmlab/mmpose@759b39c):

1. group the predictions by image; within an image, sort by instance ``id`` and drop repeated ids (predictions
   gathered from several processes can repeat a sample);
2. rescore each instance (float32, as MMPose):
   * ``"bbox_keypoint"``: ``bbox_score * mean(keypoint scores > keypoint_score_thr)`` (strict ``>``); when no
     keypoint score passes the threshold the mean is 0, so the score is 0 (MMPose);
   * ``"bbox_rle"``: ``bbox_score + mean(keypoint scores) + max(keypoint scores)`` (RLE configs);
   * ``"bbox"``: ``bbox_score`` (bottom-up associative embedding);
3. greedy OKS-NMS per image (``nms_mode="oks_nms"``, threshold ``nms_thr``, all K keypoints, ``area``);
4. write COCO results (``keypoints`` flat ``[x, y, score] * K``, ``category_id`` 1, ``score``, and ``bbox``
   ``[x, y, w, h]`` when the predictions carry their person box, as MMPose 1.3 does for top-down models) and run
   ``pycocotools.cocoeval.COCOeval(iouType="keypoints")`` over all images of the annotation file. With a ``bbox``,
   pycocotools' ``loadRes`` takes each detection's area from the box rather than from the keypoints' extent; that
   area decides which unmatched detections are ignored in the AP (M) / AP (L) ranges.

MMPose evaluates with xtcocotools (``xtcocotools.cocoeval.COCOeval(..., "keypoints", sigmas, use_area)``), not
pycocotools. The two differ, and step 4 applies xtcocotools' rules on top of pycocotools' evaluation:

* a result whose keypoint scores are all ``<= 0`` is left out of the evaluation (it is still written to the results
  json); pycocotools keeps it as a detection, so e.g. two people without keypoints become tied false positives and
  the ground truth itself as predictions scores AP 0.894 instead of 1.0 with ``score_mode="bbox"``;
* a ground-truth person is ignored when none of its keypoints has visibility ``> 0``, counted from its
  ``keypoints`` (pycocotools trusts the annotation's ``num_keypoints`` field);
* ground-truth annotation ids are renumbered 1..N for the evaluation: pycocotools marks a detection matched to an
  annotation with id 0 as unmatched (xtcocotools uses -1 for "unmatched"); annotations without ``iscrowd`` are not
  crowd (xtcocotools' default);
* ``use_area=False`` replaces each ground truth's ``area`` by ``0.53 * w * h`` of its box both in the OKS and in the
  AP (M) / AP (L) ranges; so does a ground truth without ``area``.

Everything else (matching, accumulation, the ten stats) is the same code in both. ``tests/evaluation/test_coco.py``
checks the numbers against xtcocotools itself (a dev-only dependency).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import warnings
from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from ..keypoints import COCO_KEYPOINTS
from .nms import oks_nms

__all__ = [
    "COCO_STAT_NAMES",
    "CocoKeypointEvaluator",
    "format_markdown_table",
    "format_stats_table",
    "gt_boxes",
    "load_detection_boxes",
    "rescore_instances",
]

COCO_STAT_NAMES = ("AP", "AP .5", "AP .75", "AP (M)", "AP (L)", "AR", "AR .5", "AR .75", "AR (M)", "AR (L)")
SCORE_MODES = ("bbox_keypoint", "bbox_rle", "bbox")
NMS_MODES = ("oks_nms", "none")


def _to_numpy(value: Any) -> np.ndarray:
    """Convert lists, numpy arrays and (possibly CUDA) torch tensors to numpy without importing torch."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _load_json(path: str | PathLike, what: str) -> Any:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")
    with open(path) as handle:
        return json.load(handle)


def rescore_instances(
    keypoint_scores: np.ndarray, bbox_scores: np.ndarray, score_mode: str = "bbox_keypoint", keypoint_score_thr=0.2
) -> np.ndarray:
    """Instance scores as MMPose ``CocoMetric`` computes them before NMS.

    Args:
        keypoint_scores: ``(P, K)`` keypoint scores (cast to float32 as MMPose's).
        bbox_scores: ``(P,)`` instance scores (cast to float32).
        score_mode: ``"bbox_keypoint"``, ``"bbox_rle"`` or ``"bbox"`` (see the module docstring).
        keypoint_score_thr: threshold of ``"bbox_keypoint"`` (strict ``>``).

    Returns:
        ``(P,)`` float32 (``bbox_keypoint``, ``bbox``) or float64 (``bbox_rle``, which MMPose converts with
        ``float()``) scores. ``bbox_keypoint`` accumulates the passing keypoint scores one by one in float32, then
        divides by their count in float32, exactly as MMPose's loop.

    Raises:
        ValueError: on an unknown ``score_mode`` or mismatched shapes.
    """
    if score_mode not in SCORE_MODES:
        raise ValueError(f"score_mode must be one of {SCORE_MODES}; got {score_mode!r}")
    keypoint_scores = np.asarray(keypoint_scores, dtype=np.float32)
    bbox_scores = np.asarray(bbox_scores, dtype=np.float32)
    if keypoint_scores.ndim != 2 or bbox_scores.shape != keypoint_scores.shape[:1]:
        raise ValueError(
            f"keypoint_scores must be (P, K) and bbox_scores (P,); got {keypoint_scores.shape} and {bbox_scores.shape}"
        )
    if score_mode == "bbox":
        return bbox_scores.copy()
    if keypoint_scores.shape[1] == 0:
        raise ValueError("keypoint_scores has no keypoints")
    if score_mode == "bbox_rle":
        # float32 sum of three float32 terms, then float() in MMPose.
        return (bbox_scores + keypoint_scores.mean(axis=1) + keypoint_scores.max(axis=1)).astype(np.float64)
    passing = keypoint_scores > keypoint_score_thr
    # add.accumulate is sequential, like MMPose's python loop; adding 0.0 for failing keypoints is exact.
    total = np.cumsum(np.where(passing, keypoint_scores, np.float32(0.0)), axis=1, dtype=np.float32)[:, -1]
    count = passing.sum(axis=1)
    mean = np.where(count > 0, total / np.maximum(count, 1).astype(np.float32), np.float32(0.0))
    return (bbox_scores * mean.astype(np.float32)).astype(np.float32)


class CocoKeypointEvaluator:
    """Accumulate person keypoint predictions and compute COCO OKS AP/AR the way MMPose ``CocoMetric`` does.

    Args:
        ann_file: COCO person-keypoints annotation json (e.g. ``person_keypoints_val2017.json``).
        score_mode: ``"bbox_keypoint"`` (top-down default), ``"bbox_rle"`` (RLE configs) or ``"bbox"`` (bottom-up).
        nms_mode: ``"oks_nms"`` (top-down default) or ``"none"`` (bottom-up).
        nms_thr: OKS threshold of the NMS; a prediction with OKS ``> nms_thr`` to a kept one is dropped.
        keypoint_score_thr: keypoint-score threshold of ``"bbox_keypoint"`` rescoring (strict ``>``).
        sigmas: ``(K,)`` OKS sigmas for NMS and COCOeval; COCO's (``hfpose.keypoints``) when None, in which case
            COCOeval keeps pycocotools' own COCO constants.
        use_area: COCOeval normalizes by the ground-truth ``area`` (True, COCO and MMPose default) or, as
            xtcocotools with ``use_area=False``, by ``0.53 * bbox_w * bbox_h`` of the ground truth (which then also
            decides the AP (M) / AP (L) range of each ground truth).

    Prediction records (``add``) are dicts with
        ``image_id`` (int, must be in ``ann_file``), ``keypoints`` ``(K, 2)`` image px, ``keypoint_scores`` ``(K,)``,
        ``bbox_score`` (float), optional ``id`` (int, instance id; records of one image sharing an id are kept once)
        optional ``area`` (float; default ``(max x - min x) * (max y - min y)`` of the keypoints, as MMPose
        when no bbox scale is available) and optional ``bbox`` (COCO ``[x, y, w, h]`` image px: the person box the
        prediction was made from). MMPose (1.3.x) writes ``bbox`` into the results json when the predictions carry
        boxes (every top-down model); pycocotools' ``loadRes`` then takes the detection's area from that box instead
        of from the keypoints' extent, which changes which unmatched detections count in the AP (M) / AP (L)
        ranges. Give ``bbox`` for top-down results to reproduce MMPose's numbers; leave it out (all records) to get
        the keypoint-extent areas of a plain COCO results file. Values can be python numbers, lists, numpy
        arrays or torch tensors, so the lists returned by ``accelerate``'s
        ``gather_for_metrics(..., use_gather_object=True)`` can be added directly.

    Raises:
        ValueError: on an unknown mode, wrong-length sigmas, or (from ``add``) a bad record: unknown ``image_id``,
            wrong K, non-finite values or a missing key; the message names the record.
    """

    def __init__(
        self,
        ann_file: str | PathLike,
        score_mode: str = "bbox_keypoint",
        nms_mode: str = "oks_nms",
        nms_thr: float = 0.9,
        keypoint_score_thr: float = 0.2,
        sigmas=None,
        use_area: bool = True,
    ):
        if score_mode not in SCORE_MODES:
            raise ValueError(f"score_mode must be one of {SCORE_MODES}; got {score_mode!r}")
        if nms_mode not in NMS_MODES:
            raise ValueError(f"nms_mode must be one of {NMS_MODES}; got {nms_mode!r}")
        if not 0.0 <= float(nms_thr) <= 1.0:
            raise ValueError(f"nms_thr must be in [0, 1]; got {nms_thr}")
        self.ann_file = str(ann_file)
        if not Path(self.ann_file).is_file():
            raise FileNotFoundError(f"ann_file not found: {self.ann_file}")
        with contextlib.redirect_stdout(io.StringIO()):
            self.coco = COCO(self.ann_file)
        self._eval_gt = _xtcocotools_ground_truth(self.coco.dataset, use_area)
        self._custom_sigmas = sigmas is not None
        self.sigmas = np.asarray(COCO_KEYPOINTS.sigmas if sigmas is None else sigmas, dtype=np.float64)
        if self.sigmas.ndim != 1 or self.sigmas.size == 0 or not np.all(self.sigmas > 0):
            raise ValueError(f"sigmas must be a (K,) array of positive numbers; got shape {self.sigmas.shape}")
        self.num_keypoints = int(self.sigmas.size)
        self.score_mode = score_mode
        self.nms_mode = nms_mode
        self.nms_thr = float(nms_thr)
        self.keypoint_score_thr = float(keypoint_score_thr)
        self.use_area = bool(use_area)
        self._image_ids = set(self.coco.getImgIds())
        self.summary = ""
        self.reset()

    # ----------------------------------------------------------------------------------------------- accumulation
    def reset(self) -> None:
        """Forget every prediction added so far."""
        self._records: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return len(self._records)

    def add(self, predictions: Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> None:
        """Add one prediction record or an iterable of them (see the class docstring for the fields).

        Raises:
            TypeError: if a record is not a mapping.
            ValueError: if a record has a missing key, an ``image_id`` not in the annotations, keypoints of the
                wrong shape (K must equal ``len(sigmas)``), or non-finite keypoints / scores / area; the message
                gives the record's position among all records added and its ``image_id``/``id``.
        """
        if isinstance(predictions, Mapping):
            predictions = [predictions]
        validated = [self._validate(record, len(self._records) + offset) for offset, record in enumerate(predictions)]
        self._records.extend(validated)

    def update(
        self,
        image_ids,
        keypoints,
        keypoint_scores,
        bbox_scores,
        areas=None,
        ids=None,
    ) -> None:
        """Add a batch given as arrays.

        Args:
            image_ids: ``(P,)`` COCO image ids.
            keypoints: ``(P, K, 2)`` image px.
            keypoint_scores: ``(P, K)``.
            bbox_scores: ``(P,)``.
            areas: optional ``(P,)`` NMS areas (``prod(bbox_scale)`` for top-down).
            ids: optional ``(P,)`` instance ids used to drop duplicates.

        Raises:
            ValueError: if the arrays do not have the same leading length, or a record is invalid (see ``add``).
        """
        image_ids = _to_numpy(image_ids).reshape(-1)
        keypoints = _to_numpy(keypoints)
        keypoint_scores = _to_numpy(keypoint_scores)
        bbox_scores = _to_numpy(bbox_scores).reshape(-1)
        count = len(image_ids)
        arrays = {"keypoints": keypoints, "keypoint_scores": keypoint_scores, "bbox_scores": bbox_scores}
        if areas is not None:
            arrays["areas"] = _to_numpy(areas).reshape(-1)
        if ids is not None:
            arrays["ids"] = _to_numpy(ids).reshape(-1)
        for name, array in arrays.items():
            if array.ndim == 0 or len(array) != count:
                raise ValueError(f"{name} has leading length {array.shape[:1]} but image_ids has {count}")
        records = []
        for index in range(count):
            record = {
                "image_id": image_ids[index],
                "keypoints": keypoints[index],
                "keypoint_scores": keypoint_scores[index],
                "bbox_score": bbox_scores[index],
            }
            if areas is not None:
                record["area"] = arrays["areas"][index]
            if ids is not None:
                record["id"] = arrays["ids"][index]
            records.append(record)
        self.add(records)

    def _validate(self, record: Mapping[str, Any], position: int) -> dict[str, Any]:
        if not isinstance(record, Mapping):
            raise TypeError(f"prediction record {position} must be a dict; got {type(record).__name__}")
        missing = [key for key in ("image_id", "keypoints", "keypoint_scores", "bbox_score") if key not in record]
        if missing:
            raise ValueError(f"prediction record {position} is missing {missing}")
        image_id = _to_numpy(record["image_id"])
        if image_id.size != 1 or not np.issubdtype(image_id.dtype, np.integer):
            raise ValueError(f"prediction record {position}: image_id must be one integer; got {record['image_id']!r}")
        image_id = int(image_id.reshape(()))
        instance_id = record.get("id")
        if instance_id is not None:
            instance_array = _to_numpy(instance_id)
            if instance_array.size != 1 or not np.issubdtype(instance_array.dtype, np.integer):
                raise ValueError(f"prediction record {position}: id must be one integer; got {instance_id!r}")
            instance_id = int(instance_array.reshape(()))
        where = f"prediction record {position} (image_id {image_id}" + (
            f", id {instance_id})" if instance_id is not None else ")"
        )
        if image_id not in self._image_ids:
            raise ValueError(f"{where}: image_id is not in the annotations of {self.ann_file}")
        keypoints = _to_numpy(record["keypoints"]).astype(np.float32)
        if keypoints.shape != (self.num_keypoints, 2):
            raise ValueError(f"{where}: keypoints must have shape ({self.num_keypoints}, 2); got {keypoints.shape}")
        if not np.isfinite(keypoints).all():
            raise ValueError(f"{where}: keypoints contain NaN or infinity")
        scores = _to_numpy(record["keypoint_scores"]).astype(np.float32)
        if scores.shape != (self.num_keypoints,):
            raise ValueError(f"{where}: keypoint_scores must have shape ({self.num_keypoints},); got {scores.shape}")
        if not np.isfinite(scores).all():
            raise ValueError(f"{where}: keypoint_scores contain NaN or infinity")
        bbox_score = _to_numpy(record["bbox_score"]).astype(np.float32)
        if bbox_score.size != 1 or not np.isfinite(bbox_score).all():
            raise ValueError(f"{where}: bbox_score must be one finite number; got {record['bbox_score']!r}")
        if record.get("area") is not None:
            area = _to_numpy(record["area"]).astype(np.float32)
            if area.size != 1 or not np.isfinite(area).all() or float(area.reshape(())) < 0:
                raise ValueError(f"{where}: area must be one finite non-negative number; got {record['area']!r}")
            area = area.reshape(())
        else:
            # MMPose CocoMetric without bbox scales: area of the keypoints' bounding box.
            area = (keypoints[:, 0].max() - keypoints[:, 0].min()) * (keypoints[:, 1].max() - keypoints[:, 1].min())
        bbox = None
        if record.get("bbox") is not None:
            bbox = _to_numpy(record["bbox"]).astype(np.float32)
            if bbox.shape != (4,) or not np.isfinite(bbox).all() or bbox[2] < 0 or bbox[3] < 0:
                raise ValueError(f"{where}: bbox must be a finite [x, y, w, h] with w, h >= 0; got {record['bbox']!r}")
        return {
            "position": position,
            "bbox": bbox,
            "image_id": image_id,
            "id": instance_id,
            "keypoints": keypoints,
            "keypoint_scores": scores,
            "bbox_score": bbox_score.reshape(()),
            "area": np.float32(area),
        }

    # ------------------------------------------------------------------------------------------------ computation
    def select(self) -> list[dict[str, Any]]:
        """Deduplicate, rescore and NMS the accumulated predictions (steps 1-3 of the module docstring).

        Returns:
            The surviving instances in the order they are written to the results json (images by first
            appearance; within an image by id without NMS, by decreasing score with NMS), each a dict with
            ``position`` (index of the record among all records added), ``image_id``, ``id``, ``keypoints``
            ``(K, 2)`` float32, ``keypoint_scores`` ``(K,)`` float32 and ``score`` (the rescored score).

        Raises:
            ValueError: if the records of one image mix given and missing ids.
        """
        by_image: dict[int, list[dict[str, Any]]] = {}
        for record in self._records:
            by_image.setdefault(record["image_id"], []).append(record)
        selected = []
        for image_id, instances in by_image.items():
            with_id = [instance["id"] is not None for instance in instances]
            if all(with_id):
                instances = sorted(instances, key=lambda instance: instance["id"])  # stable, as MMPose
                instances = [
                    instance
                    for index, instance in enumerate(instances)
                    if index == 0 or instance["id"] != instances[index - 1]["id"]
                ]
            elif any(with_id):
                raise ValueError(f"the predictions of image {image_id} mix records with and without an 'id'")
            scores = rescore_instances(
                np.stack([instance["keypoint_scores"] for instance in instances]),
                np.stack([instance["bbox_score"] for instance in instances]),
                self.score_mode,
                self.keypoint_score_thr,
            )
            if self.nms_mode == "oks_nms":
                keep = oks_nms(
                    np.stack([instance["keypoints"] for instance in instances]),
                    scores,
                    np.stack([instance["area"] for instance in instances]),
                    self.nms_thr,
                    self.sigmas.astype(np.float32),
                )
            else:
                keep = range(len(instances))
            for index in keep:
                selected.append({**instances[index], "score": scores[index]})
        return selected

    def results(self) -> list[dict[str, Any]]:
        """COCO keypoint results of the selected instances (what ``compute`` evaluates and writes).

        Returns:
            A list of ``{"image_id", "category_id": 1, "keypoints": [x1, y1, s1, ...], "score"}`` with python
            floats (the float32 values, as MMPose's json), plus ``"bbox"`` ``[x, y, w, h]`` when the records have one.

        Raises:
            ValueError: if some records have a ``bbox`` and others do not.
        """
        selected = self.select()
        with_bbox = [instance["bbox"] is not None for instance in selected]
        if any(with_bbox) and not all(with_bbox):
            raise ValueError("either every prediction record or none must have a 'bbox' (pycocotools needs one layout)")
        results = []
        for instance in selected:
            flat = np.concatenate([instance["keypoints"], instance["keypoint_scores"][:, None]], axis=1)
            result = {
                "image_id": instance["image_id"],
                "category_id": 1,
                "keypoints": flat.reshape(-1).tolist(),
                "score": float(instance["score"]),
            }
            if instance["bbox"] is not None:
                result["bbox"] = instance["bbox"].tolist()
            results.append(result)
        return results

    def compute(self, output_json: str | PathLike | None = None) -> dict[str, float]:
        """Evaluate the accumulated predictions as xtcocotools' COCOeval (iouType ``"keypoints"``) does: pycocotools'
        COCOeval with xtcocotools' rules (module docstring, step 4).

        Args:
            output_json: optional path where the COCO results json is written (``json.dump`` with
                ``sort_keys=True, indent=4`` as MMPose).

        Returns:
            ``{"AP": ..., "AP .5": ..., "AP .75": ..., "AP (M)": ..., "AP (L)": ..., "AR": ..., "AR .5": ...,
            "AR .75": ..., "AR (M)": ..., "AR (L)": ...}`` as python floats in [0, 1] (-1 where COCOeval has no
            ground truth for an area range). pycocotools' printed summary is captured in ``self.summary``.

        Raises:
            ValueError: if no prediction was added.
        """
        results = self.results()
        if output_json is not None:
            Path(output_json).parent.mkdir(parents=True, exist_ok=True)
            with open(output_json, "w") as handle:
                json.dump(results, handle, sort_keys=True, indent=4)
        if not results:
            raise ValueError("no predictions to evaluate: call add() or update() first")
        # xtcocotools' COCOeval skips results without a single keypoint score > 0 (module docstring, step 4).
        evaluated = [result for result in results if any(score > 0 for score in result["keypoints"][2::3])]
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            # loadRes adds area/bbox/id to the result dicts it is given; hand it copies.
            detections = _load_results(self._eval_gt, copy.deepcopy(evaluated))
            coco_eval = COCOeval(self._eval_gt, detections, iouType="keypoints")
            if self._custom_sigmas:
                coco_eval.params.kpt_oks_sigmas = self.sigmas.copy()
            coco_eval.params.useSegm = None
            coco_eval.evaluate()
            coco_eval.accumulate()
            coco_eval.summarize()
        self.summary = buffer.getvalue()
        return {name: float(value) for name, value in zip(COCO_STAT_NAMES, coco_eval.stats)}


def _xtcocotools_ground_truth(dataset: Mapping[str, Any], use_area: bool) -> COCO:
    """A pycocotools ``COCO`` of the ground truth as xtcocotools' ``COCOeval`` reads it (module docstring, step 4):
    ``num_keypoints`` counted from the keypoints, ids 1..N, ``iscrowd`` 0 by default, and ``area = 0.53 * w * h`` of
    the box without ``use_area`` (or without an ``area``). The annotation file's own ``COCO`` is left untouched."""
    annotations = []
    for number, annotation in enumerate(dataset.get("annotations", []), start=1):
        annotation = {**annotation, "id": number}
        annotation.setdefault("iscrowd", 0)
        if annotation.get("keypoints") is not None:
            annotation["num_keypoints"] = int(np.count_nonzero(np.asarray(annotation["keypoints"])[2::3] > 0))
        if not use_area or "area" not in annotation:
            annotation["area"] = annotation["bbox"][2] * annotation["bbox"][3] * 0.53
        annotations.append(annotation)
    ground_truth = COCO()
    ground_truth.dataset = {**dataset, "annotations": annotations}
    with contextlib.redirect_stdout(io.StringIO()):
        ground_truth.createIndex()
    return ground_truth


def _load_results(ground_truth: COCO, results: list[dict[str, Any]]) -> COCO:
    """``ground_truth.loadRes(results)``, also for an empty list (pycocotools indexes ``results[0]``)."""
    if results:
        return ground_truth.loadRes(results)
    detections = COCO()
    detections.dataset = {
        "images": list(ground_truth.dataset["images"]),
        "annotations": [],
        "categories": copy.deepcopy(ground_truth.dataset.get("categories", [])),
    }
    detections.createIndex()
    return detections


def format_markdown_table(stats: Mapping[str, Any], digits: int = 3) -> str:
    """Format COCO stats as a Markdown table.

    Args:
        stats: either one result of :meth:`CocoKeypointEvaluator.compute` (one row) or a mapping
            ``row name -> result`` (one row each, with a first column for the name).
        digits: decimals shown.

    Returns:
        The table, columns in MMPose's order (``AP, AP .5, ..., AR (L)``), one line per row, trailing newline.

    Raises:
        ValueError: if a row lacks one of the ten stat names.
    """
    rows = {"": stats} if all(not isinstance(value, Mapping) for value in stats.values()) else dict(stats)
    named = any(name for name in rows)
    header = (["model"] if named else []) + list(COCO_STAT_NAMES)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    for name, row in rows.items():
        missing = [key for key in COCO_STAT_NAMES if key not in row]
        if missing:
            raise ValueError(f"row {name!r} lacks {missing}")
        cells = ([str(name)] if named else []) + [f"{float(row[key]):.{digits}f}" for key in COCO_STAT_NAMES]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


format_stats_table = format_markdown_table  # alias used by scripts/evaluate.py


def load_detection_boxes(
    bbox_file: str | PathLike,
    score_thr: float = 0.0,
    category_id: int = 1,
    image_ids: Iterable[int] | None = None,
) -> dict[int, list[tuple[np.ndarray, float]]]:
    """Read a COCO detection-results json (MMPose's ``bbox_file``: ``COCO_val2017_detections_AP_H_56_person.json``).

    As MMPose ``BaseCocoStyleDataset._load_detection_results`` + ``filter_data``: records of another category are
    skipped, boxes and scores are float32, and a record is kept when ``score >= score_thr``.

    Args:
        bbox_file: json list of ``{"image_id", "category_id", "bbox": [x, y, w, h], "score"}``.
        score_thr: minimum detection score (inclusive).
        category_id: category to keep (1 = person).
        image_ids: optional ids of the annotated images; a record for another image is an error.

    Returns:
        ``image_id -> [(box, score), ...]`` in file order; ``box`` is a float32 ``(4,)`` COCO ``[x, y, w, h]`` in
        image pixels, ``score`` a python float (the float32 value). Boxes with zero width or height are skipped
        with a warning (they cannot be cropped).

    Raises:
        FileNotFoundError: if ``bbox_file`` does not exist.
        ValueError: if the file is not a list, or a record (named by its index) lacks a key, has a malformed,
            non-finite or negative-size box, a non-finite score, or an image id not in ``image_ids``.
    """
    records = _load_json(bbox_file, "bbox_file")
    if not isinstance(records, list):
        raise ValueError(f"{bbox_file}: expected a json list of detections; got {type(records).__name__}")
    valid_ids = set(int(i) for i in image_ids) if image_ids is not None else None
    boxes: dict[int, list[tuple[np.ndarray, float]]] = {}
    skipped = 0
    for index, record in enumerate(records):
        where = f"{bbox_file}: detection {index}"
        if not isinstance(record, Mapping):
            raise ValueError(f"{where} is not an object")
        missing = [key for key in ("image_id", "category_id", "bbox", "score") if key not in record]
        if missing:
            raise ValueError(f"{where} is missing {missing}")
        if record["category_id"] != category_id:
            continue
        image_id = record["image_id"]
        if isinstance(image_id, bool) or not isinstance(image_id, int):
            raise ValueError(f"{where}: image_id must be an integer; got {image_id!r}")
        if valid_ids is not None and image_id not in valid_ids:
            raise ValueError(f"{where}: image_id {image_id} is not in the annotations")
        try:
            box = np.asarray(record["bbox"][:4], dtype=np.float32)
            score = np.float32(record["score"])
        except (TypeError, ValueError):
            raise ValueError(
                f"{where}: bbox and score must be numbers; got {record['bbox']!r}, {record['score']!r}"
            ) from None
        if box.shape != (4,) or not np.isfinite(box).all():
            raise ValueError(f"{where}: bbox must be 4 finite numbers [x, y, w, h]; got {record['bbox']!r}")
        if box[2] < 0 or box[3] < 0:
            raise ValueError(f"{where}: bbox has a negative width or height: {record['bbox']!r}")
        if not math.isfinite(float(score)):
            raise ValueError(f"{where}: score is not finite")
        if score < score_thr:
            continue
        if box[2] == 0 or box[3] == 0:
            skipped += 1
            continue
        boxes.setdefault(image_id, []).append((box, float(score)))
    if skipped:
        warnings.warn(f"{bbox_file}: skipped {skipped} detection(s) with zero width or height", stacklevel=2)
    return boxes


def gt_boxes(ann_file: str | PathLike, clip: bool = True) -> dict[int, list[tuple[np.ndarray, int, float]]]:
    """Ground-truth person boxes for top-down evaluation with GT boxes, as MMPose ``CocoDataset`` (topdown).

    Instances with ``iscrowd == 0`` and ``num_keypoints > 0``. With ``clip`` (MMPose's ``CocoDataset`` does it) the box
    is clipped to ``[0, W - 1] x [0, H - 1]`` of its image in float32 before being returned as xywh.

    Args:
        ann_file: COCO person-keypoints annotation json.
        clip: clip the boxes to the image like MMPose.

    Returns:
        ``image_id -> [(box, annotation_id, area), ...]`` in annotation order, for images that have such instances;
        ``box`` is float32 ``(4,)`` COCO ``[x, y, w, h]`` in image pixels (with ``clip``: ``w = x2 - x1`` of MMPose's
        float32 clipped xyxy box, so ``bbox_xyxy2xywh`` of MMPose's box), ``area`` the annotation's ``area``.

    Raises:
        FileNotFoundError: if ``ann_file`` does not exist.
        ValueError: if an annotation (named by its id) refers to an unknown image or has a malformed box.
    """
    data = _load_json(ann_file, "ann_file")
    if not isinstance(data, Mapping) or "annotations" not in data or "images" not in data:
        raise ValueError(f"{ann_file}: not a COCO annotation file (needs 'images' and 'annotations')")
    sizes = {image["id"]: (image.get("width"), image.get("height")) for image in data["images"]}
    boxes: dict[int, list[tuple[np.ndarray, int, float]]] = {}
    for annotation in data["annotations"]:
        if annotation.get("iscrowd", 0) or annotation.get("num_keypoints", 0) <= 0:
            continue
        annotation_id = annotation.get("id")
        image_id = annotation.get("image_id")
        if image_id not in sizes:
            raise ValueError(f"{ann_file}: annotation {annotation_id} refers to unknown image_id {image_id}")
        try:
            raw = np.asarray(annotation.get("bbox", ()), dtype=np.float64)
        except (TypeError, ValueError):
            raw = np.zeros(0)
        if raw.shape != (4,) or not np.isfinite(raw).all():
            raise ValueError(f"{ann_file}: annotation {annotation_id} has a malformed bbox {annotation.get('bbox')!r}")
        if clip:
            width, height = sizes[image_id]
            if width is None or height is None:
                raise ValueError(f"{ann_file}: image {image_id} has no width/height to clip annotation {annotation_id}")
            # MMPose clips the json (float64) values, stores xyxy as float32; xywh is then taken in float32.
            x, y, w, h = raw
            xyxy = np.array(
                [np.clip(x, 0, width - 1), np.clip(y, 0, height - 1), np.clip(x + w, 0, width - 1),
                 np.clip(y + h, 0, height - 1)],
                dtype=np.float32,
            )  # fmt: skip
            box = np.concatenate([xyxy[:2], xyxy[2:] - xyxy[:2]])
        else:
            box = raw.astype(np.float32)
        boxes.setdefault(image_id, []).append((box, int(annotation_id), float(annotation.get("area", 0.0))))
    return boxes
