"""Training, saving, reloading, predicting and evaluating on keypoint sets other than COCO's (K = 5 and K = 14).

The datasets are COCO-format jsons over the coco-mini images whose keypoints are derived from the COCO ones (so that
they sit on people and mirror correctly): K = 5 with sigmas and a skeleton, K = 14 without sigmas, with a skeleton;
the K = 14 training set also as a local Arrow `datasets.Dataset` in hfpose's schema. RLE (K = 5), IPR (K = 14, from
the Arrow dataset) and HRNet-AE (K = 5) train in 2 CPU processes in one `accelerate launch`; each is then reloaded
with `from_pretrained`, run through the pipeline (K named keypoints; a mirrored image gives the mirrored prediction
with the set's flip pairs, top-down and bottom-up) and evaluated (OKS AP with sigmas, PCK without).
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
FLIP14 = [5, 4, 3, 2, 1, 0, 11, 10, 9, 8, 7, 6, 12, 13]  # inferred from the _r / _l names
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


def make_arrow_dataset(ann_file, image_dir, out_dir):
    """The people of a COCO-format json as a `datasets.Dataset` in hfpose's schema (`hfpose.data.hf_datasets`: one row
    per image, ``image`` a `datasets.Image`, ``objects`` a dict of per-person ``bbox`` / K x 3 ``keypoints``), saved
    with ``save_to_disk`` (a local Arrow dataset). Crowd annotations are left out."""
    from datasets import Dataset

    from hfpose.data.hf_datasets import keypoint_dataset_features

    data = json.loads(Path(ann_file).read_text())
    num_keypoints = len(data["categories"][0]["keypoints"])
    people = {}
    for ann in data["annotations"]:
        if not ann.get("iscrowd"):
            person = people.setdefault(ann["image_id"], {"bbox": [], "keypoints": []})
            person["bbox"].append([float(v) for v in ann["bbox"]])
            person["keypoints"].append(np.asarray(ann["keypoints"], dtype=np.float32).reshape(-1, 3).tolist())
    images = [image for image in data["images"] if image["id"] in people]
    dataset = Dataset.from_dict(
        {
            "image_id": [image["id"] for image in images],
            "image": [str(Path(image_dir) / image["file_name"]) for image in images],
            "objects": [people[image["id"]] for image in images],
        },
        features=keypoint_dataset_features(num_keypoints),
    )
    dataset.save_to_disk(str(out_dir))
    return Path(out_dir)


# Runs each recipe of argv[1:] in turn through the CLI (`hfpose train RECIPE --no-resume`) in one launch: the three
# methods share one start of the two processes (about 8 s of imports and process-group set-up on 2 cores). `train`
# ends with `Accelerator.end_training()`, which destroys the process group; the driver keeps it for the next run
# (the group is the launch's, the same for every run) and lets the last run destroy it.
DRIVER = """
import sys

from accelerate.state import PartialState

from hfpose.cli import main

destroy_process_group = PartialState.destroy_process_group
recipes = sys.argv[1:]
for index, recipe in enumerate(recipes):
    last = index == len(recipes) - 1
    PartialState.destroy_process_group = destroy_process_group if last else (lambda self, group=None: None)
    status = main(["train", recipe, "--no-resume"])
    if status:
        sys.exit(f"hfpose train {recipe} exited with {status}")
