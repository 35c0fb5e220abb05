"""`evaluate.load` metric modules: same numbers as hfpose's evaluation code and as `scripts/evaluate.py`."""

import importlib.util
import json
from pathlib import Path

import evaluate
import numpy as np
import pytest
import torch

from hfpose.evaluation import CocoKeypointEvaluator, compute_pckh
from hfpose.evaluation.metrics import METRIC_NAMES, metric_path

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def coco_metric():
    return evaluate.load(metric_path("coco_keypoint_ap"))


@pytest.fixture(scope="module")
def noisy_predictions(coco_mini):
    """Ground-truth val keypoints plus Gaussian noise (non-trivial AP), with boxes, areas and ids."""
    ann_file = coco_mini / "annotations" / "person_keypoints_val2017.json"
    annotations = json.loads(ann_file.read_text())
    rng = np.random.default_rng(0)
    predictions = []
    for annotation in annotations["annotations"]:
        if annotation["num_keypoints"] == 0 or annotation["iscrowd"]:
            continue
        points = np.asarray(annotation["keypoints"], dtype=np.float64).reshape(17, 3)
        size = np.sqrt(annotation["area"])
        predictions.append(
            {
                "image_id": annotation["image_id"],
                "id": annotation["id"],
                "keypoints": (points[:, :2] + rng.normal(0, 0.05 * size, (17, 2))).tolist(),
                "keypoint_scores": rng.uniform(0.1, 1.0, 17).astype(np.float32).tolist(),
                "bbox_score": 1.0,
                "area": float(annotation["bbox"][2] * annotation["bbox"][3] * 1.5625),
                "bbox": [float(v) for v in annotation["bbox"]],
            }
        )
    return ann_file, predictions


def test_metric_info(coco_metric):
    assert METRIC_NAMES == ("coco_keypoint_ap", "pckh")
    assert "OKS" in coco_metric.description and "@inproceedings{lin2014microsoft" in coco_metric.citation
    assert set(coco_metric.features["predictions"]) == {
        "image_id",
        "id",
        "keypoints",
        "keypoint_scores",
        "bbox_score",
        "area",
        "bbox",
    }
    pckh = evaluate.load(metric_path("pckh"))
    assert "head" in pckh.description and "andriluka" in pckh.citation
    assert set(pckh.features) == {"predictions", "references", "visible", "head_size"}


@pytest.mark.parametrize("score_mode", ["bbox_keypoint", "bbox_rle"])
def test_coco_metric_equals_the_evaluator(coco_metric, noisy_predictions, score_mode):
    ann_file, predictions = noisy_predictions
    evaluator = CocoKeypointEvaluator(str(ann_file), score_mode=score_mode)
    evaluator.add(
        [
            {
                **p,
                "keypoints": np.asarray(p["keypoints"]),
                "keypoint_scores": np.asarray(p["keypoint_scores"], np.float32),
            }
            for p in predictions
        ]
    )
    expected = evaluator.compute()
    assert 0.2 < expected["AP"] < 1.0  # the comparison is not between zeros
    # in two batches, as an evaluation loop would add them
    half = len(predictions) // 2
    coco_metric.add_batch(predictions=predictions[:half])
    coco_metric.add_batch(predictions=predictions[half:])
    got = coco_metric.compute(ann_file=str(ann_file), score_mode=score_mode)
    assert got == pytest.approx(expected, abs=1e-12)


def test_coco_metric_equals_scripts_evaluate(coco_metric, coco_mini, tmp_path):
    from transformers import AutoImageProcessor, AutoModelForPoseEstimation

    from hfpose.image_processing_topdown import TopDownPoseImageProcessor
    from hfpose.models.backbones import resnet_backbone_config
    from hfpose.models.rle import RLEConfig, RLEForPoseEstimation
    from hfpose.training.evaluation_loop import coco_eval_images, predict_topdown

    torch.manual_seed(0)
    backbone = resnet_backbone_config(
        50, depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 16, 32], embedding_size=8, layer_type="basic"
    )
    config = RLEConfig(backbone_config=backbone, input_size=[48, 64])
    RLEForPoseEstimation(config).save_pretrained(tmp_path / "model")
    processor = TopDownPoseImageProcessor(
        size={"height": 64, "width": 48},
        flip_indices=config.flip_indices,
        keypoint_names=[config.id2label[i] for i in range(17)],
    )
    processor.save_pretrained(tmp_path / "model")

    spec = importlib.util.spec_from_file_location("evaluate_script", REPO / "scripts" / "evaluate.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert (
        script.main(
            [
                str(tmp_path / "model"),
                "--data-root",
                str(coco_mini),
                "--no-flip-test",
                "--output",
                str(tmp_path / "eval.json"),
            ]
        )
        == 0
    )
    expected = json.loads((tmp_path / "eval.json").read_text())

    ann_file = coco_mini / "annotations" / "person_keypoints_val2017.json"
    model = AutoModelForPoseEstimation.from_pretrained(tmp_path / "model")
    processor = AutoImageProcessor.from_pretrained(tmp_path / "model")
    persons = predict_topdown(model, processor, coco_eval_images(ann_file, coco_mini / "val2017"), flip_test=False)
    got = coco_metric.compute(predictions=persons, ann_file=str(ann_file), score_mode=expected["score_mode"])
    assert len(persons) == expected["num_predictions"]
    assert got == pytest.approx(expected["stats"], abs=1e-12)


def test_pckh_metric_equals_compute_pckh():
    rng = np.random.default_rng(1)
    gt = rng.uniform(0, 300, (12, 16, 2))
    pred = gt + rng.normal(0, 4, gt.shape)
    visible = (rng.uniform(size=(12, 16)) > 0.2).astype(np.float32)
    head = rng.uniform(20, 40, 12)
    metric = evaluate.load(metric_path("pckh"))
    got = metric.compute(
        predictions=pred.tolist(), references=gt.tolist(), visible=visible.tolist(), head_size=head.tolist()
    )
    expected = compute_pckh(pred, gt, visible, head)
    assert 0 < expected["PCK@0.1"] < expected["PCK"] < 100
    assert got == pytest.approx(expected, abs=1e-9)


def test_bad_inputs(coco_metric):
    with pytest.raises(ValueError, match="ann_file"):
        coco_metric.compute(
            predictions=[
                {
                    "image_id": 1,
                    "id": 1,
                    "keypoints": [[0.0, 0.0]] * 17,
                    "keypoint_scores": [1.0] * 17,
                    "bbox_score": 1.0,
                    "area": 1.0,
                    "bbox": [],
                }
            ]
        )
    with pytest.raises(ValueError, match="unknown hfpose metric"):
        metric_path("oks")
