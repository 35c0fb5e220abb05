# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Atomic training checkpoints on top of `accelerator.save_state`, with no pickled objects of our own.

A checkpoint is written to ``<dir>/.tmp-<name>`` and renamed to ``<dir>/<name>`` only once every file, including a
``COMPLETE`` marker, is on disk; a crash mid-write therefore never leaves a directory that `latest_checkpoint`
would pick (stale ``.tmp-*`` directories are removed by the next save). Names are ``step_<global step, 9 digits>`` so
that lexical order is chronological.

Contents: ``model.safetensors`` (safetensors), ``optimizer.bin`` and ``random_states_<process>.pkl`` (written by
accelerate with ``torch.save``; accelerate reads them back with ``torch.load(weights_only=True)``, the RNG states with
an allow-list of numpy array / dtype reconstructors only), and ``training_state.json``: the loop position
(`TrainingState`: epoch, batches of the epoch already consumed, optimizer steps) and the learning-rate scheduler's
``state_dict`` as JSON. Nothing is registered with `accelerator.register_for_checkpointing`, whose
``custom_checkpoint_*.pkl`` files accelerate unpickles with ``weights_only=False`` (arbitrary code on load); a
checkpoint directory holding such a file is refused by accelerate before anything is unpickled.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

from ..file_modes import honour_umask

__all__ = ["TrainingState", "save_checkpoint", "load_checkpoint", "latest_checkpoint", "prune_checkpoints"]

_MARKER = "COMPLETE"
_STATE_FILE = "training_state.json"


class TrainingState:
    """Loop position saved with every checkpoint: where the sampler of the epoch in progress stands."""

    def __init__(self):
        self.epoch = 0  # epoch in progress (0-based)
        self.step_in_epoch = 0  # batches of the current epoch already consumed (the sampler position)
        self.global_step = 0  # optimizer steps taken

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "step_in_epoch": self.step_in_epoch, "global_step": self.global_step}

    def load_state_dict(self, state: dict) -> None:
        self.epoch = int(state["epoch"])
        self.step_in_epoch = int(state["step_in_epoch"])
        self.global_step = int(state["global_step"])


def _json_safe(value):
    """The JSON-representable part of a scheduler ``state_dict`` (callables such as ``lr_lambdas`` entries are
    ``None`` for plain functions in torch's own state dict; anything else non-JSON is refused)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"scheduler state holds a non-finite number {value}")
        return value
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    raise TypeError(f"scheduler state holds a {type(value).__name__}, which a JSON checkpoint cannot store")


def save_checkpoint(accelerator, checkpoint_dir: str | Path, state: TrainingState, scheduler=None) -> Path:
    """Save model, optimizer, RNG states, `state` and ``scheduler`` atomically; returns the final directory.

    Raises:
        TypeError / ValueError: if the scheduler's ``state_dict`` is not JSON-representable.
    """
    checkpoint_dir = Path(checkpoint_dir)
    name = f"step_{state.global_step:09d}"
    final = checkpoint_dir / name
    temporary = checkpoint_dir / f".tmp-{name}"
    payload = {"state": state.state_dict(), "scheduler": _json_safe(scheduler.state_dict()) if scheduler else None}
    if accelerator.is_main_process:
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        for stale in checkpoint_dir.glob(".tmp-*"):  # left by a run killed mid-write
            shutil.rmtree(stale, ignore_errors=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(temporary))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        (temporary / _STATE_FILE).write_text(json.dumps(payload))
        (temporary / _MARKER).write_text(json.dumps(state.state_dict()))
        honour_umask(temporary)  # safetensors' atomic write leaves 0600
        _fsync_tree(temporary)
        if final.exists():
            shutil.rmtree(final)
        os.replace(temporary, final)
        _fsync_dir(checkpoint_dir)
    accelerator.wait_for_everyone()
    return final


def load_checkpoint(accelerator, path: str | Path, state: TrainingState, scheduler=None) -> None:
    """Restore a checkpoint written by `save_checkpoint` into the prepared objects, ``state`` and ``scheduler``.

    Raises:
        ValueError: if ``path`` is not a complete checkpoint, has no readable ``training_state.json``, or its RNG
            states cannot be read (accelerate would silently skip them, and the run would no longer be reproducible).
    """
    path = Path(path)
    if not (path / _MARKER).is_file():
        raise ValueError(f"{path} is not a complete checkpoint (no {_MARKER} marker)")
    try:
        payload = json.loads((path / _STATE_FILE).read_text())
        position = payload["state"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"checkpoint {path} has no readable {_STATE_FILE}: {error}") from None
    rng_file = path / f"random_states_{accelerator.process_index}.pkl"
    try:
        from accelerate.utils import load

        load(rng_file)  # weights_only=True with accelerate's allow-list, as in load_state
    except Exception as error:
        raise ValueError(f"checkpoint {path}: RNG state {rng_file.name} cannot be read safely: {error}") from None
    accelerator.load_state(str(path))
    state.load_state_dict(position)
    if scheduler is not None and payload.get("scheduler") is not None:
        scheduler.load_state_dict(payload["scheduler"])


def latest_checkpoint(checkpoint_dir: str | Path) -> Path | None:
    """The newest complete checkpoint in ``checkpoint_dir`` (None if there is none); temporary and incomplete
    directories are ignored."""
    checkpoint_dir = Path(checkpoint_dir)
    if not checkpoint_dir.is_dir():
        return None
    complete = sorted(
        path for path in checkpoint_dir.iterdir() if path.name.startswith("step_") and (path / _MARKER).is_file()
    )
    return complete[-1] if complete else None


def prune_checkpoints(checkpoint_dir: str | Path, keep: int) -> None:
    """Delete all but the newest ``keep`` complete checkpoints, and stale temporary directories."""
    checkpoint_dir = Path(checkpoint_dir)
    if not checkpoint_dir.is_dir():
        return
    for path in checkpoint_dir.iterdir():
        if path.name.startswith(".tmp-"):
            shutil.rmtree(path, ignore_errors=True)
    complete = sorted(p for p in checkpoint_dir.iterdir() if p.name.startswith("step_") and (p / _MARKER).is_file())
    for path in complete[: max(0, len(complete) - keep)]:
        shutil.rmtree(path, ignore_errors=True)


def _fsync_tree(directory: Path) -> None:
    for path in directory.iterdir():
        if path.is_file():
            try:
                with open(path, "rb") as handle:
                    os.fsync(handle.fileno())
            except OSError:
                pass
    _fsync_dir(directory)


def _fsync_dir(path: Path) -> None:
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
