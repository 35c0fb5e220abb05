# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Progress of long work, readable both in a terminal and in a log file.

In a terminal (stderr is a TTY) a `tqdm` bar redraws in place; otherwise (CI logs, ``nohup``, ``> train.log``) there is
no bar and no carriage return, only whole lines. Only the main process of a distributed run reports.

* `progress_bar(iterable, ...)`: a `tqdm` bar in a terminal, a silent pass-through (same ``set_postfix`` / ``close``
  interface) elsewhere.
* `EpochReporter`: one line per training epoch on stdout, ``epoch 3/120  loss -0.4210  lr 1.00e-03  412.5 samples/s
  val AP 0.0007 (epoch 2)``.
* `step_line(...)`: a numbered line for the stages of a conversion or an export (``[2/4] checking ...``).
* `quiet_library_bars()`: outside a terminal, turn off the bars of transformers ("Loading weights", "Writing model
  shards"), huggingface_hub and datasets (the `hfpose` command calls it).
"""

from __future__ import annotations

import math
import sys
import time

__all__ = ["EpochReporter", "interactive", "progress_bar", "quiet_library_bars", "step_line"]


def interactive(stream=None) -> bool:
    """True when ``stream`` (default stderr, where tqdm draws) is a terminal."""
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def progress_bar(iterable, desc: str, enabled: bool = True, total: int | None = None, **kwargs):
    """A `tqdm` bar over ``iterable`` when ``enabled`` and stderr is a terminal; a disabled one (no output, same
    ``set_postfix`` / ``close``) otherwise."""
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, total=total, disable=not (enabled and interactive()), **kwargs)


def quiet_library_bars() -> bool:
    """Disable the tqdm bars of transformers, huggingface_hub and datasets when stderr is not a terminal; returns
    whether it did."""
    if interactive():
        return False
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    try:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    except ImportError:  # pragma: no cover
        pass
    try:
        import datasets

        datasets.disable_progress_bars()
    except ImportError:  # pragma: no cover
        pass
    return True


def step_line(index: int, count: int, text: str, enabled: bool = True) -> float:
    """Print ``[index/count] text`` on stdout (flushed) and return `time.time()` (to time the stage)."""
    if enabled:
        print(f"[{index}/{count}] {text}", flush=True)
    return time.time()


class EpochReporter:
    """The one line per epoch of the training loop (main process only, on stdout).

    Args:
        accelerator: the run's `accelerate.Accelerator` (``is_main_process``, ``num_processes``).
        epochs: the number of epochs of the run.
        stream: where the lines go (default stdout).
    """

    def __init__(self, accelerator, epochs: int, stream=None):
        self.enabled = bool(accelerator.is_main_process)
        self.num_processes = int(accelerator.num_processes)
        self.epochs = int(epochs)
        self.stream = stream
        self._start = time.time()
        self._batches: list[int] = []
        self._epoch = 0

    def bar(self, loader, epoch: int):
        """The epoch's batches, counted (for samples/s) and, in a terminal, shown as a bar."""
        self._start = time.time()
        self._batches = []
        self._epoch = int(epoch)
        total = len(loader) if hasattr(loader, "__len__") else None

        def counted():
            for batch in loader:
                pixel_values = batch.get("pixel_values") if hasattr(batch, "get") else None
                self._batches.append(int(pixel_values.shape[0]) if pixel_values is not None else 0)
                yield batch

        return progress_bar(
            counted(), desc=f"epoch {epoch + 1}/{self.epochs}", enabled=self.enabled, total=total, leave=False
        )

    def line(self, history: list[dict], metrics: dict | None = None) -> str:
        """The text of the line for the epoch last started with `bar` from the loop's ``history`` records (``epoch``,
        ``loss``, ``lr`` per optimizer step) and the latest validation ``metrics`` (``{"epoch": e, "AP": ...}`` or
        ``"PCKh@0.5"``)."""
        epoch = self._epoch
        seconds = max(time.time() - self._start, 1e-9)
        losses = [
            r["loss"]
            for r in history
            if r.get("epoch") == epoch and r.get("loss") is not None and math.isfinite(r["loss"])
        ]
        lrs = [r["lr"] for r in history if r.get("epoch") == epoch and r.get("lr") is not None]
        samples = sum(self._batches) * self.num_processes  # every process sees an equal share of each step
        parts = [
            f"epoch {epoch + 1}/{self.epochs}",
            f"loss {sum(losses) / len(losses):.4f}" if losses else "loss -",
            f"lr {lrs[-1]:.2e}" if lrs else "lr -",
            f"{samples / seconds:.1f} samples/s",
        ]
        metrics = metrics or {}
        for name in ("AP", "PCKh@0.5", "PCKh"):
            if isinstance(metrics.get(name), (int, float)):
                parts.append(f"val {name} {metrics[name]:.4f} (epoch {metrics.get('epoch', '?')})")
                break
        else:
            parts.append("val -")
        return "  ".join(parts)

    def end_epoch(self, history: list[dict], metrics: dict | None = None) -> None:
        """Print `line` on the main process."""
        if self.enabled:
            print(self.line(history, metrics), file=self.stream or sys.stdout, flush=True)
