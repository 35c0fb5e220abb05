# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Top-down inference over a dataset split and its COCO OKS AP / PCKh, shared by training and `scripts/evaluate.py`.

Every image is one item: the image processor crops all of its boxes (ground-truth person boxes, or detections from a
``bbox_file`` as MMPose's val config), the model runs once on the crops and, with flip test, once on their mirror
images, and post-processing maps the keypoints back to image pixels. Under `accelerate` each process takes a shard of
the images; the per-person predictions are gathered and the images the distributed sampler repeats to even out the
shards are dropped by instance id, so that every instance counts once.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..geometry import bbox_xywh_to_xyxy, bbox_xyxy_to_xywh, clip_bbox_xyxy
from ..keypoints import COCO_KEYPOINTS, DEFAULT_OKS_SIGMA, warn_default_sigmas

__all__ = [
    "TopDownEvalImages",
    "coco_eval_images",
    "coco_images",
    "mpii_eval_images",
    "predict_topdown",
    "predict_bottomup",
    "evaluation_forward",
    "evaluate_coco",
    "evaluate_mpii",
    "evaluate_saved_model",
]


class TopDownEvalImages(Dataset):
    """One item per image: its path and the person boxes to crop.

    Args:
        records: list of ``{"image_id", "path", "boxes": (n, 4) xywh, "ids": (n,), "box_scores": (n,)}``.
        processor: a `TopDownPoseImageProcessor`.
    """

    def __init__(self, records: list[dict], processor):
        self.records = records
        self.processor = processor

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict:
        record = self.records[index]
        inputs = self.processor(images=[str(record["path"])], boxes=[record["boxes"]], return_tensors="pt")
        count = len(record["boxes"])
        return {
            "pixel_values": inputs["pixel_values"],
            "center": torch.as_tensor(np.asarray(inputs["center"]), dtype=torch.float32).reshape(count, 2),
            "scale": torch.as_tensor(np.asarray(inputs["scale"]), dtype=torch.float32).reshape(count, 2),
            "boxes": torch.as_tensor(np.asarray(record["boxes"], dtype=np.float32)).reshape(count, 4),
            "image_id": torch.full((count,), int(record["image_id"]), dtype=torch.int64),
            "ids": torch.as_tensor(np.asarray(record["ids"], dtype=np.int64)),
            "box_scores": torch.as_tensor(np.asarray(record["box_scores"], dtype=np.float32)),
        }


def _concatenate(items: list[dict]) -> dict:
    return {key: torch.cat([item[key] for item in items]) for key in items[0]}


def coco_eval_images(
    ann_file: str | Path, image_root: str | Path, bbox_file: str | Path | None = None, det_score_thr: float = 0.0
) -> list[dict]:
    """Evaluation records of a COCO split: ground-truth person boxes (iscrowd 0, at least one keypoint, clipped to
    the image as MMPose's ``CocoDataset``) or, with ``bbox_file``, the person detections of a COCO results json.

    Raises:
        ValueError: if a detection names an image that is not in ``ann_file`` (names the detection index).
    """
    annotations = json.loads(Path(ann_file).read_text())
    images = {image["id"]: image for image in annotations["images"]}
    per_image: dict[int, list[tuple[list[float], int, float]]] = {image_id: [] for image_id in images}
    if bbox_file is None:
        for annotation in annotations["annotations"]:
            if annotation.get("iscrowd", 0) or annotation.get("num_keypoints", 0) == 0:
                continue
            image = images[annotation["image_id"]]
            xyxy = clip_bbox_xyxy(
                bbox_xywh_to_xyxy(np.asarray([annotation["bbox"]], dtype=np.float32)), (image["width"], image["height"])
            )
            box = bbox_xyxy_to_xywh(xyxy)[0]
            if box[2] <= 0 or box[3] <= 0:
                continue
            per_image[annotation["image_id"]].append((box.tolist(), int(annotation["id"]), 1.0))
    else:
        detections = json.loads(Path(bbox_file).read_text())
        for index, detection in enumerate(detections):
            if detection.get("category_id", 1) != 1 or detection.get("score", 1.0) < det_score_thr:
                continue
            if detection["image_id"] not in images:
                raise ValueError(
                    f"bbox_file detection {index} names image_id {detection['image_id']} not in {ann_file}"
                )
            box = [float(v) for v in detection["bbox"]]
            if box[2] <= 0 or box[3] <= 0:
                continue
            per_image[detection["image_id"]].append((box, 30_000_000 + index, float(detection.get("score", 1.0))))
    records = []
    for image_id, entries in per_image.items():
        if not entries:
            continue
        records.append(
            {
                "image_id": image_id,
                "path": Path(image_root) / images[image_id]["file_name"],
                "boxes": [entry[0] for entry in entries],
                "ids": [entry[1] for entry in entries],
                "box_scores": [entry[2] for entry in entries],
            }
        )
    return records


def coco_images(ann_file: str | Path, image_root: str | Path) -> list[dict]:
    """Every image of a COCO split (bottom-up evaluation runs on whole images): ``{"image_id", "path"}``."""
    annotations = json.loads(Path(ann_file).read_text())
    return [{"image_id": image["id"], "path": Path(image_root) / image["file_name"]} for image in annotations["images"]]


class BottomUpEvalImages(Dataset):
    """One item per image, resized by a `BottomUpPoseImageProcessor` (one image per forward: 0.29 semantics)."""

    def __init__(self, records: list[dict], processor):
        self.records = records
        self.processor = processor

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict:
        record = self.records[index]
        inputs = self.processor(images=[str(record["path"])], return_tensors="pt")
        return {"image_id": int(record["image_id"]), **inputs}


def evaluation_forward(model, optimize: bool | None = None):
    """The network callable evaluation runs: the pipeline's (`KeypointDetectionPipeline.forward_model`), top-down and
    bottom-up alike.

    ``optimize=None``: `hfpose.inference.should_optimize` decides (on CPU with float32 weights and onnxruntime
    installed: one in-memory ONNX export, about 1 s top-down and 2-4 s bottom-up, made from the model's weights at
    this call, so a validation during training exports the current weights; the bottom-up export has dynamic height
    and width and serves every image size; ``$HFPOSE_OPTIMIZE=0`` turns it off); ``True`` forces
    `optimize_for_inference` with `default_options`, ``False`` the eager model. An `OptimizedPoseModel` is returned as
    is.
    """
    from ..inference import OptimizedPoseModel, default_options, optimize_for_inference, should_optimize

    if isinstance(model, OptimizedPoseModel):
        return model
    if optimize is None:
        device = next(model.parameters()).device if isinstance(model, torch.nn.Module) else None
        optimize = should_optimize(model, device)
    return optimize_for_inference(model, **default_options(model)) if optimize else model


@torch.inference_mode()
def predict_bottomup(
    model,
    processor,
    records: list[dict],
    flip_test: bool = True,
    accelerator=None,
    progress: bool = False,
    optimize: bool | None = None,
    **unused,
) -> list[dict]:
    """Every person the bottom-up model finds in each image of ``records``; one dict per person (image px):
    ``{"image_id", "id", "keypoints" (K, 2), "keypoint_scores" (K,), "bbox_score" (the person score), "area"}``.

    ``area`` is the keypoint extent ``(max x - min x) * (max y - min y)``, which MMPose 0.x's bottom-up OKS-NMS uses.

    Each image runs at its own input size, as in MMPose 0.29 (one image per forward); with ``flip_test`` the image
    and its mirror image go through the network as **one** batch of 2, and the network is `evaluation_forward`
    (``optimize``: see there), the same forward as the pipeline's, so an evaluation costs about (number of images) x
    (one flip-test pass) plus one export (``docs/performance.md``, "the real bottom-up workload").
    """
    if accelerator is not None and accelerator.num_processes > 1:
        # accelerate cannot shard a `batch_size=None` loader (one image per forward): every process takes every n-th
        records = records[accelerator.process_index :: accelerator.num_processes]
    loader = DataLoader(BottomUpEvalImages(records, processor), batch_size=None, shuffle=False)
    model.eval()
    device = next(model.parameters()).device
    forward = evaluation_forward(model, optimize)
    results: list[dict] = []
    iterator = loader
    if progress:
        from ..progress import progress_bar  # a bar in a terminal only: no carriage returns in log files

        iterator = progress_bar(loader, desc="evaluate", enabled=accelerator is None or accelerator.is_main_process)
    for item in iterator:
        pixel_values = item["pixel_values"].to(device)
        if flip_test:
            outputs = forward(pixel_values=torch.cat([pixel_values, pixel_values.flip(-1)]))
            count = pixel_values.shape[0]
            outputs, outputs_flipped = (
                _slice_outputs(outputs, slice(0, count)),
                _slice_outputs(outputs, slice(count, None)),
            )
        else:
            outputs, outputs_flipped = forward(pixel_values=pixel_values), None
        persons = processor.post_process_pose_estimation(
            outputs, base_size=item.get("base_size"), scale=item["scale"], outputs_flipped=outputs_flipped
        )[0]
        image_id = int(item["image_id"])
        for index, person in enumerate(persons):
            keypoints = np.asarray(person["keypoints"], dtype=np.float64)
            extent = keypoints.max(axis=0) - keypoints.min(axis=0)
            results.append(
                {
                    "image_id": image_id,
                    "id": image_id * 1000 + index,
                    "keypoints": keypoints,
                    "keypoint_scores": np.asarray(person["scores"], dtype=np.float32),
                    "bbox_score": float(person["score"]),
                    "area": float(extent[0] * extent[1]),
                }
            )
    return _gather_unique(results, accelerator)


def mpii_eval_images(dataset) -> tuple[list[dict], dict]:
    """Evaluation records and PCKh ground truth of an MPII split loaded with `hfpose.data.load_mpii`.

    The boxes are the dataset's ``bbox`` (MMPose ``MpiiDataset``'s box from the annotated centre and scale); the image
    processor pads them by 1.25 like ``GetBBoxCenterScale``. Ground truth is keyed by ``ann_id``.
    """
    per_image: dict[str, dict] = {}
    ids, keypoints, visible, head_size = [], [], [], []
    for row in dataset:
        record = per_image.setdefault(
            row["image_path"],
            {"image_id": int(row["image_id"]), "path": row["image_path"], "boxes": [], "ids": [], "box_scores": []},
        )
        record["boxes"].append([float(v) for v in row["bbox"]])
        record["ids"].append(int(row["ann_id"]))
        record["box_scores"].append(1.0)
        points = np.asarray(row["keypoints"], dtype=np.float64)
        ids.append(int(row["ann_id"]))
        keypoints.append(points[:, :2])
        visible.append(points[:, 2] > 0)
        head_size.append(float(row["head_size"]))
    ground_truth = {
        "ids": ids,
        "keypoints": np.asarray(keypoints),
        "visible": np.asarray(visible, dtype=np.float32),
        "head_size": np.asarray(head_size),
    }
    return list(per_image.values()), ground_truth


@torch.inference_mode()
def predict_topdown(
    model,
    processor,
    records: list[dict],
    flip_test: bool = True,
    batch_size: int = 8,
    num_workers: int = 0,
    accelerator=None,
    progress: bool = False,
    optimize: bool | None = None,
) -> list[dict]:
    """Run the model on every box of ``records``; returns one dict per person (image px):
    ``{"image_id", "id", "keypoints" (K, 2), "keypoint_scores" (K,), "bbox_score", "area", "bbox"}``.

    ``area`` is the area of the padded, aspect-fixed crop (``prod(scale)``), which MMPose's OKS-NMS uses. With
    ``flip_test`` the ``batch_size`` crops and their mirror images go through the network as one batch; the network
    is `evaluation_forward` (``optimize``: see there), the pipeline's forward.
    """
    loader = DataLoader(
        TopDownEvalImages(records, processor),
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=_concatenate,
    )
    if accelerator is not None:
        loader = accelerator.prepare_data_loader(loader)
    model.eval()
    device = next(model.parameters()).device
    forward = evaluation_forward(model, optimize)
    results: list[dict] = []
    iterator = loader
    if progress:
        from ..progress import progress_bar  # a bar in a terminal only: no carriage returns in log files

        iterator = progress_bar(loader, desc="evaluate", enabled=accelerator is None or accelerator.is_main_process)
    for batch in iterator:
        pixel_values = batch["pixel_values"].to(device)
        count = pixel_values.shape[0]
        if flip_test:
            outputs = forward(pixel_values=torch.cat([pixel_values, pixel_values.flip(-1)]))
            outputs_main = _slice_outputs(outputs, slice(0, count))
            outputs_flipped = _slice_outputs(outputs, slice(count, 2 * count))
        else:
            outputs_main, outputs_flipped = forward(pixel_values=pixel_values), None
        boxes = batch["boxes"].cpu().numpy()
        persons = processor.post_process_pose_estimation(
            outputs_main,
            boxes=[[box] for box in boxes],
            outputs_flipped=outputs_flipped,
            center=batch["center"].cpu().numpy(),
            scale=batch["scale"].cpu().numpy(),
        )
        scales = batch["scale"].cpu().numpy()
        batch_results = []
        for index, image_persons in enumerate(persons):
            person = image_persons[0]
            batch_results.append(
                {
                    "image_id": int(batch["image_id"][index]),
                    "id": int(batch["ids"][index]),
                    "keypoints": np.asarray(person["keypoints"], dtype=np.float64),
                    "keypoint_scores": np.asarray(person["scores"], dtype=np.float32),
                    "bbox_score": float(batch["box_scores"][index]),
                    "area": float(np.prod(scales[index])),
                    "bbox": boxes[index].tolist(),
                }
            )
        results.extend(batch_results)
    return _gather_unique(results, accelerator)


def _gather_unique(results: list[dict], accelerator) -> list[dict]:
    """All processes' per-person results, each instance once.

    Items are images but results are persons, so `gather_for_metrics`' count-based trimming of the padded tail does
    not apply; the images the distributed sampler repeats to even out the shards are removed by instance id.
    """
    if accelerator is None or accelerator.num_processes == 1:
        return results
    from accelerate.utils import gather_object

    gathered, seen = [], set()
    for person in gather_object(results):
        key = (person["image_id"], person["id"])
        if key not in seen:
            seen.add(key)
            gathered.append(person)
    return gathered


def _slice_outputs(outputs, index: slice):
    """A shallow copy of a model output with every per-sample tensor field, and every tuple of such tensors
    (multi-resolution bottom-up ``heatmaps``), sliced along the batch dimension."""
    sliced = {}
    for key, value in outputs.items():
        if isinstance(value, torch.Tensor) and value.ndim > 0:
            sliced[key] = value[index]
        elif isinstance(value, tuple) and value and all(isinstance(v, torch.Tensor) for v in value):
            sliced[key] = tuple(v[index] for v in value)
    return type(outputs)(**sliced)


def evaluate_coco(
    predictions: list[dict],
    ann_file: str | Path,
    score_mode: str = "bbox_keypoint",
    nms_mode: str = "oks_nms",
    nms_thr: float = 0.9,
    output_json: str | Path | None = None,
    sigmas=None,
) -> dict:
    """COCO OKS AP/AR of per-person predictions with MMPose's rescoring and OKS-NMS (``sigmas``: `(K,)` OKS
    constants of another keypoint set; COCO's when None)."""
    from ..evaluation import COCO_STAT_NAMES, CocoKeypointEvaluator

    if not predictions:  # a model that finds nobody scores 0 everywhere (COCOeval cannot run on an empty result)
        return {name: 0.0 for name in COCO_STAT_NAMES}
    evaluator = CocoKeypointEvaluator(
        str(ann_file), score_mode=score_mode, nms_mode=nms_mode, nms_thr=nms_thr, sigmas=sigmas
    )
    evaluator.add(predictions)
    return evaluator.compute(output_json=output_json)


def evaluate_keypoints(predictions: list[dict], ann_file, config, bottom_up: bool = False, **coco_kwargs) -> dict:
    """Metrics of predictions on a COCO-format validation json for the config's keypoint set.

    With ``config.sigmas``: COCO OKS AP/AR with those sigmas (`evaluate_coco`; ``coco_kwargs`` are its score / NMS
    settings). Without: top-down predictions (made on ground-truth boxes) get ``PCK@0.2`` (of ``max(w, h)`` of the
    box), ``AUC`` and ``EPE`` (px); bottom-up ones OKS AP with the default sigma (a warning says it is not comparable
    to published numbers).
    """
    sigmas = getattr(config, "sigmas", None)
    if sigmas is None and bottom_up:
        warn_default_sigmas("of this model", config.num_labels)
        sigmas = [DEFAULT_OKS_SIGMA] * config.num_labels
    if sigmas is not None:
        names = tuple(config.id2label[index] for index in range(len(config.id2label)))
        if names == COCO_KEYPOINTS.names and list(sigmas) == list(COCO_KEYPOINTS.sigmas):
            sigmas = None  # COCO itself: the evaluator's own constants (and its exact COCOeval path)
        return evaluate_coco(predictions, ann_file, sigmas=sigmas, **coco_kwargs)
    from ..evaluation.pck import match_predictions_to_annotations, pck_metrics

    annotations = json.loads(Path(ann_file).read_text())["annotations"]
    if not predictions:
        return {"PCK@0.2": 0.0, "AUC": 0.0, "EPE": float("nan")}
    return pck_metrics(*match_predictions_to_annotations(predictions, annotations), thr=0.2)


def evaluate_mpii(predictions: list[dict], ground_truth: dict) -> dict:
    """PCKh@0.5 / @0.1 of per-person predictions against MPII ground truth keyed by instance id:
    ``ground_truth = {"ids", "keypoints" (N, K, 2), "visible" (N, K), "head_size" (N,)}``."""
    from ..evaluation import compute_pckh

    order = {int(instance_id): row for row, instance_id in enumerate(ground_truth["ids"])}
    keypoints = np.zeros_like(np.asarray(ground_truth["keypoints"], dtype=np.float64))
    for prediction in predictions:
        keypoints[order[int(prediction["id"])]] = prediction["keypoints"]
    return compute_pckh(keypoints, ground_truth["keypoints"], ground_truth["visible"], ground_truth["head_size"])


def evaluate_saved_model(
    model_dir: str | Path,
    data_root: str | Path,
    split: str = "val2017",
    ann_file: str | Path | None = None,
    bbox_file: str | Path | None = None,
    flip_test: bool = True,
    score_mode: str | None = None,
    nms_mode: str = "oks_nms",
    batch_size: int = 8,
    accelerator=None,
    progress: bool = True,
) -> dict | None:
    """COCO OKS AP/AR of a model directory written by ``save_pretrained`` (what `scripts/evaluate.py` and
    ``hfpose evaluate`` run).

    Top-down models are evaluated on ground-truth person boxes or on the detections of ``bbox_file``, bottom-up models
    on whole images; ``score_mode`` defaults to ``bbox_rle`` for RLE, ``bbox`` for bottom-up models and
    ``bbox_keypoint`` otherwise (MMPose's configs).

    Returns:
        On the main process ``{"model_dir", "split", "bbox_file", "flip_test", "score_mode", "num_predictions",
        "stats"}``; None on the other processes.

    Raises:
        FileNotFoundError: if ``model_dir`` has no ``config.json``.
        ValueError: if ``bbox_file`` is given for a bottom-up model.
    """
    from accelerate import Accelerator
    from transformers import AutoImageProcessor, AutoModelForPoseEstimation

    import hfpose  # noqa: F401  (registers the hfpose model types and processors)

    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file():
        raise FileNotFoundError(f"{model_dir} has no config.json (not a saved model directory)")
    accelerator = accelerator or Accelerator()
    model = AutoModelForPoseEstimation.from_pretrained(model_dir).to(accelerator.device)
    processor = AutoImageProcessor.from_pretrained(model_dir)
    data_root = Path(data_root)
    ann_file = Path(ann_file or data_root / "annotations" / f"person_keypoints_{split}.json")
    bottom_up = bool(getattr(processor, "bottom_up", False))
    if bottom_up:
        if bbox_file:
            raise ValueError("bbox_file is for top-down models; bottom-up models find the people themselves")
        predictions = predict_bottomup(
            model,
            processor,
            coco_images(ann_file, data_root / split),
            flip_test=flip_test,
            accelerator=accelerator,
            progress=progress,
        )
    else:
        records = coco_eval_images(ann_file, data_root / split, bbox_file=bbox_file)
        predictions = predict_topdown(
            model,
            processor,
            records,
            flip_test=flip_test,
            batch_size=batch_size,
            accelerator=accelerator,
            progress=progress,
        )
    if not accelerator.is_main_process:
        return None
    from ..models import method_of

    score_mode = score_mode or method_of(model.config).score_mode
    stats = evaluate_keypoints(
        predictions, ann_file, model.config, bottom_up=bottom_up, score_mode=score_mode, nms_mode=nms_mode
    )
    return {
        "model_dir": str(model_dir),
        "split": split,
        "bbox_file": None if bbox_file is None else str(bbox_file),
        "flip_test": flip_test,
        "score_mode": score_mode,
        "num_predictions": len(predictions),
        "stats": stats,
    }
