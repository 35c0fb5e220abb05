# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Model cards for hfpose models: Hub metadata (`ModelCardData` + `model-index`) and a body that tells the truth.

`make_model_card(model_dir, results=..., source=...)` reads the model's `config.json`, gathers what the card says
about it as plain data (strings, numbers, lists and dicts: no Markdown is written here) and renders the method's Jinja
template `<method>.jinja` with `hfpose.hub.card_templates.render_card` (templates: package data in
`hfpose/hub/templates/`; the layout and the sections every card shares are `_card.jinja` and its macros):

* metadata: `library_name="hfpose"`, `pipeline_tag="keypoint-detection"`, `datasets`, `license`, `tags`, and the
  evaluation results as `model-index` (`eval_results`: COCO AP / AP .5 / AP .75 / AR / AR .5, or MPII PCKh);
* body: the method and its paper (BibTeX), the input size, the coordinate convention, a usage snippet (pipeline and
  `from_pretrained`), the training recipe and data, and where the weights came from (for converted MMPose checkpoints:
  the original file name and URL and the tolerance the converter verified). Numbers reported by MMPose are labelled
  "reported by MMPose"; numbers measured by hfpose are labelled with the command that produced them.

`REFERENCE_RESULTS` holds the numbers MMPose publishes for every row of the top-down and bottom-up reference tables
(MMPose model zoo / the issue tables). They are published facts, not test fixtures. `scripts/generate_model_cards.py`
turns each row into `model_cards/generated/<name>.md`.

Metric names follow MMPose / hfpose's `CocoKeypointEvaluator` (`"AP"`, `"AP .5"`, `"AP .75"`, `"AR"`, `"AR .5"`,
fractions in [0, 1]) and `"PCKh@0.5"` / `"PCKh@0.1"` (fractions in [0, 1]; `compute_pckh` returns percent and is
divided by 100 here).
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from ..models import get_method, pose_methods
from ..models.pose_method import ReferenceResult
from .card_templates import default_template_dir, render_card

__all__ = [
    "REFERENCE_RESULTS",
    "ReferenceResult",
    "ResultSet",
    "METHODS",
    "default_template_dir",
    "find_reference",
    "mmpose_results_url",
    "normalize_results",
    "make_model_card",
    "reference_model_card",
    "reference_config",
]


# ------------------------------------------------------------------------------------------- methods and rows
# What a card says about each method (title, tags, template `<name>.jinja`, top-down or bottom-up) and MMPose's
# published numbers come from the method declarations (`hfpose/models/<method>/declaration_<method>.py`).
METHODS = MappingProxyType({method.model_type: method for method in pose_methods().values()})
REFERENCE_RESULTS: tuple[ReferenceResult, ...] = tuple(
    row for method in pose_methods().values() for row in method.reference_results
)


def mmpose_results_url(row: ReferenceResult) -> str:
    """GitHub folder of the MMPose config of `row` (its README lists the published results)."""
    ref = "v0.29.0" if row.mmpose_version == "0.x" else "main"
    return f"https://github.com/open-mmlab/mmpose/tree/{ref}/{row.mmpose_config.rsplit('/', 1)[0]}"


def find_reference(name: str) -> ReferenceResult:
    """The `REFERENCE_RESULTS` row called `name` (an MMPose config name).

    Raises:
        KeyError: naming the unknown row and listing the known ones.
    """
    for row in REFERENCE_RESULTS:
        if row.name == name:
            return row
    raise KeyError(f"no reference row named {name!r}; known rows: {[row.name for row in REFERENCE_RESULTS]}")


# ---------------------------------------------------------------------------------------------------- results
_METRIC_TYPES = {
    "AP": "AP",
    "AP .5": "AP50",
    "AP .75": "AP75",
    "AP (M)": "APm",
    "AP (L)": "APl",
    "AR": "AR",
    "AR .5": "AR50",
    "AR .75": "AR75",
    "AR (M)": "ARm",
    "AR (L)": "ARl",
    "PCKh@0.5": "PCKh@0.5",
    "PCKh@0.1": "PCKh@0.1",
}
_CARD_COCO_METRICS = ("AP", "AP .5", "AP .75", "AR", "AR .5")
_DATASETS = {
    "coco": {"dataset_type": "coco", "dataset_name": "COCO val2017", "dataset_split": "val2017", "label": "COCO"},
    "mpii": {"dataset_type": "mpii", "dataset_name": "MPII Human Pose val", "dataset_split": "val", "label": "MPII"},
}


