# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Give saved files the permissions an ordinary ``open(path, "w")`` would.

safetensors (0.8) writes ``model.safetensors`` atomically through a temporary file, which `tempfile` creates with mode
0600, and the rename keeps it: a model saved for a team or a web server is unreadable to everyone but its owner.
`honour_umask` sets every file under a saved directory to ``0666 & ~umask``, the mode a normal write gives (folders,
made by ``mkdir``, already follow the umask and are left alone). hfpose calls it wherever it saves a model: the
training loop, training checkpoints, `hfpose convert`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["current_umask", "honour_umask"]


def current_umask() -> int:
    """The process umask (read from ``/proc/self/status`` where available, else set-and-restore)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def honour_umask(path: str | os.PathLike) -> None:
    """Set ``path`` (a file, or every file under a directory) to the mode a plain write would create.

    Only regular files owned by this user are changed; links are not followed; execute bits are kept. A missing path
    is ignored (nothing was saved there).
    """
    root = Path(path)
    if not root.exists():
        return
    mask = current_umask()
    file_mode = 0o666 & ~mask
    candidates = [root] + (list(root.rglob("*")) if root.is_dir() else [])
    uid = os.getuid() if hasattr(os, "getuid") else None
    for candidate in candidates:
        info = candidate.lstat()
        if uid is not None and info.st_uid != uid:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        mode = file_mode | (stat.S_IMODE(info.st_mode) & 0o111 & ~mask)  # keep execute bits a script had
        if stat.S_IMODE(info.st_mode) != mode:
            os.chmod(candidate, mode)
