# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Training recipes: one flat YAML file per MMPose config row, no inheritance.

A recipe is a flat mapping of the keys of `TrainingRecipe`; `model` is the one nested mapping (keyword arguments of the
method's config class). Unknown keys are errors that name the key, so a typo never silently falls back to a default.
Command-line overrides are ``key=value`` strings whose values are parsed as YAML (``lr=5e-4``,
``milestones=[2,3]``, ``model.num_deconv_layers=2``).
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["TrainingRecipe", "RecipeError"]


class RecipeError(ValueError):
    """A recipe file or override is malformed (unknown key, wrong type, missing file)."""


@dataclass
class TrainingRecipe:
    """Every knob of a training run. Defaults follow MMPose's RLE ResNet-50 COCO 256x192 recipe."""

    # what to train
    method: str = "rle"
    backbone: str = (
        "resnet50"  # resnet50 / resnet101 / resnet152 / mobilenet_v2, or "custom" with model.backbone_config
    )
    model: dict[str, Any] = field(default_factory=dict)
    init_from: str | None = None  # hfpose model dir or MMPose checkpoint (.pth); backbone (+ head where it fits)
    pretrained_backbone: str | None = (
        None  # a transformers backbone checkpoint (e.g. microsoft/resnet-50); needs the Hub
    )

    # data
    dataset: str = "coco"  # "coco" or "mpii"
    data_root: str = "../shared/data/coco-mini"
    train_split: str = "train2017"
    val_split: str = "val2017"
    train_ann_file: str | None = None  # COCO-format json (absolute or relative to data_root); its categories name K
    val_ann_file: str | None = None
    train_image_dir: str | None = None  # images of train_ann_file (absolute or relative to data_root); default split
    val_image_dir: str | None = None
    keypoint_set: str | None = None  # "coco" / "mpii" / a keypoint-set file; default: train_ann_file's categories
    train_dataset: str | None = None  # `datasets` keypoints (save_to_disk dir or imagefolder): data/hf_datasets.py
    val_dataset: str | None = None  # (exported to COCO format under output_dir/data; overrides the *_ann_file keys)
    dataset_cache: bool = True  # parse the training json once per machine into an Arrow cache ($HFPOSE_CACHE)
    val_headbox_file: str | None = None  # MPII: official mpii_gt_val.mat head boxes (relative to data_root)
    bbox_file: str | None = None  # detection results json for validation; None = ground-truth boxes
    input_size: list[int] = field(default_factory=lambda: [192, 256])  # (width, height)
    use_udp: bool = False
    padding: float = 1.25
    # augmentation (MMPose RandomFlip / RandomHalfBody / RandomBBoxTransform defaults)
    flip_prob: float = 0.5
    half_body_prob: float = 0.3
    shift_prob: float = 0.3
    shift_factor: float = 0.16
    scale_prob: float = 1.0
    scale_factor: list[float] = field(default_factory=lambda: [0.5, 1.5])
    rotate_prob: float = 0.6
    rotate_factor: float = 80.0

    # optimisation (MMPose: Adam, LinearLR warm-up over 500 iterations, MultiStepLR by epoch)
    epochs: int = 210
    batch_size: int = 64  # per process
    base_batch_size: int = 512  # total batch the lr was tuned for (64 x 8 GPUs); lr scales linearly to the actual one
    auto_scale_lr: bool = True
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    warmup_iters: int = 500
    warmup_ratio: float = 0.001
    milestones: list[int] = field(default_factory=lambda: [170, 200])
    gamma: float = 0.1
    max_grad_norm: float | None = None
    gradient_accumulation_steps: int = 1
    mixed_precision: str = "no"
    seed: int = 0
    num_workers: int = 2
    max_steps: int | None = None  # stop early after this many optimizer steps (smoke runs)
    skip_nonfinite: bool = False  # skip (and log) a batch whose loss is NaN/inf instead of stopping the run
    distributed_timeout: int = 1800  # seconds a process waits for the others in a collective before failing

    # evaluation and bookkeeping
    val_interval: int = 10
    checkpoint_interval: int = 10
    checkpoint_steps: int | None = (
        None  # also checkpoint every N optimizer steps, mid-epoch (with the sampler position)
    )
    keep_checkpoints: int = 3
    log_interval: int = 50
    flip_test: bool = True
    shift_coords: bool = True
    score_mode: str = "bbox_keypoint"
    nms_mode: str = "oks_nms"
    nms_thr: float = 0.9
    output_dir: str = "outputs/train"

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "recipe") -> TrainingRecipe:
        """Build a recipe from a mapping.

        Raises:
            RecipeError: for a key that is not a recipe field (with the closest valid names) or a value of the wrong
                type.
        """
        if not isinstance(values, dict):
            raise RecipeError(f"{source}: a recipe must be a mapping of keys to values, got {type(values).__name__}")
        names = cls.field_names()
        for key in values:
            if key not in names:
                close = difflib.get_close_matches(str(key), names, n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise RecipeError(f"{source}: unknown recipe key {key!r}{hint}")
        values = {key: _coerce(key, value, source) for key, value in values.items()}
        recipe = cls(**values)
        recipe._validate(source)
        return recipe

    @classmethod
    def from_yaml(cls, path: str | Path, overrides: list[str] | None = None) -> TrainingRecipe:
        """Read a recipe file and apply ``key=value`` overrides.

        Raises:
            RecipeError: if the file is missing or not valid YAML, or a key is unknown.
        """
        path = Path(path)
        if not path.is_file():
            raise RecipeError(f"recipe file not found: {path}")
        try:
            values = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as error:
            raise RecipeError(f"{path}: not valid YAML: {error}") from None
        values = dict(values) if isinstance(values, dict) else values
        if isinstance(values, dict):
            values = apply_overrides(values, overrides or [])
        return cls.from_dict(values, source=str(path))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_yaml(self, path: str | Path) -> None:
        Path(path).write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))

    def scaled_lr(self, total_batch_size: int) -> float:
        """Linear lr scaling (Goyal et al., 2017) from `base_batch_size` to the actual total batch, as MMPose's
        ``auto_scale_lr``."""
        if not self.auto_scale_lr:
            return self.lr
        return self.lr * total_batch_size / self.base_batch_size

    def _validate(self, source: str) -> None:
        checks = {
            "epochs": self.epochs >= 1,
            "batch_size": self.batch_size >= 1,
            "lr": self.lr > 0,
            "input_size": len(self.input_size) == 2 and all(int(v) > 0 for v in self.input_size),
            "dataset": self.dataset in ("coco", "mpii"),
            "optimizer": self.optimizer in ("adam", "adamw", "sgd"),
            "milestones": all(isinstance(m, int) for m in self.milestones),
            "gradient_accumulation_steps": self.gradient_accumulation_steps >= 1,
            "score_mode": self.score_mode in ("bbox_keypoint", "bbox_rle", "bbox"),
            "nms_mode": self.nms_mode in ("oks_nms", "none"),
            "checkpoint_steps": self.checkpoint_steps is None or self.checkpoint_steps >= 1,
            "checkpoint_interval": self.checkpoint_interval >= 1,
            "distributed_timeout": self.distributed_timeout >= 1,
        }
        for key, ok in checks.items():
            if not ok:
                raise RecipeError(f"{source}: invalid value for {key!r}: {getattr(self, key)!r}")
        if not isinstance(self.model, dict):
            raise RecipeError(f"{source}: 'model' must be a mapping of config keyword arguments")