@dataclass
class ResultSet:
    """Evaluation numbers of one model on one dataset, with where they came from.

    Attributes:
        dataset: `coco` or `mpii`.
        metrics: metric name (`_METRIC_TYPES` keys) → value in [0, 1].
        reported_by: `"MMPose"` (published numbers) or `"hfpose"` (measured by this library).
        command: the command that measured them (hfpose results).
        source_url: where MMPose publishes them.
        notes: evaluation protocol (boxes, flip test, ...).
    """

    dataset: str
    metrics: dict[str, float]
    reported_by: str = "hfpose"
    command: str | None = None
    source_url: str | None = None
    notes: str = ""
    split: str | None = None


def _load_json_or_mapping(results, what: str):
    if isinstance(results, (str, os.PathLike)):
        path = Path(results)
        if not path.is_file():
            raise FileNotFoundError(f"{what}: no such file {path}")
        return json.loads(path.read_text())
    return results


def _stats_to_metrics(stats: Mapping[str, Any]) -> tuple[str, dict[str, float]]:
    """hfpose evaluation stats → (dataset, card metrics). COCO: MMPose stat names; PCKh: percent → fraction."""
    if "PCK" in stats:
        metrics = {"PCKh@0.5": float(stats["PCK"]) / 100.0}
        if "PCK@0.1" in stats:
            metrics["PCKh@0.1"] = float(stats["PCK@0.1"]) / 100.0
        return "mpii", metrics
    if "AP" in stats:
        return "coco", {name: float(stats[name]) for name in _METRIC_TYPES if name in stats}
    raise ValueError(f"results stats have neither COCO 'AP' nor PCKh 'PCK' entries: {sorted(stats)}")


def _evaluate_command(record: Mapping[str, Any]) -> str:
    """The `scripts/evaluate.py` command line that reproduces an evaluation JSON written by that script."""
    parts = ["python", "scripts/evaluate.py", str(record.get("model_dir", "MODEL_DIR")), "--data-root", "DATA_ROOT"]
    if record.get("split") and record["split"] != "val2017":
        parts += ["--split", str(record["split"])]
    if record.get("bbox_file"):
        parts += ["--bbox-file", str(record["bbox_file"])]
    if record.get("flip_test") is False:
        parts.append("--no-flip-test")
    return shlex.join(parts)


def normalize_results(results) -> list[ResultSet]:
    """Turn the `results=` argument of `make_model_card` into `ResultSet`s.

    Accepted forms (a list mixes them):
        * a path to, or the dict of, an evaluation JSON written by `scripts/evaluate.py` / `hfpose evaluate`
          (`{"stats": {...}, "model_dir", "split", "bbox_file", "flip_test", optional "command"}`): measured by hfpose;
        * `{"reported_by": "MMPose" | "hfpose", "dataset": "coco" | "mpii", "metrics": {...}, optional "command",
          "source_url", "notes"}`;
        * a `ResultSet` or a `ReferenceResult` (reported by MMPose).

    Raises:
        ValueError: for an unknown dataset, a metric name not in `_METRIC_TYPES`, or a non-finite / out-of-range value.
        TypeError: for any other type.
    """
    if results is None:
        return []
    if isinstance(results, (str, os.PathLike, Mapping, ResultSet, ReferenceResult)):
        results = [results]
    out = []
    for index, item in enumerate(results):
        item = _load_json_or_mapping(item, f"results[{index}]")
        if isinstance(item, ResultSet):
            result = item
        elif isinstance(item, ReferenceResult):
            result = ResultSet(
                item.dataset, dict(item.metrics), "MMPose", source_url=mmpose_results_url(item), notes=item.notes
            )
        elif isinstance(item, Mapping) and "stats" in item:
            dataset, metrics = _stats_to_metrics(item["stats"])
            notes = "ground-truth boxes" if not item.get("bbox_file") else f"detections from {item['bbox_file']}"
            notes += ", flip test" if item.get("flip_test", True) else ", no flip test"
            result = ResultSet(
                dataset,
                metrics,
                "hfpose",
                item.get("command") or _evaluate_command(item),
                notes=notes,
                split=item.get("split"),
            )
        elif isinstance(item, Mapping) and "metrics" in item:
            result = ResultSet(
                str(item.get("dataset", "coco")),
                {k: float(v) for k, v in item["metrics"].items()},
                str(item.get("reported_by", "hfpose")),
                item.get("command"),
                item.get("source_url"),
                str(item.get("notes", "")),
                item.get("split"),
            )
        else:
            raise TypeError(
                f"results[{index}] must be an evaluation JSON (path or dict with 'stats' or 'metrics'), "
                f"a ResultSet or a ReferenceResult; got {type(item).__name__}"
            )
        if result.dataset not in _DATASETS:
            raise ValueError(f"results[{index}]: dataset must be one of {list(_DATASETS)}, got {result.dataset!r}")
        for name, value in result.metrics.items():
            if name not in _METRIC_TYPES:
                raise ValueError(f"results[{index}]: unknown metric {name!r}; expected one of {list(_METRIC_TYPES)}")
            if not (-1.0 <= value <= 1.0):  # COCOeval writes -1 for an empty area range
                raise ValueError(f"results[{index}]: metric {name!r} = {value} is not a fraction in [0, 1]")
        out.append(result)
    return out


