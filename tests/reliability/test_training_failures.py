"""Training failures end clearly: a non-finite loss names its step and images (or is skipped with
``skip_nonfinite``) and never reaches the weights; a process that fails at start-up in a 2-process run makes the
main process fail with that process's error instead of hanging."""

from __future__ import annotations

import json
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
import reliability_tally as tally
import torch
import yaml
from launch_utils import cpu_ddp_launch
from safetensors.torch import load_file

REPO = Path(__file__).resolve().parents[2]
TINY_BACKBONE = {
    "model_type": "resnet",
    "embedding_size": 8,
    "hidden_sizes": [8, 16, 16, 32],
    "depths": [1, 1, 1, 1],
    "layer_type": "basic",
    "out_features": ["stage4"],
}


def _recipe(tmp_path, coco_mini, **overrides):
    from hfpose.training import TrainingRecipe

    values = {
        "method": "rle",
        "backbone": "custom",
        "model": {"backbone_config": TINY_BACKBONE},
        "data_root": str(coco_mini),
        "bbox_file": None,
        "pretrained_backbone": None,
        "input_size": [48, 64],
        "auto_scale_lr": False,
        "epochs": 1,
        "batch_size": 16,
        "warmup_iters": 2,
        "milestones": [1],
        "val_interval": 100,
        "checkpoint_interval": 1,
        "checkpoint_steps": 2,
        "num_workers": 0,
        "score_mode": "bbox_rle",
        "output_dir": str(tmp_path / "run"),
        "log_interval": 1,
        "max_steps": 4,
        "flip_test": False,
    }
    values.update(overrides)
    return TrainingRecipe.from_dict(values)


def _poison_batch(monkeypatch, number: int):
    """Make the ``number``-th training batch (1-based) hold a NaN pixel, so its loss is NaN."""
    import hfpose.training.loop as loop

    original, calls = loop._model_inputs, [0]

    def model_inputs(batch):
        calls[0] += 1
        inputs = original(batch)
        if calls[0] == number:
            inputs["pixel_values"] = inputs["pixel_values"].clone()
            inputs["pixel_values"][0, 0, 0, 0] = float("nan")
        return inputs

    monkeypatch.setattr(loop, "_model_inputs", model_inputs)


def test_nonfinite_loss_stops_naming_step_and_images(tmp_path, coco_mini, monkeypatch):
    from hfpose.training import train

    _poison_batch(monkeypatch, 3)
    with pytest.raises(FloatingPointError) as raised:
        train(_recipe(tmp_path, coco_mini))
    message = str(raised.value)
    assert "step 3" in message and "image ids [" in message and "annotation ids [" in message
    tally.record("training: non-finite loss stops with step + image ids", "FloatingPointError")
    # Only the step-2 checkpoint exists, with finite weights: the NaN batch never reached an optimizer step.
    checkpoints = sorted((tmp_path / "run" / "checkpoints").glob("step_*"))
    assert [c.name for c in checkpoints] == ["step_000000002"]
    weights = load_file(str(checkpoints[0] / "model.safetensors"))
    assert all(torch.isfinite(t).all() for t in weights.values() if t.is_floating_point())


def test_skip_nonfinite_skips_and_logs_the_batch(tmp_path, coco_mini, monkeypatch):
    from hfpose.training import train

    _poison_batch(monkeypatch, 3)
    result = train(_recipe(tmp_path, coco_mini, skip_nonfinite=True))
    assert result.global_step == 4
    history = [json.loads(line) for line in (result.output_dir / "history.jsonl").read_text().splitlines()]
    skipped = [r for r in history if r.get("skipped")]
    assert [r["step"] for r in skipped] == [3] and skipped[0]["loss"] is None
    assert skipped[0]["skipped"]["image_ids"] and skipped[0]["skipped"]["ann_ids"]
    weights = load_file(str(result.model_dir / "model.safetensors"))
    assert all(torch.isfinite(t).all() for t in weights.values() if t.is_floating_point())
    tally.record("training: skip_nonfinite skips and logs the batch", "ok")


DRIVER = textwrap.dedent("""
    import os, sys
    import hfpose.training.loop as loop

    if os.environ.get("LOCAL_RANK") == "1":  # this process cannot build its data / model
        def broken(recipe):
            raise FileNotFoundError("simulated start-up failure: /data/coco is not mounted on this node")
        loop.build_model = broken

    from hfpose.training import TrainingRecipe, train

    train(TrainingRecipe.from_yaml(sys.argv[1]))
""")


def test_two_process_start_up_failure_is_reported_by_the_main_process(tmp_path, coco_mini):
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    recipe = _recipe(tmp_path, coco_mini, distributed_timeout=60)
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe.to_dict()))
    command, env = cpu_ddp_launch(str(driver), str(path))
    start = time.monotonic()
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240, cwd=REPO)
    elapsed = time.monotonic() - start
    assert completed.returncode != 0
    # The main process (rank 0) raises an error that names process 1 and its cause.
    assert "training start-up failed on process 1: FileNotFoundError: simulated start-up failure" in completed.stderr
    assert elapsed < 200
    tally.record("training: 2-process start-up failure reported, no hang", "RuntimeError")