_FLOAT_FIELDS = {f.name for f in dataclasses.fields(TrainingRecipe) if f.type in ("float", "float | None")}
_INT_FIELDS = {f.name for f in dataclasses.fields(TrainingRecipe) if f.type in ("int", "int | None")}
_FLOAT_LIST_FIELDS = {"scale_factor"}


def _coerce(key: str, value: Any, source: str) -> Any:
    """YAML 1.1 reads ``5e-4`` as a string: turn numeric strings into the field's number type.

    Raises:
        RecipeError: if a number field holds something that is not a number.
    """
    try:
        if key in _FLOAT_FIELDS and value is not None and not isinstance(value, bool):
            return float(value)
        if key in _INT_FIELDS and value is not None and not isinstance(value, bool):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(float(value)) if isinstance(value, str) else int(value)
        if key in _FLOAT_LIST_FIELDS and isinstance(value, (list, tuple)):
            return [float(v) for v in value]
    except (TypeError, ValueError):
        raise RecipeError(f"{source}: {key!r} must be a number, got {value!r}") from None
    return value


def apply_overrides(values: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key=value`` (``model.key=value`` for the model mapping) overrides; values are parsed as YAML.

    Raises:
        RecipeError: for an override without ``=``.
    """
    values = dict(values)
    for override in overrides:
        if "=" not in override:
            raise RecipeError(f"override {override!r} is not of the form key=value")
        key, raw = override.split("=", 1)
        value = yaml.safe_load(raw)
        if key.startswith("model."):
            model = dict(values.get("model") or {})
            model[key[len("model.") :]] = value
            values["model"] = model
        else:
            values[key] = value
    return values