"""


@pytest.fixture(scope="module")
def two_process_runs(coco_mini, custom_sets, tmp_path_factory):
    """RLE (K = 5, COCO json, sigmas), IPR (K = 14, an Arrow `datasets.Dataset`, no sigmas) and HRNet-AE (K = 5,
    COCO json) trained in 2 CPU processes (`accelerate launch`, DDP over gloo) in one launch: name -> output dir.
    The launch's failure fails every test that uses it, with the failing rank's traceback."""
    root = tmp_path_factory.mktemp("two_process_runs")
    arrow14 = make_arrow_dataset(custom_sets["k14"]["train2017"], coco_mini / "train2017", root / "arrow14")
    recipes = {
        "rle": {},
        "ipr": {
            "method": "ipr",
            "train_dataset": str(arrow14),
            "keypoint_set": str(custom_sets["k14"]["train2017"]),  # names, pairs, skeleton from the COCO-format json
            "input_size": [64, 64],
            "model": {"backbone_config": TINY_BACKBONE, "deconv_out_channels": [16, 16, 16]},
        },
        "ae_hrnet": {
            "method": "ae_hrnet",
            "input_size": [64, 64],
            "batch_size": 8,
            "model": {"backbone_config": TINY_HRNET},
            "score_mode": "bbox",
        },
    }
    paths = []
    for name, overrides in recipes.items():
        (root / name).mkdir()
        ann_files = custom_sets["k14" if name == "ipr" else "k5"]
        paths.append(str(_recipe(root / name, coco_mini, ann_files, **overrides)))
    driver = root / "driver.py"
    driver.write_text(DRIVER)
    command, env = cpu_ddp_launch(str(driver), *paths)
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=REPO)
    # the CLI's one-line errors (any rank) and the main process's traceback, else the end of the log
    lines = completed.stderr.splitlines()
    errors = [line for line in lines if line.startswith("error:")] + [line for line in lines if "rank0" in line]
    message = "\n".join(errors[:30]) or completed.stderr[-3000:]
    return {"returncode": completed.returncode, "message": message, **{name: root / name / "run" for name in recipes}}


def _two_process_run(runs, name) -> Path:
    """The output dir of one run of `two_process_runs`, after checking that the launch succeeded, that both
    processes took part, and that every logged loss is finite."""
    assert runs["returncode"] == 0, runs["message"]
    run = runs[name]
    processes = json.loads((run / "processes.json").read_text())
    assert processes["num_processes"] == 2 and all(count > 0 for count in processes["samples_per_process"])
    losses = [json.loads(line).get("loss") for line in (run / "history.jsonl").read_text().splitlines()]
    losses = [loss for loss in losses if loss is not None]
    assert losses and all(np.isfinite(losses)), losses
    return run


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


def _redraw_weights(model, seed: int = 0):
    """``model`` with its (transposed) convolution weights re-drawn, seeded Kaiming normal, biases N(0, 0.1): a few
    training steps leave heatmaps flat (IPR: every keypoint at the soft-argmax of a flat map, the crop centre;
    HRNet-AE: plateaus), on which a mirror check cannot tell the flip pairs apart. The flip test makes the prediction
    mirror-equivariant for any weights, so re-drawn ones test the pipeline and the saved pairs all the same."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                torch.nn.init.kaiming_normal_(module.weight, generator=generator)
                if module.bias is not None:
                    module.bias.normal_(0.0, 0.1, generator=generator)
    return model.eval()


def _check_pipeline(model_dir, coco_mini, names, flip_indices, image_processor=None, model=None):
    """K named keypoints; a mirrored image and box give the mirrored prediction with the flip pairs swapped
    (``image_processor``, ``model``: used instead of the saved ones)."""
    import cv2
    from transformers import AutoImageProcessor, pipeline

    import hfpose  # noqa: F401

    if model is not None and image_processor is None:
        image_processor = AutoImageProcessor.from_pretrained(model_dir)
    estimator = pipeline("keypoint-detection", model=model or str(model_dir), image_processor=image_processor)
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


def test_rle_trains_on_5_keypoints_with_sigmas_in_two_cpu_processes_and_reports_ap(coco_mini, two_process_runs):
    from transformers import AutoConfig

    run = _two_process_run(two_process_runs, "rle")
    config = AutoConfig.from_pretrained(run / "model")
    assert config.id2label == dict(enumerate(SET5)) and config.flip_indices == [0, 2, 1, 4, 3]
    assert config.skeleton == [[0, 1], [0, 2], [1, 3], [2, 3], [0, 1]]
    assert config.sigmas == [0.05, 0.08, 0.08, 0.1, 0.1]
    metrics = json.loads((run / "metrics.json").read_text())
    assert {"AP", "AP .5", "AR"} <= set(metrics) and 0.0 <= metrics["AP"] <= 1.0
    _check_pipeline(run / "model", coco_mini, list(SET5), [0, 2, 1, 4, 3])


