# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""What the rest of hfpose needs to know about one pose-estimation method, as data.

Every method folder `models/<method>/` holds one `declaration_<method>.py` with a `METHOD = PoseMethod(...)`;
`hfpose.models` collects them into the one index (`pose_methods()`) that the training loop, the MMPose converter, the
model cards, the ONNX export, the CLI and the benchmark read instead of keeping their own lists. Adding a method is a
new folder (configuration, modelling, conversion, declaration) plus its recipes and tests.

This module imports no model: a declaration imports its own method's classes, nothing else does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = ["FAMILIES", "PoseMethod", "ReferenceResult", "bottomup_reference", "topdown_reference"]

# `pose_family` of a config class: how its outputs are produced and decoded.
#   "regression": coordinates from pooled features (DeepPose, RLE); top-down image processor; compiled by default.
#   "integral": soft-argmax over heatmaps (IPR, DSNT, Debias-IPR); top-down image processor; onnxruntime by default
#   (eager without it; never the frozen Inductor graph).
#   "bottom-up": heatmaps + associative-embedding tags for the whole image; bottom-up image processor.
FAMILIES = ("regression", "integral", "bottom-up")


@dataclass(frozen=True)
class ReferenceResult:
    """One row of MMPose's published results.

    Attributes:
        name: MMPose config name (also the card file name and the suggested repo name).
        method: `PoseMethod.name` of the row (`deeppose`, `rle`, `ipr`, `dsnt`, `debias_ipr`, `ae_hrnet`, ...).
        backbone: `resnet50/101/152`, `mobilenetv2`, or the HRNet width `w32`/`w48`.
        dataset: `coco` or `mpii`.
        input_size: `(width, height)` of the network input in pixels.
        metrics: metric name → value (fractions in [0, 1]).
        mmpose_config: the MMPose config that produced the number (path in open-mmlab/mmpose).
        mmpose_version: `1.x` or `0.x` (the bottom-up UDP numbers are MMPose 0.x's).
    """

    name: str
    method: str
    backbone: str
    dataset: str
    input_size: tuple[int, int]
    metrics: Mapping[str, float]
    mmpose_config: str
    mmpose_version: str = "1.x"
    notes: str = ""


@dataclass(frozen=True)
class PoseMethod:
    """The declaration of one method.

    Attributes:
        name: the method's short name: recipe `method:`, `hfpose convert --method`, card template
            `<name>.jinja`.
        config_class / model_class: the `PreTrainedConfig` / `...ForPoseEstimation` pair (registered with `AutoConfig`
            and `AutoModelForPoseEstimation`); `config_class.pose_family` is one of `FAMILIES`.
        codec: name of the `hfpose.codecs` class that encodes the method's training targets and decodes its outputs.
        convert_state_dict: `(checkpoint, config, strict=True) -> state dict`, the MMPose converter
            (`convert_mmpose_<method>.py`); `strict=False` renames what it can and skips the key / shape check.
        build_config: `(backbone, dataset) -> config` of MMPose's released models of this method (backbone
            `resnet50`, `mobilenetv2`, HRNet `w32`, ...).
        title / tags: what a model card calls the method and the Hub tags it adds.
        reference_results: MMPose's published numbers for the method (one card each).
        recipe_folder: folder of the method's training recipes under `configs/`.
        head_output: `outputs -> tensor` comparable with MMPose's raw head output (`convert --reference`), or None.
        onnx_output_names: the top-down outputs `hfpose.onnx` exports; None for bottom-up (every tensor).
        score_mode: default COCO rescoring (`bbox_keypoint`, `bbox_rle`, `bbox`) of `hfpose evaluate`.
        output_class: the model's output dataclass (what `hfpose.onnx.OnnxPoseModel` rebuilds for bottom-up models).
        mmpose_checkpoints: `{MMPose config name: backbone}` of released checkpoints the converter is tested on whose
            name does not already say the backbone in `reference_results` terms (the bottom-up ones).
    """

    name: str
    config_class: type
    model_class: type
    codec: str
    convert_state_dict: Callable
    build_config: Callable
    title: str
    tags: tuple[str, ...]
    recipe_folder: str
    reference_results: tuple[ReferenceResult, ...] = ()
    head_output: Callable | None = None
    onnx_output_names: tuple[str, ...] | None = ("keypoints", "scores")
    score_mode: str = "bbox_keypoint"
    output_class: type | None = None
    mmpose_checkpoints: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f"{self.config_class.__name__}.pose_family must be one of {FAMILIES}, got {self.family!r}")
        for row in self.reference_results:
            if row.method != self.name:
                raise ValueError(f"reference row {row.name!r} names method {row.method!r}, declared in {self.name!r}")

    @property
    def model_type(self) -> str:
        """`config_class.model_type`, e.g. `hfpose_rle`."""
        return self.config_class.model_type

    @property
    def family(self) -> str:
        """`config_class.pose_family`: "regression", "integral" or "bottom-up"."""
        return getattr(self.config_class, "pose_family", None)

    @property
    def bottom_up(self) -> bool:
        """Whether the method finds every person in the image (bottom-up image processor) instead of one per box."""
        return self.family == "bottom-up"


_COCO_TOPDOWN_NOTE = "COCO val2017, person detector with 56.4 human AP, flip test"
_MPII_NOTE = "MPII val, ground-truth boxes, flip test"
_BOTTOMUP_NOTE = "COCO val2017, 512x512, single scale, flip test"
_BOTTOMUP_FOLDER = "configs/body/2d_kpt_sview_rgb_img/associative_embedding/coco"


def topdown_reference(
    name: str,
    method: str,
    backbone: str,
    dataset: str,
    input_size: tuple[int, int],
    metric: str,
    value: float,
    folder: str,
) -> ReferenceResult:
    """A top-down `ReferenceResult` (MMPose 1.x): one metric (`AP` or `PCKh@0.5`), config `<folder>/<name>.py`."""
    note = _COCO_TOPDOWN_NOTE if dataset == "coco" else _MPII_NOTE
    return ReferenceResult(
        name, method, backbone, dataset, input_size, {metric: value}, f"{folder}/{name}.py", "1.x", note
    )


def bottomup_reference(
    name: str, method: str, backbone: str, ap: float, ap50: float, ap75: float, ar: float, ar50: float
) -> ReferenceResult:
    """A bottom-up UDP `ReferenceResult` (MMPose 0.x, COCO 512x512): AP, AP .5, AP .75, AR, AR .5."""
    metrics = {"AP": ap, "AP .5": ap50, "AP .75": ap75, "AR": ar, "AR .5": ar50}
    config = f"{_BOTTOMUP_FOLDER}/{name[len('associative_embedding_') :]}.py"
    return ReferenceResult(name, method, backbone, "coco", (512, 512), metrics, config, "0.x", _BOTTOMUP_NOTE)
