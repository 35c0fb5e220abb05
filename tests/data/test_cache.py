"""The per-machine Arrow cache of parsed annotation files: built once, keyed by content, shared by processes."""

import json
import multiprocessing
import os
import time

import pytest

from hfpose.data import load_coco_keypoints
from hfpose.data.cache import cached_dataset


def _counting_build(ann_file, counter_file):
    def build():
        with open(counter_file, "a") as handle:
            handle.write("x")
        return load_coco_keypoints(ann_file.parent.parent, split="val2017", ann_file=ann_file)

    return build


def test_built_once_then_memory_mapped_and_rebuilt_when_the_content_changes(tmp_path, coco_mini):
    ann_file = tmp_path / "annotations" / "person_keypoints_val2017.json"
    ann_file.parent.mkdir()
    data = json.loads((coco_mini / "annotations" / "person_keypoints_val2017.json").read_text())
    ann_file.write_text(json.dumps(data))
    (tmp_path / "val2017").symlink_to(coco_mini / "val2017")
    counter = tmp_path / "count"
    first = cached_dataset(_counting_build(ann_file, counter), ann_file, {"k": 1}, cache_dir=tmp_path / "cache")
    second = cached_dataset(_counting_build(ann_file, counter), ann_file, {"k": 1}, cache_dir=tmp_path / "cache")
    assert counter.read_text() == "x"  # parsed once
    assert second.cache_files and all(f["filename"].startswith(str(tmp_path / "cache")) for f in second.cache_files)
    assert second.to_dict() == first.to_dict() == load_coco_keypoints(tmp_path, split="val2017").to_dict()
    cached_dataset(_counting_build(ann_file, counter), ann_file, {"k": 2}, cache_dir=tmp_path / "cache")
    assert counter.read_text() == "xx"  # other loader arguments: another entry
    data["annotations"] = data["annotations"][:5]  # same name, new content: never served stale
    ann_file.write_text(json.dumps(data))
    third = cached_dataset(_counting_build(ann_file, counter), ann_file, {"k": 1}, cache_dir=tmp_path / "cache")
    assert counter.read_text() == "xxx" and len(third) < len(first)


def _worker(args):
    ann_file, counter, cache_dir = args
    import pathlib

    ann_file = pathlib.Path(ann_file)

    def build():
        with open(counter, "a") as handle:
            handle.write("x")
        time.sleep(1.0)  # the other process arrives while this one builds
        return load_coco_keypoints(ann_file.parent.parent, split="val2017", ann_file=ann_file)

    return len(cached_dataset(build, ann_file, {"k": 1}, cache_dir=cache_dir, poll=0.05))


def test_two_processes_parse_once(tmp_path, coco_mini):
    ann_file = coco_mini / "annotations" / "person_keypoints_val2017.json"
    counter = tmp_path / "count"
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        sizes = pool.map(_worker, [(str(ann_file), str(counter), str(tmp_path / "cache"))] * 2)
    assert counter.read_text() == "x" and sizes[0] == sizes[1] > 0


def test_abandoned_lock_is_taken_over_and_failures_release_it(tmp_path, coco_mini):
    from hfpose.data.cache import cache_key

    ann_file = coco_mini / "annotations" / "person_keypoints_val2017.json"
    cache = tmp_path / "cache"

    def failing():
        raise ValueError("broken annotation")

    with pytest.raises(ValueError, match="broken annotation"):
        cached_dataset(failing, ann_file, {}, cache_dir=cache)
    assert not list(cache.glob("*.lock"))  # a failed build releases the lock
    lock = cache / f"{cache_key(ann_file, {})}.lock"
    lock.write_text("12345")  # a process that died while building
    with pytest.raises(TimeoutError, match="remove the lock"):
        cached_dataset(failing, ann_file, {}, cache_dir=cache, timeout=0.3, poll=0.05)
    os.utime(lock, (time.time() - 7200, time.time() - 7200))
    dataset = cached_dataset(lambda: load_coco_keypoints(coco_mini, split="val2017"), ann_file, {}, cache_dir=cache)
    assert len(dataset) == len(load_coco_keypoints(coco_mini, split="val2017")) and not lock.exists()