@pytest.mark.parametrize(
    "name, wrong",
    [
        ("rle", [0, 1, 2, 3, 4]),  # no pairs
        ("rle", [0, 3, 4, 1, 2]),  # shoulders with hips
        ("ipr", list(range(14))),
        ("ipr", [2, 1, 0, 5, 4, 3, *FLIP14[6:]]),  # legs mirrored within each side
    ],
    ids=["rle-no-pairs", "rle-shoulder-hip", "ipr-no-pairs", "ipr-legs"],
)
def test_the_top_down_mirror_check_detects_wrong_flip_indices(coco_mini, two_process_runs, name, wrong):
    """The mirror check of `_check_pipeline` fails when the processor's flip test uses other pairs than the set's
    (measured: 5 to 83 px off where the right pairs give 0.03 px)."""
    from transformers import AutoImageProcessor, AutoModelForPoseEstimation

    import hfpose  # noqa: F401

    model_dir = _two_process_run(two_process_runs, name) / "model"
    names, flip = (list(SET5), [0, 2, 1, 4, 3]) if name == "rle" else (list(SET14), FLIP14)
    model = _redraw_weights(AutoModelForPoseEstimation.from_pretrained(model_dir)) if name == "ipr" else None
    processor = AutoImageProcessor.from_pretrained(model_dir, flip_indices=wrong)
    with pytest.raises(AssertionError):
        _check_pipeline(model_dir, coco_mini, names, flip, image_processor=processor, model=model)


def test_ipr_trains_on_14_keypoints_without_sigmas_from_datasets_in_two_cpu_processes_and_reports_pck(
    coco_mini, custom_sets, two_process_runs
):
    from transformers import AutoConfig, AutoModelForPoseEstimation

    run = _two_process_run(two_process_runs, "ipr")
    exported = json.loads((run / "data" / "train" / "annotations.json").read_text())  # the Arrow rows, as COCO format
    source = json.loads(custom_sets["k14"]["train2017"].read_text())
    assert len(exported["annotations"]) == sum(1 for ann in source["annotations"] if not ann.get("iscrowd"))
    config = AutoConfig.from_pretrained(run / "model")
    assert config.num_labels == 14 and config.sigmas is None and len(config.skeleton) == 11
    flip = FLIP14
    assert config.flip_indices == flip
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics) >= {"PCK@0.2", "AUC", "EPE"} and 0.0 <= metrics["PCK@0.2"] <= 1.0
    assert metrics["EPE"] > 0
    _check_pipeline(run / "model", coco_mini, list(SET14), flip)  # the trained model puts all 14 at one point
    model = _redraw_weights(AutoModelForPoseEstimation.from_pretrained(run / "model"))
    xy = _check_pipeline(run / "model", coco_mini, list(SET14), flip, model=model)
    assert np.ptp(xy[:6, 0]) > 1.0  # keypoints apart: the mirror check can tell the pairs apart
    from hfpose.training.evaluation_loop import evaluate_saved_model  # scripts/evaluate.py, `hfpose evaluate`

    report = evaluate_saved_model(
        run / "model", coco_mini, split="val2017", ann_file=custom_sets["k14"]["val2017"], progress=False
    )
    assert report["stats"]["PCK@0.2"] == pytest.approx(metrics["PCK@0.2"], abs=1e-9)


