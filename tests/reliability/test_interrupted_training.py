"""Interrupted training loses nothing: SIGKILL a tiny training run at several points, resume, compare bitwise.

A driver script (written to a temporary directory) runs `hfpose.training.train` on a tiny RLE model and coco-mini
with mid-epoch checkpoints every 3 optimizer steps; ``HFPOSE_KILL=<point>:<n>`` makes it SIGKILL itself at the n-th
occurrence of ``point``:

* ``batch``: before the forward pass of a batch (mid-epoch, or just after an epoch boundary);
* ``save_state``: inside `accelerator.save_state`, right after ``optimizer.bin`` is written (a half-written checkpoint
  in its temporary directory, RNG states and ``training_state.json`` missing);
* ``rename``: after the ``COMPLETE`` marker is written into the temporary directory, before the atomic rename.

After each kill the run is restarted with the same command (resume is the default), and its final weights must equal
those of an uninterrupted run with the same seed bit for bit (CPU, one thread); every checkpoint directory left on
disk must be complete and loadable, no temporary directory may survive the resumed run, and the history must hold
each optimizer step exactly once (no batch trained twice or skipped).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import reliability_tally as tally
import torch
import yaml
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
STEPS_PER_EPOCH = 11  # 86 coco-mini training people, batch 8
EPOCHS = 2

DRIVER = textwrap.dedent("""
    import os, signal, sys

    point, _, count = os.environ.get("HFPOSE_KILL", "").partition(":")
    calls = [0]

    def hit():
        calls[0] += 1
        if calls[0] == int(count):
            os.kill(os.getpid(), signal.SIGKILL)

    import hfpose.training.checkpoints as checkpoints
    import hfpose.training.loop as loop
    import accelerate.checkpointing as accelerate_checkpointing

    if point == "batch":
        original_inputs = loop._model_inputs
        def model_inputs(batch):
            hit()
            return original_inputs(batch)
        loop._model_inputs = model_inputs
    elif point == "save_state":
        original_save = accelerate_checkpointing.save
        def save(obj, f, *args, **kwargs):
            result = original_save(obj, f, *args, **kwargs)
            if str(f).endswith("optimizer.bin"):
                hit()
            return result
        accelerate_checkpointing.save = save
    elif point == "rename":
        original_fsync = checkpoints._fsync_tree
        def fsync_tree(directory):
            original_fsync(directory)
            hit()
        checkpoints._fsync_tree = fsync_tree

    from hfpose.training import TrainingRecipe, train

    result = train(TrainingRecipe.from_yaml(sys.argv[1]))
    print("finished at step", result.global_step)
