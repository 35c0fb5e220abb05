# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""The demo page of a pushed model as a Gradio Space, beside the model repository (``hfpose push --space``).

`write_space(staging_dir, model_repo_id)` writes:

* ``app.py``: builds `hfpose.app.build_demo` for the model (``demo``, as Spaces expect) and launches it;
  ``HFPOSE_MODEL`` in the environment points it at another repository or a local directory;
* ``hfpose_space/``: verbatim copies of `hfpose.app` and the hfpose modules it imports (drawing, keypoint metadata,
  video tracking and smoothing), in hfpose's own package layout so their relative imports hold. The model itself
  loads through the model repository's remote code (`hfpose.hub.remote_code`), so the Space runs without hfpose;
* ``requirements.txt``: the third-party packages of those modules and of the remote code (Gradio comes with the
  Space's ``sdk``);
* ``README.md``: the Space card, front matter ``sdk: gradio``, ``sdk_version`` (the Gradio installed here),
  ``app_file: app.py``, ``models: [model_repo_id]`` (`huggingface_hub.SpaceCardData`).

`push_space` uploads them as one commit with ``HfApi.create_repo(repo_type="space", space_sdk="gradio")`` and
``HfApi.create_commit`` (tests patch both). Reference: huggingface.co/docs/hub/spaces-config-reference.
"""

from __future__ import annotations

import tempfile
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

__all__ = ["SPACE_PACKAGE", "default_space_id", "push_space", "space_requirements", "write_space"]

SPACE_PACKAGE = "hfpose_space"
_APP_MODULE = "hfpose.app"
# import name -> distribution, for everything the bundled modules and the remote code import (gradio: the sdk).
_DISTRIBUTIONS = {
    "torch": "torch",
    "transformers": "transformers",
    "huggingface_hub": "huggingface_hub",
    "numpy": "numpy",
    "cv2": "opencv-python-headless",
    "scipy": "scipy",
    "PIL": "pillow",
    "yaml": "pyyaml",  # keypoint-set files (hfpose.keypoints), bundled with the configs
    "tqdm": "tqdm",
    "safetensors": "safetensors",
    "onnx": "onnx",
    "onnxruntime": "onnxruntime",
}


def default_space_id(model_repo_id: str) -> str:
    """``USER/NAME`` -> ``USER/NAME-demo``: the Space beside the model repository."""
    return f"{model_repo_id}-demo"


def space_requirements() -> list[str]:
    """Lines of ``requirements.txt``: transformers pinned to the version the remote code was written with here,
    the others at least the versions installed here (torch unpinned: the Space's hardware decides its build)."""
    lines = []
    for distribution in dict.fromkeys(_DISTRIBUTIONS.values()):
        try:
            installed = version(distribution)
        except PackageNotFoundError:
            installed = None
        if distribution == "torch" or installed is None:
            lines.append(distribution)
        elif distribution == "transformers":
            lines.append(f"transformers=={installed}")
        else:
            lines.append(f"{distribution}>={installed.split('+')[0]}")
    return lines


def _bundled_modules() -> list[str]:
    """`hfpose.app`, the hfpose modules it imports, and the packages on their paths (for the `__init__` files)."""
    from .remote_code import module_closure

    modules = set(module_closure([_APP_MODULE]))
    for module in list(modules):
        parts = module.split(".")
        modules.update(".".join(parts[:end]) for end in range(2, len(parts)))
    return sorted(modules)


def _app_source(model_repo_id: str) -> str:
    return f'''"""Demo page of the pose model {model_repo_id}: written by `hfpose push --space` (hfpose.hub.space).

The model loads through its repository's remote code (trust_remote_code=True); set HFPOSE_MODEL to use another
repository or a local model directory.
"""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from {SPACE_PACKAGE}.app import build_demo  # noqa: E402

MODEL = os.environ.get("HFPOSE_MODEL", "{model_repo_id}")
demo = build_demo(MODEL, trust_remote_code=True)

if __name__ == "__main__":
    demo.launch(ssr_mode=False)
'''


def write_space(staging_dir: str | Path, model_repo_id: str, title: str | None = None) -> list[str]:
    """Write the Space's files into `staging_dir`.

    Args:
        staging_dir: a directory (created when missing); becomes the Space repository's content.
        model_repo_id: ``USER/NAME`` of the model repository the page loads.
        title: the Space's title (default "<NAME> pose estimation").

    Returns:
        The sorted paths (relative, POSIX) of every file written.

    Raises:
        ValueError: if `model_repo_id` is not ``NAME`` or ``NAMESPACE/NAME``.
    """
    from huggingface_hub import SpaceCardData

    from .card_templates import render_card

    if (
        not isinstance(model_repo_id, str)
        or not model_repo_id
        or model_repo_id.count("/") > 1
        or model_repo_id.startswith("/")
        or model_repo_id.endswith("/")
    ):
        raise ValueError(f"model repo_id must look like 'USER/NAME'; got {model_repo_id!r}")
    import hfpose

    staging_dir = Path(staging_dir)
    root = Path(import_module("hfpose").__file__).resolve().parent
    written = []
    for module in _bundled_modules():
        source, relative = _module_file(root, module)
        target = staging_dir / SPACE_PACKAGE / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        header = (
            f"# Copied by hfpose.hub.space from hfpose/{relative.as_posix()} (hfpose {hfpose.__version__}) "
            "for the demo Space.\n"
        )
        target.write_text(header + source.read_text(encoding="utf-8"), encoding="utf-8")
        written.append(target)
    (staging_dir / SPACE_PACKAGE / "__init__.py").write_text(
        '"""hfpose modules copied for the demo Space (see app.py)."""\n', encoding="utf-8"
    )
    (staging_dir / "app.py").write_text(_app_source(model_repo_id), encoding="utf-8")
    (staging_dir / "requirements.txt").write_text("\n".join(space_requirements()) + "\n", encoding="utf-8")
    import gradio

    name = model_repo_id.split("/")[-1]
    data = SpaceCardData(
        title=title or f"{name} pose estimation",
        emoji="🕺",
        colorFrom="blue",
        colorTo="green",
        sdk="gradio",
        sdk_version=gradio.__version__,
        app_file="app.py",
        pinned=False,
        license="apache-2.0",
        models=[model_repo_id],
        short_description="Human pose estimation demo (hfpose)",
    )
    card = render_card("space_card.jinja", data, name=name, model_repo_id=model_repo_id)
    (staging_dir / "README.md").write_text(card.content.rstrip("\n") + "\n", encoding="utf-8")
    return sorted(p.relative_to(staging_dir).as_posix() for p in staging_dir.rglob("*") if p.is_file())


def _module_file(root: Path, module: str) -> tuple[Path, Path]:
    parts = module.split(".")[1:]
    package = root.joinpath(*parts) / "__init__.py"
    if package.is_file():
        return package, package.relative_to(root)
    path = root.joinpath(*parts).with_suffix(".py")
    return path, path.relative_to(root)


def push_space(
    model_repo_id: str, space_id: str | None = None, private: bool = False, token: str | None = None, api=None
):
    """Create (or reuse) the Space `space_id` and upload the demo page as one commit.

    Args:
        model_repo_id: the model repository the page loads (``USER/NAME``).
        space_id: the Space (default `default_space_id`: ``USER/NAME-demo``).
        private: create the Space as private (ignored when it exists).
        token: Hub token (default: the logged-in one).
        api: an `HfApi` (default ``HfApi(token=token)``).

    Returns:
        The `CommitInfo` of `HfApi.create_commit`.

    Raises:
        HubOfflineError: if ``HF_HUB_OFFLINE`` is set (before any Hub call).
        ValueError: for a malformed repo id.
    """
    from huggingface_hub import CommitOperationAdd, HfApi

    from .push import HubOfflineError, hub_is_offline

    space_id = space_id or default_space_id(model_repo_id)
    if hub_is_offline():
        raise HubOfflineError(
            f"cannot push the Space {space_id!r}: HF_HUB_OFFLINE is set, so the Hugging Face Hub "
            "cannot be reached. Unset it (HF_HUB_OFFLINE=0) and log in (`hf auth login`)."
        )
    if space_id.count("/") > 1 or space_id.startswith("/") or space_id.endswith("/"):
        raise ValueError(f"space_id must look like 'USER/NAME'; got {space_id!r}")
    api = api or HfApi(token=token)
    with tempfile.TemporaryDirectory(prefix="hfpose_space_") as staging:
        files = write_space(staging, model_repo_id)
        api.create_repo(repo_id=space_id, private=private, exist_ok=True, repo_type="space", space_sdk="gradio")
        operations = [
            CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(Path(staging) / name)) for name in files
        ]
        return api.create_commit(
            repo_id=space_id,
            operations=operations,
            repo_type="space",
            commit_message=f"Demo page of {model_repo_id} (hfpose)",
        )
