"""A converted MMPose 0.29 bottom-up checkpoint runs in `pipeline("keypoint-detection")` on a real photo and finds the
people MMPose 0.29 found (golden `bottomup029/hrnet_w32.npz`, random weights in the 0.x checkpoint layout)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from transformers import pipeline

import hfpose  # noqa: F401

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.golden
def test_converted_hrnet_w32_pipeline_matches_mmpose_people(golden_dir, coco_mini, tmp_path):
    checkpoint = golden_dir / "bottomup029" / "weights" / "hrnet_w32_coco_512x512_udp_random.pth"
    output = tmp_path / "hrnet_w32"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    completed = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "convert_mmpose_checkpoint.py"),
            str(checkpoint),
            "--method",
            "ae_hrnet",
            "--backbone",
            "w32",
            "--output",
            str(output),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert (output / "preprocessor_config.json").is_file() and (output / "model.safetensors").is_file()

    golden = np.load(golden_dir / "bottomup029" / "hrnet_w32.npz")
    estimator = pipeline("keypoint-detection", model=str(output))
    assert type(estimator.image_processor).__name__ == "BottomUpPoseImageProcessor"
    persons = estimator(str(coco_mini / "val2017" / str(golden["img0_file_name"])))
    expected = golden["img0_test_gpu_preds"][..., :2]  # (P, 17, 2) image px
    assert len(persons) == len(expected) > 0
    predicted = np.array([[[k["x"], k["y"]] for k in p["keypoints"]] for p in persons])
    assert np.isfinite(predicted).all()
    # Match people (the grouping of a network's own maps may legitimately order near-ties differently).
    cost = np.linalg.norm(predicted[:, None] - expected[None], axis=-1).mean(-1)
    rows, columns = linear_sum_assignment(cost)
    errors = cost[rows, columns]
    assert np.mean(errors < 1.0) >= 0.9, errors
