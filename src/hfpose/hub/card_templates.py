# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""The one renderer of every card hfpose writes: Jinja templates in `hfpose/hub/templates/` (package data).

Every piece of Markdown in a card comes from a template; Python modules (`model_card.py`, `space.py`,
`remote_code.py`) only gather the data (strings, numbers, lists, dicts) and call `render_card` (a whole card, front
matter included) or `render_template` (a section). The templates:

* `<method>.jinja` (`PoseMethod.name`): a model card; extends `_card.jinja` and fills its blocks `method`, `training`
  and `citations`;
* `_card.jinja`: the layout every model card shares; its sections come from the macros of `_results.jinja`,
  `_usage.jinja`, `_conventions.jinja`, `_training.jinja` (recipe table, shared training text) and
  `_provenance.jinja`; `_citations.jinja` and `_integral_head.jinja` hold text several methods share;
* `space_card.jinja`: the README of the demo Space; `_remote_code_requirements.jinja`: the section `push` appends to
  a model card when the repository carries remote code.

A folder given as `template_dir` (or `$HFPOSE_MODEL_CARDS`) is searched first and the shipped templates second, so
a folder that holds only `rle.jinja` still extends the shipped `_card.jinja`.

Rendering (`jinja2.Environment`): `trim_blocks` and `lstrip_blocks` (a line holding only a `{% ... %}` tag leaves
nothing in the output), no trailing newline kept (as `huggingface_hub.RepoCard.from_template`), no HTML escaping,
`StrictUndefined` (a variable the template uses but the caller did not pass is a `ValueError` naming it, not an
empty string).
Filters: `metric` (see `format_metric`).
"""

from __future__ import annotations

import functools
import os
from importlib import resources
from pathlib import Path

__all__ = ["default_template_dir", "format_metric", "package_template_dir", "render_card", "render_template"]


def package_template_dir() -> Path:
    """The templates shipped inside the package (`hfpose/hub/templates/`, package data found with
    `importlib.resources`, so a wheel, `pip install --user` and an editable install all find them)."""
    return Path(str(resources.files(__package__) / "templates"))


def default_template_dir() -> Path:
    """`$HFPOSE_MODEL_CARDS` if set, else `package_template_dir()`."""
    if os.environ.get("HFPOSE_MODEL_CARDS"):
        return Path(os.environ["HFPOSE_MODEL_CARDS"])
    return package_template_dir()


def format_metric(value: float) -> str:
    """The `metric` filter: a metric fraction as cards show it, three decimals (`0.7064` -> `"0.706"`)."""
    return f"{float(value):.3f}"


@functools.lru_cache(maxsize=8)
def _environment(template_dir: str):
    try:
        import jinja2
    except ImportError:  # huggingface_hub treats it as optional too
        raise ImportError("hfpose's model cards are Jinja templates: `pip install jinja2`") from None
    folders = [template_dir]
    if Path(template_dir).resolve() != package_template_dir().resolve():
        folders.append(str(package_template_dir()))
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,
    )
    environment.filters["metric"] = format_metric
    return environment


def render_template(template: str, template_dir: str | Path | None = None, **context) -> str:
    """Render the template file `template` (e.g. `"rle.jinja"`) with `context`.

    Args:
        template: file name of the template, looked up in `template_dir` first, then in `package_template_dir()`.
        template_dir: default `default_template_dir()`.
        context: the template's variables (every variable it uses must be given).

    Raises:
        FileNotFoundError: no template `template` (or a template it includes) in either folder.
        ValueError: the template uses a variable that `context` lacks (names it).
    """
    import jinja2

    folder = str(Path(template_dir) if template_dir is not None else default_template_dir())
    try:
        return _environment(folder).get_template(template).render(**context)
    except jinja2.TemplateNotFound as error:
        raise FileNotFoundError(f"no card template {error.name!r} in {folder} or {package_template_dir()}") from None
    except jinja2.UndefinedError as error:
        raise ValueError(f"card template {template!r}: {error.message}; pass it to the renderer") from None


def render_card(template: str, card_data, template_dir: str | Path | None = None, **context):
    """A whole card: `card_data` (a `huggingface_hub.CardData`) becomes the template's `card_data` (its YAML, the
    front matter between `---` lines), `context` the other variables (see `render_template`).

    Returns:
        A `huggingface_hub.ModelCard` for `ModelCardData`, a `SpaceCard` for `SpaceCardData` (`card.content` is the
        file text; `card.save(path)` writes it).
    """
    from huggingface_hub import ModelCard, SpaceCard, SpaceCardData

    card_class = SpaceCard if isinstance(card_data, SpaceCardData) else ModelCard
    return card_class(render_template(template, template_dir, card_data=card_data.to_yaml(), **context))