def _eval_results(results: Sequence[ResultSet]) -> list[EvalResult]:
    entries = []
    for result in results:
        dataset = _DATASETS[result.dataset]
        names = [
            n for n in _METRIC_TYPES if n in result.metrics and (result.dataset != "coco" or n in _CARD_COCO_METRICS)
        ]
        for name in names:
            entries.append(
                EvalResult(
                    task_type="keypoint-detection",
                    task_name="Human pose estimation",
                    dataset_type=dataset["dataset_type"],
                    dataset_name=dataset["dataset_name"],
                    dataset_split=result.split or dataset["dataset_split"],
                    metric_type=_METRIC_TYPES[name],
                    metric_name=name,
                    metric_value=round(float(result.metrics[name]), 4),
                    source_name=(
                        ("MMPose model zoo" if result.reported_by.lower() == "mmpose" else "hfpose")
                        if result.source_url
                        else None
                    ),
                    source_url=result.source_url,
                )
            )
    return entries


def _results_context(results: Sequence[ResultSet]) -> list[dict[str, Any]]:
    """What `_results.jinja` shows of each result set: dataset name, provenance, metrics in `_METRIC_TYPES` order."""
    return [
        {
            "dataset_name": _DATASETS[result.dataset]["dataset_name"],
            "reported_by_mmpose": result.reported_by.lower() == "mmpose",
            "command": result.command,
            "notes": result.notes,
            "metrics": [(name, result.metrics[name]) for name in _METRIC_TYPES if name in result.metrics],
            "source_url": result.source_url,
        }
        for result in results
    ]


# ------------------------------------------------------------------------------------------------ config reading
_RESNET_DEPTHS = {(3, 4, 6, 3): 50, (3, 4, 23, 3): 101, (3, 8, 36, 3): 152}


def _backbone_name(config: Mapping[str, Any]) -> str:
    backbone = config.get("backbone_config") or {}
    model_type = backbone.get("model_type", "")
    if model_type == "resnet":
        depth = _RESNET_DEPTHS.get(tuple(backbone.get("depths", ())))
        return f"ResNet-{depth}" if depth else f"ResNet (depths {list(backbone.get('depths', []))})"
    if "mobilenet" in model_type:
        return "MobileNetV2"
    if "hrnet" in model_type:
        sizes = backbone.get("hidden_sizes") or [32]
        return f"HRNet-w{sizes[0]}"
    return model_type or "unknown backbone"


def _read_config(model) -> dict[str, Any]:
    """`config.json` of a model directory, a `PreTrainedConfig`, or a config dict → plain dict."""
    if isinstance(model, Mapping):
        return dict(model)
    if hasattr(model, "to_dict") and hasattr(model, "model_type"):
        return model.to_dict()
    path = Path(model)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"model_dir {path} has no config.json (not a saved hfpose model directory)")
    return json.loads((path / "config.json").read_text())


def _recipe_context(recipe_path: Path | None, display: str | None) -> dict[str, Any] | None:
    """The training recipe `_training.jinja` tabulates: its YAML keys and how to name the file; None without one."""
    if recipe_path is None or not recipe_path.is_file():
        return None
    import yaml

    return {"display": display or str(recipe_path), "settings": yaml.safe_load(recipe_path.read_text()) or {}}


