# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""`pipeline("keypoint-detection")`: human pose estimation on whole images.

Top-down models (a `TopDownPoseImageProcessor` next to the weights): every person box of an image is cropped, and
all crops (and, with flip test, their mirror images) go through the model in **one** forward pass. Boxes come from
``boxes=`` (COCO ``[x, y, w, h]`` in image pixels, one list per image), else from a ``detector=`` object-detection
pipeline (its "person" detections above ``detector_threshold``), else the whole image is taken as one person box.

Bottom-up models (a `BottomUpPoseImageProcessor`): the whole image goes through the network and associative-embedding
grouping finds every person; passing ``boxes`` or ``detector`` is a `ValueError`.

An image file is decoded once, with its EXIF orientation applied, and that upright image is what the whole-image box,
the detector and the crops all use (keypoints are in the upright frame, as `PIL.ImageOps.exif_transpose` shows it).

Other libraries' top-down models (transformers' `VitPoseForPoseEstimation`, or any model whose image processor
follows VitPose's ``boxes=`` / ``post_process_pose_estimation`` contract) go through the same steps with the same
output; see `hfpose.pipelines.processor_contract` and ``docs/architecture.md``. Their flip test is off unless asked
(``flip_test=True``), as their processors have none.

Output, per image: a list of persons ``{"score": float, "bbox": [x, y, w, h], "keypoints": [{"label", "x", "y",
"score"}, ...]}`` with ``x, y`` in image pixels and always K keypoints in the model's joint order (``keypoints[k]`` is
joint ``k``); with ``threshold=`` every entry also gets ``"visible": score >= threshold``. The top-down person score
is the box score (1 for given boxes, the detector's score otherwise) times the mean keypoint score, as MMPose's
``bbox_keypoint`` rescoring without its 0.2 threshold.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
from transformers import Pipeline

from ..image_io import load_rgb_image
from .processor_contract import (
    foreign_flip_indices,
    foreign_forward_inputs,
    foreign_keypoint_names,
    is_hfpose_processor,
    post_process_foreign,
)

__all__ = ["KeypointDetectionPipeline", "register_pipeline"]


class KeypointDetectionPipeline(Pipeline):
    """Keypoint detection of people with any hfpose `AutoModelForPoseEstimation` model.

    Example:

    ```python
    >>> import hfpose  # registers the task
    >>> from transformers import pipeline
    >>> estimator = pipeline("keypoint-detection", model="outputs/demo/model")
    >>> persons = estimator("image.jpg", boxes=[[50, 30, 120, 300]])
    >>> persons[0]["keypoints"][0]
    {'label': 'nose', 'x': 101.2, 'y': 52.9, 'score': 0.93}
    ```

    Precision: float32 by default. ``pipeline(..., dtype=torch.bfloat16)`` (or a model loaded with
    ``from_pretrained(..., dtype=torch.bfloat16)``) runs the network in that dtype, eagerly: the processor's float32
    ``pixel_values`` are cast to the model's dtype and the network outputs back to float32 before post-processing
    (flip averaging, back-projection to image pixels), so keypoints are float32 arithmetic on bfloat16 outputs.
    The same holds for the bottom-up models (their heatmaps and tags reach the grouping as float32) and on a GPU
    (``pipeline(..., device="cuda", dtype=...)``: the network runs there eagerly, its float32-cast outputs come back
    to the CPU for post-processing). Deviation from float32 on the golden converted models and speed (bfloat16 is
    emulated, so slower, on CPUs without AVX512_BF16 / AMX): ``docs/performance.md``, ``benchmarks/precision.py``.
    """

    _load_processor = False
    _load_image_processor = True
    _load_feature_extractor = False
    _load_tokenizer = False
    _load_video_processor = False  # else transformers follows a remote-code auto_map and asks to run it

    def _sanitize_parameters(
        self, boxes=None, detector=None, detector_threshold=None, flip_test=None, threshold=None, **kwargs
    ):
        preprocess = {}
        if detector is not None:
            preprocess["detector"] = detector
        if detector_threshold is not None:
            preprocess["detector_threshold"] = detector_threshold
        forward = {}
        if flip_test is not None:
            forward["flip_test"] = flip_test
        postprocess = {}
        if threshold is not None:
            postprocess["threshold"] = threshold
        return preprocess, forward, postprocess

    def __call__(self, inputs: Any, boxes: list | None = None, **kwargs) -> list:
        """Estimate the poses of the people in one image or a list of images.

        Args:
            inputs: a file path, a `PIL.Image`, an RGB `np.ndarray` of shape `(H, W, 3)` (uint8), or a list of those.
            boxes: person boxes in COCO `[x, y, w, h]` image pixels: a list of boxes for one image, or one such list
                per image for a list of images (top-down models only).
            detector: an object-detection pipeline used when `boxes` is not given (top-down only).
            detector_threshold: minimum detector score of a person box (default 0.5).
            flip_test: average with the prediction on mirrored input (default: the image processor's `flip_test`,
                True when it has `flip_indices`).
            threshold: keypoints scoring below it are marked ``"visible": False`` (all K entries stay, in joint
                order; every entry gets a ``"visible"`` flag); drawing skips the invisible ones.

        Returns:
            For one image, a list of persons; for a list of images, one such list per image.

        Raises:
            ValueError: if `boxes` has a different number of entries than there are images, the image list is empty,
                a file cannot be decoded (a video, a broken file) or a URL cannot be downloaded, or `boxes` /
                `detector` is given to a bottom-up model.
            TypeError: if an image is not a path, URL, PIL image, numpy array or torch tensor.
        """
        single = not isinstance(inputs, (list, tuple))
        images = [inputs] if single else list(inputs)
        if not images:
            raise ValueError("inputs is an empty list; give an image (path, URL, PIL image, array) or a list of them")
        for index, image in enumerate(images):
            _check_image_type(image, index)
        if self.is_bottom_up and (boxes is not None or kwargs.get("detector") is not None):
            raise ValueError(
                f"boxes= and detector= are for top-down models; {type(self.model).__name__} is bottom-up "
                "and finds every person in the whole image: call it without them"
            )
        if boxes is None:
            per_image_boxes = [None] * len(images)
        elif single:
            per_image_boxes = [boxes]
        else:
            if len(boxes) != len(images):
                raise ValueError(f"boxes has {len(boxes)} entries for {len(images)} images; give one list per image")
            per_image_boxes = list(boxes)
        packed = [
            {"image": image, "boxes": image_boxes, "index": index}
            for index, (image, image_boxes) in enumerate(zip(images, per_image_boxes))
        ]
        outputs = super().__call__(packed, **kwargs)
        return outputs[0] if single else outputs

    @property
    def forward_model(self):
        """The network the pipeline runs: on CPU, for RLE, DeepPose, IPR / DSNT / Debias-IPR and the bottom-up models,
        `hfpose.inference.optimize_for_inference` with `default_options` (onnxruntime when installed: one in-memory
        ONNX export on the first call, about 1 s top-down and 4 s bottom-up, every input size; otherwise, for RLE and
        DeepPose, ``torch.compile`` with weight freezing (the integral models then stay eager), about 8-10 s; top-down
        in chunks of 4 crops, bottom-up the image and its mirror image in one forward; measured in
        ``docs/performance.md``, same golden results); the eager
        model otherwise, or when ``HFPOSE_OPTIMIZE=0`` (`hfpose.inference.should_optimize`). Threads: the onnxruntime
        forward follows ``torch.get_num_threads()`` at each call (one session per thread count, built lazily), so
        ``torch.set_num_threads(n)`` after building the pipeline sets its thread count as it does for eager."""
        from ..inference import OptimizedPoseModel, default_options, optimize_for_inference, should_optimize

        if getattr(self, "_forward_model_source", None) is not self.model:
            # Built once per model (rebuilt if `self.model` is replaced); an `OptimizedPoseModel` is used as is, never
            # wrapped again (a second wrapper would compile around the compiled graph; see docs/performance.md).
            if isinstance(self.model, OptimizedPoseModel):
                self._forward_model = self.model
            elif should_optimize(self.model, self.device):
                self._forward_model = optimize_for_inference(self.model, **default_options(self.model))
            else:
                self._forward_model = self.model
            self._forward_model_source = self.model
        return self._forward_model

    @property
    def is_bottom_up(self) -> bool:
        return bool(getattr(self.image_processor, "bottom_up", False))

    def preprocess(self, item: dict, detector=None, detector_threshold: float = 0.5) -> dict:
        image, index = item["image"], item.get("index", 0)
        if isinstance(image, (str, os.PathLike)):  # decoded once, EXIF orientation applied: boxes and crops agree
            image = load_rgb_image(image, index)
        if isinstance(image, np.ndarray) and image.ndim == 3 and image.shape[-1] == 4:
            image = image[..., :3]
        if self.is_bottom_up:
            inputs = self.image_processor(images=[image], return_tensors="pt")
            return {"kind": "bottomup", "inputs": inputs}
        boxes = item["boxes"]
        box_scores = None
        if boxes is None and detector is not None:
            boxes, box_scores = _detect_people(detector, image, detector_threshold)
        if boxes is None:
            boxes = [_whole_image_box(image, index)]
        boxes = _as_box_array(boxes)
        if box_scores is None:
            box_scores = np.ones(len(boxes), dtype=np.float32)
        if len(boxes) == 0:
            return {"kind": "topdown", "inputs": None, "boxes": boxes, "box_scores": box_scores}
        inputs = self.image_processor(images=[image], boxes=[boxes.tolist()], return_tensors="pt")
        return {"kind": "topdown", "inputs": inputs, "boxes": boxes, "box_scores": box_scores}

    def _forward(self, model_inputs: dict, flip_test: bool | None = None) -> dict:
        inputs = model_inputs["inputs"]
        if inputs is None:
            return {**model_inputs, "outputs": None, "outputs_flipped": None}
        if flip_test is None:
            flip_test = bool(getattr(self.image_processor, "flip_test", True)) and bool(
                getattr(self.image_processor, "flip_indices", None)
            )
        pixel_values = inputs["pixel_values"].to(self.device, dtype=self.model.dtype)
        count = pixel_values.shape[0]
        if flip_test:
            pixel_values = torch.cat([pixel_values, pixel_values.flip(-1)])
            outputs = self.forward_model(pixel_values=pixel_values, **self._foreign_inputs(pixel_values))
            main, flipped = _split_outputs(outputs, count)
        else:
            main, flipped = self.forward_model(pixel_values=pixel_values, **self._foreign_inputs(pixel_values)), None
        if pixel_values.dtype != torch.float32:  # e.g. `pipeline(..., dtype=torch.bfloat16)`: decode in float32
            main, flipped = _as_float32(main), (None if flipped is None else _as_float32(flipped))
        return {**model_inputs, "outputs": main, "outputs_flipped": flipped}

    def _foreign_inputs(self, pixel_values: torch.Tensor) -> dict:
        """Forward inputs besides ``pixel_values`` of other libraries' models (VitPose+'s ``dataset_index``)."""
        return {} if is_hfpose_processor(self.image_processor) else foreign_forward_inputs(self.model, pixel_values)

    def postprocess(self, model_outputs: dict, threshold: float | None = None) -> list[dict]:
        if model_outputs["outputs"] is None:
            return []
        names = _keypoint_names(self.model.config) if is_hfpose_processor(self.image_processor) else None
        if model_outputs["kind"] == "bottomup":
            inputs = model_outputs["inputs"]
            extra = {key: inputs[key] for key in inputs if key != "pixel_values"}
            persons = self.image_processor.post_process_pose_estimation(
                model_outputs["outputs"], outputs_flipped=model_outputs["outputs_flipped"], **extra
            )[0]
            return [_format_person(p, float(p["score"]), p["bbox"], names, threshold) for p in persons]
        inputs = model_outputs["inputs"]
        boxes = model_outputs["boxes"]
        if not is_hfpose_processor(self.image_processor):  # transformers' VitPose & co: pipelines/processor_contract.py
            outputs, flipped = model_outputs["outputs"], model_outputs["outputs_flipped"]
            flip_indices = foreign_flip_indices(self.model.config, self.image_processor) if flipped else None
            persons = post_process_foreign(self.image_processor, outputs, flipped, boxes, flip_indices)
            names = foreign_keypoint_names(self.model.config, len(persons[0]["scores"]))
        else:
            persons = self.image_processor.post_process_pose_estimation(
                model_outputs["outputs"],
                boxes=[boxes.tolist()],
                outputs_flipped=model_outputs["outputs_flipped"],
                center=np.asarray(inputs["center"]),
                scale=np.asarray(inputs["scale"]),
            )[0]
        results = []
        for person, box, box_score in zip(persons, boxes, model_outputs["box_scores"]):
            scores = np.asarray(person["scores"], dtype=np.float64)
            results.append(
                _format_person(person, float(box_score) * float(scores.mean()), box.tolist(), names, threshold)
            )
        return results


def _as_box_array(boxes) -> np.ndarray:
    """One image's boxes as float32 ``(n, 4)``: a list of ``[x, y, w, h]`` boxes, or a single box.

    Raises:
        ValueError: for any other shape (a flat list of 8 numbers is not silently read as 2 boxes).
    """
    array = np.asarray(boxes, dtype=np.float32)
    if array.ndim == 1 and array.shape[0] == 4:
        array = array[None]
    if array.size == 0:
        return np.zeros((0, 4), dtype=np.float32)
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(
            f"boxes must be a list of [x, y, w, h] boxes (shape (n, 4)) per image; got shape {array.shape}"
        )
    return array


def _format_person(person: dict, score: float, bbox, names: list[str], threshold: float | None) -> dict:
    keypoints = np.asarray(person["keypoints"], dtype=np.float64)
    scores = np.asarray(person["scores"], dtype=np.float64)
    entries = []
    for index, ((x, y), keypoint_score) in enumerate(zip(keypoints, scores)):
        entry = {"label": names[index], "x": float(x), "y": float(y), "score": float(keypoint_score)}
        if threshold is not None:  # every joint stays, in order; low-score ones are only marked
            entry["visible"] = bool(keypoint_score >= threshold)
        entries.append(entry)
    return {"score": score, "bbox": [float(v) for v in bbox], "keypoints": entries}


def _as_float32(outputs):
    """The model output with every floating tensor (and tuple of tensors) cast to float32, on the same device; the
    post-processing (flip averaging, back-projection, decoding) then runs in float32 whatever the model's dtype."""
    cast = {}
    for key, value in outputs.items():
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            cast[key] = value.float()
        elif isinstance(value, tuple) and value and all(isinstance(v, torch.Tensor) for v in value):
            cast[key] = tuple(v.float() if v.is_floating_point() else v for v in value)
        else:
            cast[key] = value
    return type(outputs)(**cast)


def _split_outputs(outputs, count: int):
    main, flipped = {}, {}
    for key, value in outputs.items():
        if isinstance(value, torch.Tensor) and value.ndim > 0 and value.shape[0] == 2 * count:
            main[key], flipped[key] = value[:count], value[count:]
        elif isinstance(value, tuple) and value and all(isinstance(v, torch.Tensor) for v in value):
            main[key] = tuple(v[:count] for v in value)
            flipped[key] = tuple(v[count:] for v in value)
    return type(outputs)(**main), type(outputs)(**flipped)


def _keypoint_names(config) -> list[str]:
    return [config.id2label[index] for index in range(len(config.id2label))]


def _check_image_type(image, index: int) -> None:
    """Raises `TypeError` naming ``inputs[index]`` unless it is a path, URL, PIL image, numpy array or torch tensor."""
    from PIL import Image

    if not isinstance(image, (str, os.PathLike, Image.Image, np.ndarray, torch.Tensor)):
        raise TypeError(
            f"inputs[{index}] has unsupported type {type(image).__name__}; expected an image file path, "
            "a URL, a PIL image, an (H, W, 3) numpy array or a torch tensor"
        )


def _whole_image_box(image, index: int = 0) -> list[float]:
    """``[0, 0, W, H]`` of the image exactly as the image processor reads it (same layout rules, via `load_rgb_image`;
    files arrive here already decoded and EXIF-oriented)."""
    from PIL import Image

    if isinstance(image, Image.Image):
        width, height = image.size
    else:
        height, width = load_rgb_image(image, index).shape[:2]
    return [0.0, 0.0, float(width), float(height)]


def _detect_people(detector, image, threshold: float) -> tuple[list[list[float]], np.ndarray]:
    """Person boxes (COCO xywh) from a transformers object-detection pipeline (its xyxy boxes are converted)."""
    if not hasattr(image, "convert"):  # numpy / torch: the processor's RGB reading, as uint8 for the detector
        from PIL import Image

        image = Image.fromarray(np.clip(np.rint(load_rgb_image(image, 0)), 0, 255).astype(np.uint8))
    detections = detector(image)
    boxes, scores = [], []
    for detection in detections:
        if detection.get("label") != "person" or detection.get("score", 0.0) < threshold:
            continue
        box = detection["box"]
        boxes.append([box["xmin"], box["ymin"], box["xmax"] - box["xmin"], box["ymax"] - box["ymin"]])
        scores.append(detection["score"])
    return boxes, np.asarray(scores, dtype=np.float32)


def register_pipeline() -> None:
    """Register the ``keypoint-detection`` task (idempotent; transformers 5.23 has no task of that name)."""
    from transformers import AutoModelForPoseEstimation
    from transformers.pipelines import PIPELINE_REGISTRY

    existing = PIPELINE_REGISTRY.supported_tasks.get("keypoint-detection")
    if existing is not None and existing.get("impl") is KeypointDetectionPipeline:
        return
    PIPELINE_REGISTRY.register_pipeline(
        "keypoint-detection",
        pipeline_class=KeypointDetectionPipeline,
        pt_model=AutoModelForPoseEstimation,
        type="image",
    )
