# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Parse a large annotation file once per machine into an Arrow cache, then memory-map it (every process, every run).

COCO train2017 (262k annotations, 149k valid people) takes tens of seconds and ~2 GB of memory to parse into a
`datasets.Dataset`, and every DDP process used to repeat it. `cached_dataset` keys the parsed dataset by the
SHA-256 of the annotation file's *content* and the loader's arguments, so an edited json is never served stale:

1. if ``<cache_dir>/<key>/COMPLETE`` exists, every process memory-maps it (`datasets.load_from_disk`);
2. otherwise the first process to create ``<key>.lock`` (``O_CREAT | O_EXCL``, i.e. one per machine and file system;
   with DDP that is in practice local rank 0, which the others let go first) builds it, writes it with
   ``save_to_disk`` into a temporary directory, renames it into place and marks it ``COMPLETE``; the others wait for
   the mark and then memory-map it. A lock whose holder died is taken over after ``stale_after`` seconds.

The cache directory is ``$HFPOSE_CACHE`` (default ``~/.cache/hfpose``) ``/datasets``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["cache_key", "cached_dataset", "default_cache_dir", "file_sha256", "load_coco_cached"]

CACHE_FORMAT = 1  # bump when the parsed columns change


def default_cache_dir() -> Path:
    return Path(os.environ.get("HFPOSE_CACHE", Path.home() / ".cache" / "hfpose")) / "datasets"


def file_sha256(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file's bytes (streamed)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cache_key(source_file: str | os.PathLike, key: dict) -> str:
    """Name of the cache entry: a hash of the file's content hash, ``key`` and the cache format."""
    return hashlib.sha256(
        json.dumps(
            {"file": file_sha256(source_file), "key": key, "format": CACHE_FORMAT}, sort_keys=True, default=str
        ).encode()
    ).hexdigest()[:32]


def cached_dataset(
    build: Callable[[], object],
    source_file: str | os.PathLike,
    key: dict,
    cache_dir: str | os.PathLike | None = None,
    poll: float = 0.2,
    timeout: float = 3600.0,
    stale_after: float = 1800.0,
):
    """The `datasets.Dataset` ``build()`` returns, cached under the content hash of ``source_file`` and ``key``.

    Args:
        build: parses ``source_file`` into a `datasets.Dataset` (called by one process per machine, once).
        source_file: the annotation file whose content keys the cache.
        key: the loader's other arguments (JSON-serializable: mode, K, image root...), part of the key.
        cache_dir: cache root; default `default_cache_dir()`.
        poll, timeout, stale_after: seconds between checks, before giving up, before a lock counts as abandoned.

    Returns:
        A memory-mapped `datasets.Dataset` (also in the process that built it).

    Raises:
        TimeoutError: if another process holds the lock for more than ``timeout`` seconds without finishing.
    """
    import datasets

    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    digest = cache_key(source_file, key)
    target, lock = cache_dir / digest, cache_dir / f"{digest}.lock"
    start = time.monotonic()
    while not (target / "COMPLETE").is_file():
        try:
            descriptor = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                age = time.time() - lock.stat().st_mtime
            except FileNotFoundError:
                continue
            if age > stale_after:
                lock.unlink(missing_ok=True)  # its holder died
                continue
            if time.monotonic() - start > timeout:
                raise TimeoutError(
                    f"waited {timeout:.0f}s for another process to build the dataset cache {target} "
                    f"(lock {lock}); remove the lock if no process is building it"
                ) from None
            time.sleep(poll)
            continue
        try:
            os.write(descriptor, str(os.getpid()).encode())
            os.close(descriptor)
            if not (target / "COMPLETE").is_file():
                staging = cache_dir / f"{digest}.tmp-{os.getpid()}"
                shutil.rmtree(staging, ignore_errors=True)
                build().save_to_disk(str(staging))
                shutil.rmtree(target, ignore_errors=True)
                os.replace(staging, target)
                (target / "COMPLETE").write_text(json.dumps({"source_file": str(source_file), "key": key}))
        finally:
            lock.unlink(missing_ok=True)
    return datasets.load_from_disk(str(target))


def load_coco_cached(
    loader: Callable,
    root,
    split: str,
    ann_file=None,
    image_dir=None,
    num_keypoints: int = 17,
    enabled: bool = True,
    cache_dir=None,
    **kwargs,
):
    """``loader(root, split=..., ann_file=..., num_keypoints=..., image_dir=..., **kwargs)`` (`load_coco_keypoints`
    or `load_coco_bottomup`) through `cached_dataset` keyed by the resolved annotation file; ``enabled=False`` calls
    the loader directly."""
    from .coco import _default_paths

    def call():
        return loader(root, split=split, ann_file=ann_file, num_keypoints=num_keypoints, image_dir=image_dir, **kwargs)

    if not enabled:
        return call()
    ann_path, image_root = _default_paths(Path(root), split, ann_file, image_dir)
    if not ann_path.is_file():
        return call()  # the loader's own error names the missing file
    key = {
        "loader": f"{loader.__module__}.{loader.__name__}",
        "image_root": str(Path(image_root).resolve()),
        "num_keypoints": int(num_keypoints),
        **{name: repr(value) for name, value in sorted(kwargs.items())},
    }
    return cached_dataset(call, ann_path, key, cache_dir=cache_dir)
