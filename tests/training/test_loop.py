"""End-to-end training on real coco-mini images with a tiny RLE model: single process, resume, and 2-process DDP."""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from launch_utils import cpu_ddp_launch

REPO = Path(__file__).resolve().parents[2]
TINY_BACKBONE = {
    "model_type": "resnet",
    "embedding_size": 8,
    "hidden_sizes": [8, 16, 16, 32],
    "depths": [1, 1, 1, 1],
    "layer_type": "basic",
    "out_features": ["stage4"],
}


def tiny_recipe(tmp_path, coco_mini, **overrides) -> Path:
    recipe = {
        "method": "rle",
        "backbone": "custom",
        "model": {"backbone_config": TINY_BACKBONE},
        "data_root": str(coco_mini),
        "bbox_file": None,
        "pretrained_backbone": None,
        "input_size": [48, 64],
        "auto_scale_lr": False,
        "epochs": 2,
        "batch_size": 16,
        "warmup_iters": 2,
        "milestones": [1],
        "val_interval": 2,
        "checkpoint_interval": 1,
        "num_workers": 0,
        "score_mode": "bbox_rle",
        "output_dir": str(tmp_path / "run"),
        "log_interval": 1,
    }
    recipe.update(overrides)
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def _ground_truth_instances(coco_mini) -> int:
    annotations = json.loads((coco_mini / "annotations" / "person_keypoints_val2017.json").read_text())["annotations"]
    return sum(1 for a in annotations if not a.get("iscrowd", 0) and a.get("num_keypoints", 0) > 0)