def test_hrnet_ae_trains_on_5_keypoints_in_two_cpu_processes(coco_mini, two_process_runs):
    from transformers import AutoConfig, pipeline

    import hfpose  # noqa: F401

    run = _two_process_run(two_process_runs, "ae_hrnet")
    metrics = json.loads((run / "metrics.json").read_text())
    assert "AP" in metrics and 0.0 <= metrics["AP"] <= 1.0
    config = AutoConfig.from_pretrained(run / "model")
    assert config.id2label == dict(enumerate(SET5)) and config.flip_indices == [0, 2, 1, 4, 3]
    preprocessor = json.loads((run / "model" / "preprocessor_config.json").read_text())
    assert preprocessor["grouping_order"] == [0, 1, 2, 3, 4] and preprocessor["keypoint_names"] == list(SET5)
    assert preprocessor["flip_indices"] == [0, 2, 1, 4, 3]
    estimator = pipeline("keypoint-detection", model=str(run / "model"))
    persons = estimator(str(coco_mini / "val2017" / sorted(os.listdir(coco_mini / "val2017"))[0]))
    for person in persons:
        assert [k["label"] for k in person["keypoints"]] == list(SET5)


def test_bottom_up_grouping_order_comes_from_the_keypoint_set_file(tmp_path, coco_mini, custom_sets):
    """A keypoint-set file's ``grouping_order`` reaches the saved bottom-up processor (it was replaced by range(K))."""
    import dataclasses

    from hfpose.keypoints import KeypointSet
    from hfpose.training import TrainingRecipe
    from hfpose.training.loop import build_image_processor, build_model

    order = [1, 2, 0, 3, 4]  # shoulders first
    keypoint_set = KeypointSet.from_coco(custom_sets["k5"]["train2017"])
    dataclasses.replace(keypoint_set, grouping_order=tuple(order)).save(tmp_path / "set5.yaml")
    overrides = {"method": "ae_hrnet", "input_size": [64, 64], "model": {"backbone_config": TINY_HRNET}}
    recipe = TrainingRecipe.from_yaml(
        _recipe(tmp_path, coco_mini, custom_sets["k5"], keypoint_set=str(tmp_path / "set5.yaml"), **overrides)
    )
    config = build_model(recipe).config
    processor = build_image_processor(recipe, config)
    assert processor.grouping_order == order and processor.flip_indices == config.flip_indices == [0, 2, 1, 4, 3]
    # without the file: the COCO-format json's categories carry no order, so range(K)
    plain = TrainingRecipe.from_yaml(_recipe(tmp_path, coco_mini, custom_sets["k5"], **overrides))
    assert build_image_processor(plain, build_model(plain).config).grouping_order == [0, 1, 2, 3, 4]


def _mirror_mismatch(estimator, image, flip_indices):
    """Run the bottom-up ``estimator`` on ``image`` and on its mirror image; map the mirror image's people back
    (x -> w - 1 - x, keypoint k <- keypoint ``flip_indices[k]``) and return the largest ``(x, y)`` difference in
    image px and the largest relative keypoint-score difference from the people found on ``image``."""
    width = image.shape[1]
    people = estimator(image)
    mirrored = estimator(np.ascontiguousarray(image[:, ::-1]))
    assert len(people) == len(mirrored) == 1  # one person: see the parser settings of the test
    xy = np.array([[k["x"], k["y"]] for k in people[0]["keypoints"]])
    scores = np.array([k["score"] for k in people[0]["keypoints"]])
    back = np.array([[width - 1 - k["x"], k["y"]] for k in mirrored[0]["keypoints"]])[flip_indices]
    back_scores = np.array([k["score"] for k in mirrored[0]["keypoints"]])[flip_indices]
    return float(np.abs(back - xy).max()), float(np.abs(back_scores - scores).max() / np.abs(scores).max())


