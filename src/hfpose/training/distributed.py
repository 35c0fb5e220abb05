# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Guards that keep one training run per output directory: a launcher's processes that did not join one process
group, and a second run started on the same ``output_dir``.

`accelerate launch --multi_gpu --num_processes 2` on a machine without GPUs starts two processes (torchrun sets
``WORLD_SIZE=2``), but accelerate finds no GPU backend and makes each of them a single-process run
(``accelerator.num_processes == 1``): two independent runs that write the same checkpoints and model. On CPU, DDP needs
``ACCELERATE_USE_CPU=1`` (accelerate's gloo backend), which `CPU_DDP_COMMAND` spells out. `check_process_group` turns
the mismatch into an error before anything is written; `lock_output_dir` refuses a second run on a directory that a
live run holds (an advisory ``fcntl`` lock, released by the kernel when the holder exits, even by ``SIGKILL``).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CPU_DDP_COMMAND", "DistributedLaunchError", "check_process_group", "launched_processes", "lock_output_dir"]

CPU_DDP_COMMAND = (
    "ACCELERATE_USE_CPU=1 accelerate launch --multi_gpu --num_processes {n} --num_machines 1 "
    "--mixed_precision no --dynamo_backend no -m hfpose.cli train RECIPE [key=value ...]"
)
_LOCK_NAME = ".hfpose-train.lock"


class DistributedLaunchError(RuntimeError):
    """The processes of one launch are not one process group, or another run holds the output directory."""


def launched_processes(environ=None) -> int:
    """How many processes the launcher started: ``WORLD_SIZE`` (torchrun, accelerate launch), else MPI's size
    variables, else 1."""
    environ = os.environ if environ is None else environ
    for name in ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE"):
        value = environ.get(name)
        if value and value.strip().isdigit():
            return int(value)
    return 1


def check_process_group(accelerator, environ=None) -> None:
    """Raise if the launcher started more processes than `accelerator` has joined into its process group.

    Raises:
        DistributedLaunchError: one line giving both numbers and the command that runs CPU data parallel
            (`CPU_DDP_COMMAND`), or, with GPUs, the fix of a mismatched ``--num_processes``.
    """
    launched = launched_processes(environ)
    joined = int(accelerator.num_processes)
    if launched <= joined:
        return
    import torch

    if torch.cuda.is_available():
        hint = "check that --num_processes matches the GPUs given to each machine"
    else:
        hint = f"on CPU run: {CPU_DDP_COMMAND.format(n=launched)}"
    raise DistributedLaunchError(
        f"the launcher started {launched} processes (WORLD_SIZE={launched}) but accelerate joined {joined} into one "
        f"run, so they would train independently over one output directory; {hint}"
    )


_HELD: dict[str, object] = {}  # lock path -> open file of this process (a new run in this process replaces it)


def lock_output_dir(accelerator, output_dir: str | Path) -> None:
    """On the main process, take an exclusive, non-blocking ``fcntl.flock`` on ``<output_dir>/.hfpose-train.lock``
    for as long as this process lives or until it starts another run on the same directory (a no-op without
    ``fcntl``). The kernel drops the lock when the process exits, also on ``SIGKILL``: no stale lock survives.

    Raises:
        DistributedLaunchError: if another live process holds the directory (names its pid).
    """
    if not accelerator.is_main_process:
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover (Windows)
        return
    path = Path(output_dir).resolve() / _LOCK_NAME
    previous = _HELD.pop(str(path), None)
    if previous is not None:  # an earlier run of this same process (runs within one process are sequential)
        previous.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115 (held open for the run: the lock lives as long as the file)
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise DistributedLaunchError(
            f"another training run (pid {holder}) is writing {path.parent}; wait for it to "
            "finish, or give this run its own output_dir=..."
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    _HELD[str(path)] = handle
