# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Publish a saved hfpose model directory to the Hugging Face Hub as one commit.

What is uploaded (nothing else from the directory: no checkpoints, logs or evaluation files):

* the safetensors weights (`model.safetensors`, or the shards `model-XXXXX-of-YYYYY.safetensors` and
  `model.safetensors.index.json`);
* `config.json` and `preprocessor_config.json`;
* `README.md`: the model card made by `hfpose.hub.make_model_card` from the config, the evaluation results
  (`card_results`) and the provenance (`source`), or the `card` given (a `README.md` already in the directory is
  not uploaded);
* with `remote_code=True`, the self-contained code files of `hfpose.hub.remote_code` (and the `auto_map` /
  `custom_pipelines` entries they add to the two json files), so that `trust_remote_code=True` works without hfpose.

The Hub calls are `HfApi.create_repo(exist_ok=True)` and one `HfApi.create_commit` with a `CommitOperationAdd` per
file; tests patch those two methods. With `HF_HUB_OFFLINE=1` a `HubOfflineError` is raised before any Hub call.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

__all__ = ["HubOfflineError", "hub_is_offline", "collect_model_files", "prepare_upload", "push_to_hub"]

_TRUE = {"1", "ON", "YES", "TRUE"}


class HubOfflineError(RuntimeError):
    """Raised when a push is attempted while `HF_HUB_OFFLINE` is set."""


def hub_is_offline() -> bool:
    """True when `HF_HUB_OFFLINE` is set in the environment or in `huggingface_hub.constants`."""
    from huggingface_hub import constants

    return os.environ.get("HF_HUB_OFFLINE", "").upper() in _TRUE or bool(getattr(constants, "HF_HUB_OFFLINE", False))


def collect_model_files(model_dir: str | Path) -> list[Path]:
    """The files of `model_dir` that belong on the Hub: weights (safetensors), `config.json`,
    `preprocessor_config.json`, in that order.

    Raises:
        FileNotFoundError: if `model_dir` is not a directory or lacks `config.json` / `preprocessor_config.json` /
            safetensors weights (the message lists what is missing).
        ValueError: if the weights are only in the pickle format (`pytorch_model.bin`): re-save with
            `save_pretrained(..., safe_serialization=True)`.
    """
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise FileNotFoundError(f"model_dir {model_dir} is not a directory")
    index = model_dir / "model.safetensors.index.json"
    if (model_dir / "model.safetensors").is_file():
        weights = [model_dir / "model.safetensors"]
    elif index.is_file():
        weights = sorted(model_dir.glob("model-*-of-*.safetensors")) + [index]
    else:
        weights = []
    if not weights and (model_dir / "pytorch_model.bin").is_file():
        raise ValueError(
            f"{model_dir} holds pytorch_model.bin only; push safetensors weights "
            "(model.save_pretrained(dir, safe_serialization=True))"
        )
    missing = [name for name in ("config.json", "preprocessor_config.json") if not (model_dir / name).is_file()]
    if not weights:
        missing.append("model.safetensors")
    if missing:
        raise FileNotFoundError(
            f"model_dir {model_dir} lacks {missing}; save the model and its image processor with save_pretrained first"
        )
    return weights + [model_dir / "config.json", model_dir / "preprocessor_config.json"]


