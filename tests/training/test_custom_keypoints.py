"""Training, saving, reloading, predicting and evaluating on keypoint sets other than COCO's (K = 5 and K = 14).

The datasets are COCO-format jsons over the coco-mini images whose keypoints are derived from the COCO ones (so that
they sit on people and mirror correctly): K = 5 with sigmas and a skeleton, K = 14 without sigmas, with a skeleton.
"""

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
TINY_HRNET = {
    "model_type": "hfpose_hrnet",
    "stem_channels": 8,
    "stage1_channels": 8,
    "stage1_num_blocks": 1,
    "hidden_sizes": [4, 8, 8, 8],
    "num_modules": [1, 1, 1],
    "num_blocks": [1, 1, 1],
}

# name -> COCO keypoint indices averaged to make it
SET5 = {"head": [0], "left_shoulder": [5], "right_shoulder": [6], "left_hip": [11], "right_hip": [12]}
SET14 = {
    "ankle_r": [16],
    "knee_r": [14],
    "hip_r": [12],
    "hip_l": [11],
    "knee_l": [13],
    "ankle_l": [15],
    "wrist_r": [10],
    "elbow_r": [8],
    "shoulder_r": [6],
    "shoulder_l": [5],
    "elbow_l": [7],
    "wrist_l": [9],
    "neck": [5, 6],
    "head_top": [1, 2],
}
SKELETON5 = [[1, 2], [1, 3], [2, 4], [3, 4], [1, 2]]  # 1-based, as the COCO format stores it (duplicate on purpose)
SKELETON14 = [[1, 2], [2, 3], [4, 5], [5, 6], [7, 8], [8, 9], [10, 11], [11, 12], [9, 13], [10, 13], [13, 14]]


def _derive(keypoints17, recipe):
    points = np.asarray(keypoints17, dtype=np.float64).reshape(17, 3)
    out = []
    for indices in recipe.values():
        chosen = points[indices]
        if (chosen[:, 2] > 0).all():
            out.extend([*chosen[:, :2].mean(axis=0).round(2).tolist(), int(chosen[:, 2].min())])
        else:
            out.extend([0.0, 0.0, 0])
    return out


def make_coco_format_set(coco_mini, out_dir, split, recipe, skeleton, sigmas=None):
    """A COCO-format json of ``split`` with the keypoints of ``recipe``; images stay in coco-mini."""
    source = json.loads((coco_mini / "annotations" / f"person_keypoints_{split}.json").read_text())
    category = {
        "id": 1,
        "name": f"set{len(recipe)}",
        "supercategory": "person",
        "keypoints": list(recipe),
        "skeleton": skeleton,
    }
    if sigmas is not None:
        category["sigmas"] = sigmas
    annotations = []
    for ann in source["annotations"]:
        keypoints = _derive(ann["keypoints"], recipe)
        annotations.append({**ann, "keypoints": keypoints, "num_keypoints": sum(1 for v in keypoints[2::3] if v > 0)})
    path = Path(out_dir) / f"set{len(recipe)}_{split}.json"
    path.write_text(json.dumps({"images": source["images"], "annotations": annotations, "categories": [category]}))
    return path


@pytest.fixture(scope="module")
def custom_sets(coco_mini, tmp_path_factory):
    root = tmp_path_factory.mktemp("custom_sets")
    sets = {}
    for name, recipe, skeleton, sigmas in (
        ("k5", SET5, SKELETON5, [0.05, 0.08, 0.08, 0.1, 0.1]),
        ("k14", SET14, SKELETON14, None),
    ):
        sets[name] = {
            split: make_coco_format_set(coco_mini, root, split, recipe, skeleton, sigmas)
            for split in ("train2017", "val2017")
        }
    return sets


def _recipe(tmp_path, coco_mini, ann_files, **overrides) -> Path:
    recipe = {
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
        "milestones": [5],
        "val_interval": 1,
        "checkpoint_interval": 1,
        "num_workers": 0,
        "score_mode": "bbox_rle",
        "log_interval": 1,
        "train_ann_file": str(ann_files["train2017"]),
        "train_image_dir": "train2017",
        "val_ann_file": str(ann_files["val2017"]),
        "val_image_dir": "val2017",
        "output_dir": str(tmp_path / "run"),
        "use_udp": True,
    }
    recipe.update(overrides)
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def _check_pipeline(model_dir, coco_mini, names, flip_indices):
    """K named keypoints; a mirrored image and box give the mirrored prediction with the flip pairs swapped."""
    import cv2
    from transformers import pipeline

    import hfpose  # noqa: F401

    estimator = pipeline("keypoint-detection", model=str(model_dir))
    image_path = coco_mini / "val2017" / sorted(os.listdir(coco_mini / "val2017"))[0]
    image = cv2.cvtColor(cv2.imread(str(image_path)), cv2.COLOR_BGR2RGB)
    width = image.shape[1]
    box = [40.0, 30.0, 120.0, 240.0]
    mirrored_box = [width - 1 - box[0] - box[2], box[1], box[2], box[3]]
    from PIL import Image

    person = estimator(Image.fromarray(image), boxes=[box])[0]
    mirrored = estimator(Image.fromarray(np.ascontiguousarray(image[:, ::-1])), boxes=[mirrored_box])[0]
    assert [k["label"] for k in person["keypoints"]] == names
    xy = np.array([[k["x"], k["y"]] for k in person["keypoints"]])
    xy_mirrored = np.array([[k["x"], k["y"]] for k in mirrored["keypoints"]])
    back = xy_mirrored[flip_indices]
    back[:, 0] = width - 1 - back[:, 0]
    # The flip test (with the right pairs) makes the prediction mirror-equivariant: y exactly; x up to one constant
    # offset, MMPose's `shift_coords` convention of the regression flip. Wrong pairs would move each keypoint
    # differently. (UDP crops of a mirrored image are mirrored crops; the biased crop is half a pixel off.)
    np.testing.assert_allclose(back[:, 1], xy[:, 1], atol=0.1)
    offsets = back[:, 0] - xy[:, 0]
    assert np.ptp(offsets) < 0.1, offsets
    assert abs(offsets.mean()) < 0.1 * box[2]
    return xy