""")


def _recipe(tmp_path: Path, coco_mini: Path, name: str) -> Path:
    # Validation on a one-image split keeps the compulsory end-of-training evaluation cheap.
    val = json.loads((coco_mini / "annotations" / "person_keypoints_val2017.json").read_text())
    image = next(
        i for i in val["images"] if any(a["image_id"] == i["id"] and a["num_keypoints"] > 0 for a in val["annotations"])
    )
    val = {**val, "images": [image], "annotations": [a for a in val["annotations"] if a["image_id"] == image["id"]]}
    val_file = tmp_path / "val_one.json"
    val_file.write_text(json.dumps(val))
    recipe = {
        "method": "rle",
        "backbone": "custom",
        "model": {"backbone_config": TINY_BACKBONE},
        "data_root": str(coco_mini),
        "val_ann_file": str(val_file),
        "bbox_file": None,
        "pretrained_backbone": None,
        "input_size": [48, 64],
        "auto_scale_lr": False,
        "epochs": EPOCHS,
        "batch_size": 8,
        "warmup_iters": 2,
        "milestones": [1],
        "val_interval": 100,
        "checkpoint_interval": 1,
        "checkpoint_steps": 3,
        "keep_checkpoints": 100,
        "num_workers": 0,
        "score_mode": "bbox_rle",
        "log_interval": 1,
        "seed": 7,
        "output_dir": str(tmp_path / name),
        "flip_test": False,
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def _run(driver: Path, recipe: Path, kill: str | None = None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OMP_WAIT_POLICY": "PASSIVE",
        "HF_HUB_OFFLINE": "1",
        "HFPOSE_KILL": kill or "",
        "ACCELERATE_USE_CPU": "1",
    }
    return subprocess.run(
        [sys.executable, str(driver), str(recipe)], env=env, capture_output=True, text=True, timeout=300, cwd=REPO
    )


def _check_checkpoints(checkpoint_dir: Path) -> list[int]:
    """Every ``step_*`` directory is complete and loadable; returns their steps."""
    steps = []
    for path in sorted(checkpoint_dir.glob("step_*")):
        assert (path / "COMPLETE").is_file(), f"{path.name} has no COMPLETE marker"
        payload = json.loads((path / "training_state.json").read_text())
        assert payload["state"]["global_step"] == int(path.name.split("_")[1])
        weights = load_file(str(path / "model.safetensors"))
        assert weights and all(torch.isfinite(t).all() for t in weights.values() if t.is_floating_point())
        assert not list(path.glob("custom_checkpoint_*.pkl"))  # nothing pickled by us
        steps.append(payload["state"]["global_step"])
    return steps


@pytest.fixture(scope="module")
def reference(tmp_path_factory, coco_mini):
    tmp_path = tmp_path_factory.mktemp("reference")
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    recipe = _recipe(tmp_path, coco_mini, "run")
    completed = _run(driver, recipe)
    assert completed.returncode == 0, completed.stderr[-3000:]
    weights = load_file(str(tmp_path / "run" / "model" / "model.safetensors"))
    return driver, weights


# (kill point, the checkpoint the resumed run must start from)
# Two points in the fast suite (about 20 s each), two more under `-m slow`.
KILL_POINTS = [
    pytest.param("batch:8", 6, id="batch:8"),  # mid-epoch 0: checkpoints at steps 3 and 6 exist, batch 8 is lost
    pytest.param("save_state:3", 6, id="save_state:3"),  # the step-9 checkpoint is half written
    # the epoch-end checkpoint (step 11) is complete in its temporary directory, not yet renamed
    pytest.param("rename:4", 9, id="rename:4", marks=pytest.mark.slow),
    # epoch 1, after the epoch boundary and the step-12 mid-epoch checkpoint
    pytest.param("batch:15", 12, id="batch:15", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("kill, resume_step", KILL_POINTS)
def test_sigkill_then_resume_gives_bitwise_identical_weights(tmp_path, coco_mini, reference, kill, resume_step):
    driver, expected = reference
    recipe = _recipe(tmp_path, coco_mini, "run")
    output_dir = tmp_path / "run"
    killed = _run(driver, recipe, kill)
    assert killed.returncode == -9, f"expected SIGKILL, got {killed.returncode}: {killed.stderr[-2000:]}"
    checkpoint_dir = output_dir / "checkpoints"
    steps = _check_checkpoints(checkpoint_dir)
    assert max(steps) == resume_step, steps

    resumed = _run(driver, recipe)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resumed from {checkpoint_dir / f'step_{resume_step:09d}'}" in resumed.stderr
    weights = load_file(str(output_dir / "model" / "model.safetensors"))
    assert weights.keys() == expected.keys()
    different = [name for name in expected if not torch.equal(weights[name], expected[name])]
    assert not different, f"weights differ from the uninterrupted run: {different[:5]}"
    assert not list(checkpoint_dir.glob(".tmp-*")), "a temporary checkpoint directory survived"
    assert max(_check_checkpoints(checkpoint_dir)) == EPOCHS * STEPS_PER_EPOCH
    history = [json.loads(line) for line in (output_dir / "history.jsonl").read_text().splitlines()]
    assert [r["step"] for r in history] == list(range(1, EPOCHS * STEPS_PER_EPOCH + 1))
    tally.KILLS[f"SIGKILL at {kill}"] = f"resumed from step {resume_step}, weights bitwise equal"
