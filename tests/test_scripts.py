"""The thin entry points under scripts/ run end to end on coco-mini."""

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}


def test_evaluate_bottom_up_model(tmp_path, coco_mini):
    from hfpose.image_processing_bottomup import BottomUpPoseImageProcessor
    from hfpose.models.associative_embedding import AssociativeEmbeddingConfig, AssociativeEmbeddingForPoseEstimation
    from hfpose.models.hrnet import HRNetConfig

    torch.manual_seed(0)
    backbone = HRNetConfig(
        stem_channels=8,
        stage1_channels=8,
        stage1_num_blocks=1,
        hidden_sizes=[4, 8, 8, 8],
        num_modules=[1, 1, 1],
        num_blocks=[1, 1, 1],
    )
    config = AssociativeEmbeddingConfig(backbone_config=backbone, input_size=[128, 128])
    AssociativeEmbeddingForPoseEstimation(config).save_pretrained(tmp_path / "model")
    BottomUpPoseImageProcessor(input_size=128).save_pretrained(tmp_path / "model")
    output = tmp_path / "eval.json"
    completed = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "evaluate.py"),
            str(tmp_path / "model"),
            "--data-root",
            str(coco_mini),
            "--output",
            str(output),
        ],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(output.read_text())
    assert report["score_mode"] == "bbox" and report["flip_test"] is True
    assert set(report["stats"]) >= {"AP", "AP .5", "AR"}
    assert all(-1.0 <= value <= 1.0 for value in report["stats"].values())


def test_evaluate_rejects_a_directory_without_config(tmp_path, coco_mini):
    completed = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "evaluate.py"), str(tmp_path), "--data-root", str(coco_mini)],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert completed.returncode == 2 and "no config.json" in completed.stderr