def prepare_upload(
    model_dir: str | Path,
    staging_dir: str | Path,
    repo_id: str,
    card_results=None,
    source: Mapping | None = None,
    remote_code: bool = True,
    card=None,
) -> list[str]:
    """Copy the files to publish into `staging_dir`, write the card and (optionally) the remote-code files.

    Args:
        model_dir: a directory written by `save_pretrained` (model and image processor).
        staging_dir: an empty directory; becomes the repository's content.
        repo_id: `USER/NAME`, used in the card's usage snippet.
        card_results, source: passed to `make_model_card` as `results` and `source`.
        remote_code: also write `hfpose.hub.remote_code` files and the `auto_map` / `custom_pipelines` entries.
        card: a ready `ModelCard` (or markdown string) to use instead of generating one.

    Returns:
        The sorted paths (relative, POSIX) of every file in `staging_dir`.
    """
    from .model_card import make_model_card

    model_dir, staging_dir = Path(model_dir), Path(staging_dir)
    staging_dir.mkdir(parents=True, exist_ok=True)
    for path in collect_model_files(model_dir):
        shutil.copy2(path, staging_dir / path.name)
    if remote_code:
        from .remote_code import write_remote_code

        write_remote_code(staging_dir)
    if card is None:
        card = make_model_card(
            model_dir,
            results=card_results,
            source=source,
            repo_id=repo_id,
            name=repo_id.split("/")[-1],
            remote_code=remote_code,
        )
    text = str(card) if not hasattr(card, "content") else card.content
    if remote_code and "requirements.txt" not in text:  # what the remote code imports (hub.remote_code)
        from .remote_code import requirements_markdown

        text = text.rstrip("\n") + "\n\n" + requirements_markdown(staging_dir, repo_id)
    (staging_dir / "README.md").write_text(text)
    return sorted(p.relative_to(staging_dir).as_posix() for p in staging_dir.rglob("*") if p.is_file())


def push_to_hub(
    model_dir: str | Path,
    repo_id: str,
    private: bool = False,
    card_results=None,
    source: Mapping | None = None,
    remote_code: bool = True,
    token: str | None = None,
    commit_message: str | None = None,
    card=None,
    api=None,
):
    """Create (or reuse) the Hub repository `repo_id` and upload the model as one commit.

    Args:
        model_dir: a directory written by `save_pretrained` (weights, `config.json`, `preprocessor_config.json`).
        repo_id: `USER/NAME` (or `ORG/NAME`).
        private: create the repository as private (ignored when it exists).
        card_results: evaluation JSON(s) for the card (see `hfpose.hub.model_card.normalize_results`).
        source: provenance of the weights for the card (see `make_model_card`).
        remote_code: upload `trust_remote_code` files so the repo loads without hfpose.
        token: Hub token (default: the logged-in one).
        commit_message: default "Upload <model_type> model with hfpose".
        card: a ready `ModelCard` to upload instead of generating one.
        api: an `HfApi` to use (default `HfApi(token=token)`).

    Returns:
        The `CommitInfo` of `HfApi.create_commit`.

    Raises:
        HubOfflineError: if `HF_HUB_OFFLINE` is set (checked before anything else).
        ValueError: if `repo_id` is not of the form `NAME` or `NAMESPACE/NAME`.
        FileNotFoundError / ValueError: see `collect_model_files`.
    """
    if hub_is_offline():
        raise HubOfflineError(
            f"cannot push {model_dir} to {repo_id!r}: HF_HUB_OFFLINE is set, so the Hugging Face Hub cannot be "
            "reached. Unset it (HF_HUB_OFFLINE=0) and log in (`hf auth login`) to push."
        )
    if (
        not isinstance(repo_id, str)
        or not repo_id
        or repo_id.count("/") > 1
        or repo_id.startswith("/")
        or repo_id.endswith("/")
    ):
        raise ValueError(f"repo_id must look like 'USER/NAME'; got {repo_id!r}")
    import json

    from huggingface_hub import CommitOperationAdd, HfApi

    collect_model_files(model_dir)  # fail on a bad directory before creating the repo
    api = api or HfApi(token=token)
    model_type = json.loads((Path(model_dir) / "config.json").read_text()).get("model_type", "hfpose")
    with tempfile.TemporaryDirectory(prefix="hfpose_push_") as staging:
        files = prepare_upload(
            model_dir, staging, repo_id, card_results=card_results, source=source, remote_code=remote_code, card=card
        )
        api.create_repo(repo_id=repo_id, private=private, exist_ok=True, repo_type="model")
        operations = [
            CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(Path(staging) / name)) for name in files
        ]
        return api.create_commit(
            repo_id=repo_id,
            operations=operations,
            repo_type="model",
            commit_message=commit_message or f"Upload {model_type} model with hfpose",
        )