@pytest.fixture(scope="module")
def bottom_up_mirror_case(coco_mini, two_process_runs):
    """(model, image, settings) for the bottom-up mirror check on the trained HRNet-AE (K = 5) model.

    Why the flipped image gives exactly the mirrored prediction: with the flip test the processor averages
    ``H(x)`` and ``F(H(flip x))`` (F: reverse the width and reorder channels by ``flip_indices``), so the maps of the
    mirror image are ``F`` of the maps of the image, up to the order of one float addition, for *any* weights, as long
    as ``flip_indices`` is a left/right involution; the pipeline's keypoints then mirror when the rest is symmetric:

    * the UDP resize is anchored top-left and pads right/bottom to multiples of 64, so the image must fill the input
      exactly, ``(w - 1) / (h - 1) == (w_in - 1) / (h_in - 1)``: a square image. Its size 127 resizes by exactly 1/2
      to the 64 x 64 input (OpenCV's fixed-point resampling is only mirror-symmetric for such sizes: 255 x 255 gives
      pixel differences of 0.05, measured), and maps back by x -> w - 1 - x (``scale_w = w - 1``);
    * the parser: grouping visits keypoints in ``grouping_order`` (not mirror-invariant: left before right) and
      DARK-UDP's mixed derivative uses one diagonal (MMPose's ``post_dark_udp`` stencil), so the test parses one person
      (``max_num_people=1``, one candidate per keypoint, ``tag_threshold`` large) without ``adjust`` (with it the
      mirrored keypoints differ by 0.3 to 4.5 px, measured).

    The few-step model's heatmaps are plateaus (66 distinct values among 256 pixels, measured), where argmax ties
    break in row-major order, so the reloaded model's weights are re-drawn (`_redraw_weights`).
    """
    import cv2
    from transformers import AutoModelForPoseEstimation

    import hfpose  # noqa: F401

    model_dir = _two_process_run(two_process_runs, "ae_hrnet") / "model"
    model = _redraw_weights(AutoModelForPoseEstimation.from_pretrained(model_dir))
    path = coco_mini / "val2017" / sorted(os.listdir(coco_mini / "val2017"))[0]
    image = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    side = min(image.shape[:2])
    image = np.ascontiguousarray(cv2.resize(image[:side, :side], (127, 127), interpolation=cv2.INTER_AREA))
    settings = {"max_num_people": 1, "tag_threshold": 1e9, "adjust": False}
    return model_dir, model, image, settings


# float32 rounding of the heatmap -> image map and of w - 1 - x at x ~ 100 px (ulp 7.6e-6): 9.5e-6 px measured
MIRROR_ATOL_PX = 1e-4


def test_hrnet_ae_flip_test_gives_the_mirrored_prediction_with_the_sets_pairs(bottom_up_mirror_case):
    from transformers import AutoImageProcessor, pipeline

    model_dir, model, image, settings = bottom_up_mirror_case
    processor = AutoImageProcessor.from_pretrained(model_dir, **settings)
    assert processor.flip_test and processor.flip_indices == [0, 2, 1, 4, 3]  # the saved set's pairs
    estimator = pipeline("keypoint-detection", model=model, image_processor=processor)
    xy_error, score_error = _mirror_mismatch(estimator, image, [0, 2, 1, 4, 3])
    assert xy_error < MIRROR_ATOL_PX and score_error < 1e-6, (xy_error, score_error)


@pytest.mark.parametrize("wrong", [[0, 1, 2, 3, 4], [0, 3, 4, 1, 2]], ids=["no-pairs", "shoulder-hip"])
def test_the_bottom_up_mirror_check_detects_wrong_flip_indices(bottom_up_mirror_case, wrong):
    from transformers import AutoImageProcessor, pipeline

    model_dir, model, image, settings = bottom_up_mirror_case
    processor = AutoImageProcessor.from_pretrained(model_dir, **settings, flip_indices=wrong)
    estimator = pipeline("keypoint-detection", model=model, image_processor=processor)
    xy_error, score_error = _mirror_mismatch(estimator, image, [0, 2, 1, 4, 3])
    # 34 to 76 px and 0.37 to 0.71 measured over three images; the right pairs give 1e-5 px and 0
    assert xy_error > 100 * MIRROR_ATOL_PX and score_error > 1e-2, (xy_error, score_error)
