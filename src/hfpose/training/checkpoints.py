# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Atomic training checkpoints on top of `accelerator.save_state`.

A checkpoint is written to ``<dir>/.tmp-<name>`` and renamed to ``<dir>/<name>`` only once every file, including a
``COMPLETE`` marker, is on disk; a crash mid-write therefore never leaves a directory that `latest_checkpoint`
would pick. Names are ``step_<global step, 9 digits>`` so that lexical order is chronological.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

__all__ = ["TrainingState", "save_checkpoint", "latest_checkpoint", "prune_checkpoints"]

_MARKER = "COMPLETE"


class TrainingState:
    """Loop position saved with every checkpoint (registered with `accelerator.register_for_checkpointing`)."""

    def __init__(self):
        self.epoch = 0  # epoch in progress (0-based)
        self.step_in_epoch = 0  # optimizer-loop batches of the current epoch already consumed
        self.global_step = 0  # optimizer steps taken

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "step_in_epoch": self.step_in_epoch, "global_step": self.global_step}

    def load_state_dict(self, state: dict) -> None:
        self.epoch = int(state["epoch"])
        self.step_in_epoch = int(state["step_in_epoch"])
        self.global_step = int(state["global_step"])


def save_checkpoint(accelerator, checkpoint_dir: str | Path, state: TrainingState) -> Path:
    """Save model, optimizer, scheduler, RNG states and `state` atomically; returns the final directory."""
    checkpoint_dir = Path(checkpoint_dir)
    name = f"step_{state.global_step:09d}"
    final = checkpoint_dir / name
    temporary = checkpoint_dir / f".tmp-{name}"
    if accelerator.is_main_process:
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(temporary, ignore_errors=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(temporary))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        (temporary / _MARKER).write_text(json.dumps(state.state_dict()))
        _fsync_dir(temporary)
        if final.exists():
            shutil.rmtree(final)
        os.replace(temporary, final)
        _fsync_dir(checkpoint_dir)
    accelerator.wait_for_everyone()
    return final


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