def test_train_evaluate_save_and_pipeline(tmp_path, coco_mini):
    from transformers import pipeline

    import hfpose  # noqa: F401
    from hfpose.training import TrainingRecipe, train

    recipe = TrainingRecipe.from_yaml(tiny_recipe(tmp_path, coco_mini))
    result = train(recipe)
    history = [json.loads(line) for line in (result.output_dir / "history.jsonl").read_text().splitlines()]
    train_rows = json.loads((coco_mini / "annotations" / "person_keypoints_train2017.json").read_text())["annotations"]
    num_train = sum(1 for a in train_rows if not a.get("iscrowd", 0) and a.get("num_keypoints", 0) > 0)
    steps_per_epoch = -(-num_train // 16)
    assert result.global_step == 2 * steps_per_epoch == len(history)
    assert all(np.isfinite(r["loss"]) for r in history)
    # Warm-up (2 steps from 0.001) then x0.1 after epoch 1.
    assert history[0]["lr"] == pytest.approx(1e-3 * (0.001 + 0.999 * 1 / 2))
    assert history[-1]["lr"] == pytest.approx(1e-4)
    # Evaluation covered every annotated val instance exactly once and produced the 10 COCO stats.
    assert result.metrics["num_predictions"] == _ground_truth_instances(coco_mini)
    assert {"AP", "AP .5", "AR"} <= set(result.metrics) and 0.0 <= result.metrics["AP"] <= 1.0
    # Checkpoints are complete and the final model loads in the pipeline.
    checkpoints = sorted((result.output_dir / "checkpoints").iterdir())
    assert [c.name for c in checkpoints] == [f"step_{steps_per_epoch:09d}", f"step_{2 * steps_per_epoch:09d}"]
    assert all((c / "COMPLETE").is_file() for c in checkpoints)
    estimator = pipeline("keypoint-detection", model=str(result.model_dir))
    image = coco_mini / "val2017" / sorted(os.listdir(coco_mini / "val2017"))[0]
    persons = estimator(str(image), boxes=[[10.0, 20.0, 100.0, 200.0]])
    assert len(persons) == 1 and len(persons[0]["keypoints"]) == 17


def test_resume_continues_from_latest_checkpoint(tmp_path, coco_mini):
    from hfpose.training import TrainingRecipe, train

    path = tiny_recipe(tmp_path, coco_mini, val_interval=100)
    first = train(TrainingRecipe.from_yaml(path, ["epochs=1"]))
    second = train(TrainingRecipe.from_yaml(path, ["epochs=2"]))
    assert second.global_step == 2 * first.global_step
    history = [json.loads(line) for line in (second.output_dir / "history.jsonl").read_text().splitlines()]
    # The second run appended only the second epoch's steps.
    assert [r["step"] for r in history] == list(range(1, second.global_step + 1))
    assert {r["epoch"] for r in history[first.global_step :]} == {1}


def test_two_process_data_parallel_on_cpu(tmp_path, coco_mini):
    path = tiny_recipe(tmp_path, coco_mini, epochs=1, checkpoint_interval=1, val_interval=1)
    command, env = cpu_ddp_launch(str(REPO / "scripts" / "train.py"), str(path), "--no-resume")
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert completed.returncode == 0, completed.stderr[-3000:]
    output_dir = tmp_path / "run"
    processes = json.loads((output_dir / "processes.json").read_text())
    assert processes["num_processes"] == 2
    train_rows = json.loads((coco_mini / "annotations" / "person_keypoints_train2017.json").read_text())["annotations"]
    num_train = sum(1 for a in train_rows if not a.get("iscrowd", 0) and a.get("num_keypoints", 0) > 0)
    samples = processes["samples_per_process"]
    assert all(count > 0 for count in samples)  # both processes took part
    assert num_train <= sum(samples) <= num_train + 2 * 16  # the sampler pads the tail at most one batch per process
    metrics = json.loads((output_dir / "metrics.json").read_text())
    assert metrics["num_predictions"] == _ground_truth_instances(coco_mini)  # every instance once after gathering


def test_mpii_recipe_trains_and_reports_pckh(tmp_path, mpii_mini):
    from hfpose.training import TrainingRecipe, train

    path = tiny_recipe(
        tmp_path,
        mpii_mini,
        dataset="mpii",
        train_split="sample",
        val_split="sample",
        input_size=[64, 64],
        batch_size=4,
        half_body_prob=0.0,
        shift_prob=0.0,
        epochs=1,
        val_interval=1,
    )
    result = train(TrainingRecipe.from_yaml(path))
    assert result.global_step == 2  # 5 people, batch 4
    assert result.metrics["num_predictions"] == 5
    assert {"PCK", "PCK@0.1", "Head PCK"} <= set(result.metrics)
    assert 0.0 <= result.metrics["PCK"] <= 100.0
    model_config = json.loads((result.model_dir / "config.json").read_text())
    assert model_config["dataset"] == "mpii" and len(model_config["id2label"]) == 16


def test_annotation_keypoint_count_must_match_the_config(tmp_path, coco_mini):
    from hfpose.training import TrainingRecipe
    from hfpose.training.loop import _build_train_dataset, build_model

    # A COCO annotation file (17 keypoints) given to a model configured for MPII's 16 keypoints.
    recipe = TrainingRecipe.from_yaml(tiny_recipe(tmp_path, coco_mini, dataset="mpii"))

    model = build_model(recipe)
    recipe.dataset = "coco"  # load the COCO json while the model expects 16 keypoints
    with pytest.raises(ValueError, match="17|16"):  # the error names both keypoint counts
        _build_train_dataset(recipe, model.config)


TINY_HRNET = {
    "model_type": "hfpose_hrnet",
    "stem_channels": 8,
    "stage1_channels": 8,
    "stage1_num_blocks": 1,
    "hidden_sizes": [4, 8, 8, 8],
    "num_modules": [1, 1, 1],
    "num_blocks": [1, 1, 1],
}


@pytest.mark.parametrize("method", ["ae_hrnet", "ae_higherhrnet"])
def test_bottom_up_training_loss_falls_and_evaluates(tmp_path, coco_mini, method):
    from transformers import pipeline

    import hfpose  # noqa: F401
    from hfpose.training import TrainingRecipe, train

    path = tiny_recipe(
        tmp_path,
        coco_mini,
        method=method,
        model={"backbone_config": TINY_HRNET},
        input_size=[64, 64],
        epochs=6,
        batch_size=16,
        lr=3e-3,
        milestones=[100],
        val_interval=6,
        checkpoint_interval=6,
        score_mode="bbox",
        nms_mode="oks_nms",
        # augmentation off so that "the loss falls" is about learning, not about the draws
        flip_prob=0.0,
        rotate_factor=0.0,
        scale_factor=[1.0, 1.0],
        shift_factor=0.0,
    )
    result = train(TrainingRecipe.from_yaml(path))
    losses = [r["loss"] for r in result.history]
    assert all(np.isfinite(losses))
    third = len(losses) // 3
    assert np.mean(losses[-third:]) < np.mean(losses[:third])  # the loss falls
    images = json.loads((coco_mini / "annotations" / "person_keypoints_val2017.json").read_text())["images"]
    assert result.metrics["num_predictions"] >= 0 and "AP" in result.metrics
    estimator = pipeline("keypoint-detection", model=str(result.model_dir))
    persons = estimator(str(coco_mini / "val2017" / images[0]["file_name"]))
    assert isinstance(persons, list)
    for person in persons:
        assert len(person["keypoints"]) == 17 and len(person["bbox"]) == 4