def test_rle_trains_on_5_keypoints_with_sigmas_and_reports_ap(tmp_path, coco_mini, custom_sets):
    from transformers import AutoConfig

    from hfpose.training import TrainingRecipe, train

    result = train(TrainingRecipe.from_yaml(_recipe(tmp_path, coco_mini, custom_sets["k5"])))
    assert result.global_step >= 1 and all(np.isfinite([r["loss"] for r in result.history]))
    config = AutoConfig.from_pretrained(result.model_dir)
    assert config.id2label == dict(enumerate(SET5)) and config.flip_indices == [0, 2, 1, 4, 3]
    assert config.skeleton == [[0, 1], [0, 2], [1, 3], [2, 3], [0, 1]]
    assert config.sigmas == [0.05, 0.08, 0.08, 0.1, 0.1]
    assert {"AP", "AP .5", "AR"} <= set(result.metrics) and 0.0 <= result.metrics["AP"] <= 1.0
    _check_pipeline(result.model_dir, coco_mini, list(SET5), [0, 2, 1, 4, 3])


def test_ipr_trains_on_14_keypoints_without_sigmas_and_reports_pck(tmp_path, coco_mini, custom_sets):
    from transformers import AutoConfig

    from hfpose.training import TrainingRecipe, train

    path = _recipe(
        tmp_path,
        coco_mini,
        custom_sets["k14"],
        method="ipr",
        input_size=[64, 64],
        model={"backbone_config": TINY_BACKBONE, "deconv_out_channels": [16, 16, 16]},
    )
    result = train(TrainingRecipe.from_yaml(path))
    config = AutoConfig.from_pretrained(result.model_dir)
    assert config.num_labels == 14 and config.sigmas is None and len(config.skeleton) == 11
    flip = [5, 4, 3, 2, 1, 0, 11, 10, 9, 8, 7, 6, 12, 13]
    assert config.flip_indices == flip
    assert set(result.metrics) >= {"PCK@0.2", "AUC", "EPE"} and 0.0 <= result.metrics["PCK@0.2"] <= 1.0
    assert result.metrics["EPE"] > 0
    _check_pipeline(result.model_dir, coco_mini, list(SET14), flip)
    from hfpose.training.evaluation_loop import evaluate_saved_model  # scripts/evaluate.py, `hfpose evaluate`

    report = evaluate_saved_model(
        result.model_dir, coco_mini, split="val2017", ann_file=custom_sets["k14"]["val2017"], progress=False
    )
    assert report["stats"]["PCK@0.2"] == pytest.approx(result.metrics["PCK@0.2"], abs=1e-9)


def test_hrnet_ae_trains_on_5_keypoints_in_two_cpu_processes(tmp_path, coco_mini, custom_sets):
    from transformers import AutoConfig, pipeline

    import hfpose  # noqa: F401

    path = _recipe(
        tmp_path,
        coco_mini,
        custom_sets["k5"],
        method="ae_hrnet",
        input_size=[64, 64],
        batch_size=8,
        model={"backbone_config": TINY_HRNET},
        score_mode="bbox",
    )
    command, env = cpu_ddp_launch(str(REPO / "scripts" / "train.py"), str(path), "--no-resume")
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=REPO)
    errors = [line for line in completed.stderr.splitlines() if "rank0" in line]  # its traceback
    assert completed.returncode == 0, "\n".join(errors[:20]) or completed.stderr[-3000:]
    run = tmp_path / "run"
    assert json.loads((run / "processes.json").read_text())["num_processes"] == 2
    metrics = json.loads((run / "metrics.json").read_text())
    assert "AP" in metrics and 0.0 <= metrics["AP"] <= 1.0
    config = AutoConfig.from_pretrained(run / "model")
    assert config.id2label == dict(enumerate(SET5)) and config.flip_indices == [0, 2, 1, 4, 3]
    preprocessor = json.loads((run / "model" / "preprocessor_config.json").read_text())
    assert preprocessor["grouping_order"] == [0, 1, 2, 3, 4] and preprocessor["keypoint_names"] == list(SET5)
    estimator = pipeline("keypoint-detection", model=str(run / "model"))
    persons = estimator(str(coco_mini / "val2017" / sorted(os.listdir(coco_mini / "val2017"))[0]))
    for person in persons:
        assert [k["label"] for k in person["keypoints"]] == list(SET5)