def _find_recipe(name: str) -> Path | None:
    """The shipped recipe whose MMPose config name is ``name`` (package data, so also found in an installed wheel)."""
    from ..training.catalog import list_recipes

    matches = [entry.path for entry in list_recipes() if entry.config_name == name]
    return matches[0] if matches else None


def _recipe_display(recipe_path: Path | None) -> str | None:
    """How the card names a recipe file: a shipped recipe as `configs/<method>/<name>.yaml` (the path the README
    uses), a file of the checkout relative to it, any other file as given."""
    if recipe_path is None:
        return None
    from ..training.catalog import recipes_root

    try:
        return "configs/" + recipe_path.resolve().relative_to(recipes_root().resolve()).as_posix()
    except ValueError:
        pass
    try:
        return str(recipe_path.resolve().relative_to(Path(__file__).resolve().parents[3]))
    except ValueError:
        return str(recipe_path)


# ------------------------------------------------------------------------------------------------------ cards
_SOURCE_KEYS = (
    "type",
    "checkpoint_url",
    "checkpoint_file",
    "mmpose_config",
    "mmpose_version",
    "verified_atol",
    "verified_against",
    "recipe",
    "command",
    "notes",
)


def _provenance_context(source: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Where the weights came from, as `_provenance.jinja` shows it (`source` as `make_model_card` documents it)."""
    if not source:
        return None
    kind = source.get("type", "mmpose" if source.get("checkpoint_url") or source.get("checkpoint_file") else "trained")
    url = source.get("checkpoint_url")
    atol = source.get("verified_atol")
    return {
        "converted": kind == "mmpose",
        "file_name": source.get("checkpoint_file") or (url.rsplit("/", 1)[-1] if url else None),
        "url": url,
        "mmpose_config": source.get("mmpose_config"),
        "mmpose_version": source.get("mmpose_version") or "",
        "verified_atol": None if atol is None else f"{float(atol):g}",
        "verified_against": source.get("verified_against", "MMPose's own outputs"),
        "command": source.get("command"),
        "recipe": source.get("recipe"),
        "notes": source.get("notes"),
    }


def make_model_card(
    model_dir,
    results=None,
    source=None,
    repo_id: str | None = None,
    name: str | None = None,
    template_dir: str | Path | None = None,
    recipe: str | Path | None = None,
    license: str = "apache-2.0",
    remote_code: bool = False,
) -> ModelCard:
    """Build the model card of a saved hfpose model.

    Args:
        model_dir: a directory written by `save_pretrained` (its `config.json` is read), a `PreTrainedConfig`, or a
            config dict.
        results: evaluation results, see `normalize_results` (an evaluation JSON path/dict from
            `scripts/evaluate.py`, a `{"reported_by", "dataset", "metrics"}` dict, a `ReferenceResult`, or a list).
        source: where the weights came from. Converted MMPose checkpoints: `{"type": "mmpose", "checkpoint_url",
            "checkpoint_file", "mmpose_config", "mmpose_version", "verified_atol", "verified_against"}`; trained
            models: `{"type": "trained", "recipe", "command"}`.
        repo_id: Hub repository used in the usage snippet (default: `USER/<name>`).
        name: model name (`model-index` name and title); default: the directory name.
        template_dir: folder holding `<method>.jinja` (default `default_template_dir()`); the shared sections it
            extends or imports are looked up there first, then in the shipped templates.
        recipe: training recipe YAML shown in the card (default: `configs/*/<name>.yaml` when it exists).
        license: SPDX-style license id of the weights (MMPose's checkpoints are Apache-2.0).
        remote_code: say in the card that the repository carries `trust_remote_code` files.

    Returns:
        A `huggingface_hub.ModelCard`; `card.save(path)` writes it, `ModelCard.load(path)` reads it back.

    Raises:
        FileNotFoundError: `model_dir` without `config.json`, a missing template or results file.
        ValueError: a config whose `model_type` is not an hfpose method, or bad results (see `normalize_results`).
    """
    config = _read_config(model_dir)
    model_type = config.get("model_type")
    if model_type not in METHODS:
        raise ValueError(
            f"model_dir: model_type {model_type!r} is not an hfpose pose model; expected one of {sorted(METHODS)}"
        )
    method = METHODS[model_type]
    if name is None:
        name = Path(model_dir).name if isinstance(model_dir, (str, os.PathLike)) else method.name
    repo_id = repo_id or f"USER/{name}"
    template_dir = Path(template_dir) if template_dir is not None else default_template_dir()
    template_path = template_dir / f"{method.name}.jinja"
    if not template_path.is_file():
        raise FileNotFoundError(f"no model card template {template_path} (set template_dir or HFPOSE_MODEL_CARDS)")
    result_sets = normalize_results(results)
    dataset = config.get("dataset") or "coco"
    recipe_path = Path(recipe) if recipe is not None else _find_recipe(name)
    source = dict(source) if source else None
    if source is not None:
        unknown = sorted(set(source) - set(_SOURCE_KEYS))
        if unknown:
            raise ValueError(f"source has unknown keys {unknown}; expected some of {list(_SOURCE_KEYS)}")
    width, height = config.get("input_size", (0, 0))
    id2label = config.get("id2label") or {}
    return render_card(
        template_path.name,
        _card_data(method, name, license, dataset, result_sets),
        template_dir,
        model_name=name,
        repo_id=repo_id,
        method_name=method.title,
        top_down=not method.bottom_up,
        remote_code=remote_code,
        backbone_name=_backbone_name(config),
        dataset_label=_DATASETS.get(dataset, {"label": dataset})["label"],
        input_width=width,
        input_height=height,
        num_keypoints=len(id2label),
        keypoint_names=[id2label[k] for k in sorted(id2label, key=int)],
        results=_results_context(result_sets),
        recipe=_recipe_context(recipe_path, _recipe_display(recipe_path)),
        mmpose_config=(source or {}).get("mmpose_config"),
        provenance=_provenance_context(source),
    )


def _card_data(method, name: str, license: str, dataset: str, result_sets: Sequence[ResultSet]) -> ModelCardData:
    """The card's front matter: library, task, license, datasets, tags and the `model-index` of the results."""
    return ModelCardData(
        library_name="hfpose",
        pipeline_tag="keypoint-detection",
        license=license,
        datasets=sorted({dataset, *(r.dataset for r in result_sets)}),
        tags=[
            "pose-estimation",
            "human-pose-estimation",
            "bottom-up" if method.bottom_up else "top-down",
            *method.tags,
            "mmpose",
            "hfpose",
        ],
        metrics=sorted({_METRIC_TYPES[n] for r in result_sets for n in r.metrics}) or None,
        model_name=name,
        eval_results=_eval_results(result_sets) or None,
    )


def reference_model_card(
    row: ReferenceResult | str,
    released_url: str | None = None,
    repo_id: str | None = None,
    template_dir: str | Path | None = None,
    verified_atol: float | None = None,
    remote_code: bool = True,
) -> ModelCard:
    """The card of one `REFERENCE_RESULTS` row, built from the hfpose config of that row (no weights needed).

    Args:
        row: a `ReferenceResult` or its name.
        released_url: URL of MMPose's released checkpoint (the `released_url` of MMPose's model zoo;
            `scripts/generate_model_cards.py` reads it from the checkpoint manifests);
            None when MMPose's file is not in the manifests.
        repo_id: default `hfpose/<name>`.
        verified_atol: tolerance the converter verified against MMPose's outputs for this layout, if any.
    """
    if isinstance(row, str):
        row = find_reference(row)
    config = reference_config(row)
    source = {"type": "mmpose", "mmpose_config": row.mmpose_config, "mmpose_version": row.mmpose_version}
    if released_url:
        source["checkpoint_url"] = released_url
    if verified_atol is not None:
        source["verified_atol"] = verified_atol
        source["verified_against"] = "MMPose's outputs on the golden fixtures (random weights in this layout)"
    return make_model_card(
        config,
        results=row,
        source=source,
        repo_id=repo_id or f"hfpose/{row.name}",
        name=row.name,
        template_dir=template_dir,
        remote_code=remote_code,
    )


def reference_config(row: ReferenceResult) -> dict[str, Any]:
    """The hfpose config dict (as `config.json`) of a reference row, built by its method's `build_config`."""
    config = get_method(row.method).build_config(row.backbone, row.dataset)
    data = config.to_dict()
    data["input_size"] = list(row.input_size)
    return data
