# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""The training recipes shipped inside the package, addressable by a short name.

The YAML files live in ``hfpose/recipes/<method>/<MMPose config name>.yaml`` (package data, so they are in the wheel,
the sdist and an editable install alike; the repository's ``configs/`` is a link to that folder). Each recipe has a
short name built from its content: ``<method>-<backbone>-<dataset>-<height>x<width>``, e.g.
``rle-res50-coco-256x192`` for ``rle/td-reg_res50_rle-8xb64-210e_coco-256x192.yaml``; the demo recipe is
``demo-rle-tiny-coco-mini``. `resolve_recipe` accepts a short name, an MMPose config name (the file stem) or a path.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

__all__ = ["RecipeEntry", "format_recipe_table", "list_recipes", "resolve_recipe"]

_BACKBONE_NAMES = {"mobilenet_v2": "mobilenetv2", "custom": "tiny"}


@dataclass(frozen=True)
class RecipeEntry:
    """One shipped recipe.

    Attributes:
        name: the short name (``rle-res50-coco-256x192``).
        config_name: the MMPose config name, i.e. the file stem (``td-reg_res50_rle-8xb64-210e_coco-256x192``).
        path: the YAML file inside the installed package.
        method, backbone, dataset: the recipe's keys of those names.
        input_size: ``(width, height)`` in pixels.
        reference: MMPose's published metrics for this row (``{"AP": 0.706}``), empty when it has none (the demo).
    """

    name: str
    config_name: str
    path: Path
    method: str
    backbone: str
    dataset: str
    input_size: tuple[int, int]
    reference: dict


def _short_name(folder: str, stem: str, values: dict) -> str:
    if folder == "demo":
        return "demo-" + stem.replace("_", "-")
    method = str(values.get("method", "")).replace("_", "-")  # debias_ipr -> debias-ipr
    backbone = str(values.get("backbone", ""))
    backbone = _BACKBONE_NAMES.get(backbone, backbone.replace("resnet", "res").replace("hrnet_", ""))
    width, height = values.get("input_size", [0, 0])
    return f"{method}-{backbone}-{values.get('dataset', 'coco')}-{height}x{width}"


def _reference(stem: str) -> dict:
    from ..models import pose_methods  # MMPose's published numbers live in the method declarations

    for method in pose_methods().values():
        for row in method.reference_results:
            if row.name in (stem, f"associative_embedding_{stem}"):
                return dict(row.metrics)
    return {}


def recipes_root() -> Path:
    """The installed ``hfpose/recipes`` folder."""
    return Path(str(resources.files("hfpose") / "recipes"))


def list_recipes() -> list[RecipeEntry]:
    """Every shipped recipe, sorted by method folder and file name."""
    entries = []
    for path in sorted(recipes_root().glob("*/*.yaml")):
        values = yaml.safe_load(path.read_text()) or {}
        width, height = values.get("input_size", [0, 0])
        entries.append(
            RecipeEntry(
                name=_short_name(path.parent.name, path.stem, values),
                config_name=path.stem,
                path=path,
                method=str(values.get("method", "")),
                backbone=str(values.get("backbone", "")),
                dataset=str(values.get("dataset", "coco")),
                input_size=(int(width), int(height)),
                reference=_reference(path.stem),
            )
        )
    return entries


def resolve_recipe(name_or_path: str | Path) -> Path:
    """The YAML file of a recipe given by short name, MMPose config name, or file path.

    Raises:
        FileNotFoundError: for anything else, listing the closest short names and pointing at ``hfpose recipes``.
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    text = str(name_or_path)
    key = text.removesuffix(".yaml")
    entries = list_recipes()
    for entry in entries:
        if key in (
            entry.name,
            entry.config_name,
            f"{entry.path.parent.name}/{entry.config_name}",
            f"configs/{entry.path.parent.name}/{entry.config_name}",
        ):
            return entry.path
    import difflib

    close = difflib.get_close_matches(key, [e.name for e in entries] + [e.config_name for e in entries], n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise FileNotFoundError(f"no recipe file or shipped recipe named {text!r}{hint} (`hfpose recipes` lists them)")


def format_recipe_table(entries: list[RecipeEntry] | None = None) -> str:
    """A plain-text table: short name, MMPose config name, input size (H x W), MMPose's published result."""
    entries = list_recipes() if entries is None else entries
    rows = [("name", "MMPose config", "input", "MMPose result")]
    for entry in entries:
        result = ", ".join(f"{metric} {value:.3f}" for metric, value in entry.reference.items()) or "-"
        rows.append((entry.name, entry.config_name, f"{entry.input_size[1]}x{entry.input_size[0]}", result))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths)) + "  " + row[3] for row in rows
    )
