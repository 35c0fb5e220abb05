"""The `hfpose` command line: help with examples, `predict` on a real coco-mini photo, `evaluate` as the script,
`export`, and one-line errors on bad input."""

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import pipeline

from hfpose.cli import build_parser, main

REPO = Path(__file__).resolve().parents[1]
SUBCOMMANDS = ("predict", "train", "recipes", "demo", "evaluate", "convert", "push", "export")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    from hfpose.image_processing_topdown import TopDownPoseImageProcessor
    from hfpose.models.backbones import resnet_backbone_config
    from hfpose.models.rle import RLEConfig, RLEForPoseEstimation

    torch.manual_seed(0)
    backbone = resnet_backbone_config(
        50, depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 16, 32], embedding_size=8, layer_type="basic"
    )
    config = RLEConfig(backbone_config=backbone, input_size=[48, 64])
    directory = tmp_path_factory.mktemp("tiny_rle_cli")
    RLEForPoseEstimation(config).save_pretrained(directory)
    TopDownPoseImageProcessor(
        size={"height": 64, "width": 48},
        flip_indices=config.flip_indices,
        keypoint_names=[config.id2label[i] for i in range(17)],
    ).save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def val_image(coco_mini):
    annotations = json.loads((coco_mini / "annotations" / "person_keypoints_val2017.json").read_text())
    by_image = {}
    for annotation in annotations["annotations"]:
        if annotation["num_keypoints"] > 0 and not annotation["iscrowd"]:
            by_image.setdefault(annotation["image_id"], []).append(annotation["bbox"])
    image_id, boxes = max(by_image.items(), key=lambda item: len(item[1]))
    file_name = next(i["file_name"] for i in annotations["images"] if i["id"] == image_id)
    return coco_mini / "val2017" / file_name, boxes


def test_help_lists_every_subcommand_with_examples(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for command in SUBCOMMANDS:
        assert f"hfpose {command} " in text  # an example line per subcommand
    for command in SUBCOMMANDS:
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert f"hfpose {command} " in capsys.readouterr().out
    assert main([]) == 2


def test_console_script_is_installed():
    executable = shutil.which("hfpose")
    if executable is None:  # installed before cli.py existed: the module entry point is the same function
        completed = subprocess.run([sys.executable, "-m", "hfpose.cli", "--version"], capture_output=True, text=True)
    else:
        completed = subprocess.run([executable, "--version"], capture_output=True, text=True)
    assert completed.returncode == 0 and completed.stdout.startswith("hfpose ")


def test_predict_writes_json_and_picture_equal_to_the_pipeline(model_dir, val_image, tmp_path, capsys):
    path, boxes = val_image
    status = main(["predict", str(model_dir), str(path), "--boxes", json.dumps(boxes), "--output-dir", str(tmp_path)])
    assert status == 0
    record = json.loads((tmp_path / f"{path.stem}.json").read_text())
    assert record["image"] == str(path) and len(record["persons"]) == len(boxes)
    expected = pipeline("keypoint-detection", model=str(model_dir))(str(path), boxes=boxes)
    for got, want in zip(record["persons"], expected):
        assert got["bbox"] == pytest.approx(want["bbox"])
        assert got["score"] == pytest.approx(want["score"], abs=1e-7)
        assert [k["label"] for k in got["keypoints"]] == [k["label"] for k in want["keypoints"]]
        np.testing.assert_allclose(
            [[k["x"], k["y"], k["score"]] for k in got["keypoints"]],
            [[k["x"], k["y"], k["score"]] for k in want["keypoints"]],
            atol=1e-7,
        )
    drawn = np.asarray(Image.open(tmp_path / f"{path.stem}_pose.png"))
    original = np.asarray(Image.open(path).convert("RGB"))
    assert drawn.shape == original.shape and (drawn != original).any()
    assert f"{len(boxes)} person(s)" in capsys.readouterr().out


def test_predict_with_boxes_file_threshold_and_no_flip(model_dir, val_image, tmp_path):
    path, boxes = val_image
    (tmp_path / "boxes.json").write_text(json.dumps({path.name: boxes[:1]}))
    status = main(
        [
            "predict",
            str(model_dir),
            str(path),
            "--boxes-file",
            str(tmp_path / "boxes.json"),
            "--output-dir",
            str(tmp_path / "out"),
            "--no-flip-test",
            "--threshold",
            "0.5",
            "--no-draw",
        ]
    )
    assert status == 0
    [person] = json.loads((tmp_path / "out" / f"{path.stem}.json").read_text())["persons"]
    expected = pipeline("keypoint-detection", model=str(model_dir))(
        str(path), boxes=boxes[:1], flip_test=False, threshold=0.5
    )[0]
    assert [(k["label"], round(k["x"], 6)) for k in person["keypoints"]] == [
        (k["label"], round(k["x"], 6)) for k in expected["keypoints"]
    ]
    assert len(person["keypoints"]) == 17
    assert all(k["visible"] == (k["score"] >= 0.5) for k in person["keypoints"])
    assert not (tmp_path / "out" / f"{path.stem}_pose.png").exists()


def test_evaluate_subcommand_gives_the_numbers_of_the_script(model_dir, coco_mini, tmp_path):
    spec = importlib.util.spec_from_file_location("evaluate_script", REPO / "scripts" / "evaluate.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    arguments = [str(model_dir), "--data-root", str(coco_mini), "--no-flip-test"]
    assert script.main([*arguments, "--output", str(tmp_path / "script.json")]) == 0
    assert main(["evaluate", *arguments, "--output", str(tmp_path / "cli.json")]) == 0
    from_script = json.loads((tmp_path / "script.json").read_text())
    from_cli = json.loads((tmp_path / "cli.json").read_text())
    assert from_cli["stats"] == from_script["stats"]
    assert from_cli["num_predictions"] == from_script["num_predictions"] > 0
    assert from_cli["command"].startswith("hfpose evaluate ") and "--no-flip-test" in from_cli["command"]


def test_export_subcommand(model_dir, tmp_path, capsys):
    assert main(["export", str(model_dir), str(tmp_path / "m.onnx")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("[1/2] tracing RLEForPoseEstimation at 48x64") and "[2/2] exported in " in out
    result = json.loads(out[out.index("{") :])
    assert result["output_names"] == ["keypoints", "scores", "sigma"]
    assert max(result["max_abs_diff"].values()) <= 1e-4


def test_bad_input_gives_one_line_errors(model_dir, tmp_path, capsys):
    assert main(["predict", str(model_dir), str(tmp_path / "missing.jpg")]) == 2
    assert "no such image file" in capsys.readouterr().err
    image = tmp_path / "x.png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(image)
    assert main(["predict", str(model_dir), str(image), "--boxes", "[[1, 2"]) == 2
    assert "--boxes is not valid JSON" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path), "--data-root", str(tmp_path)]) == 2
    assert "has no config.json" in capsys.readouterr().err
    assert main(["train", str(tmp_path / "missing.yaml")]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_parser_knows_the_script_flags():
    parser = build_parser()
    args = parser.parse_args(["convert", "a.pth", "--method", "rle", "--output", "out"])
    assert (args.backbone, args.dataset, args.reference_npz) == ("resnet50", "coco", None)
    args = parser.parse_args(
        ["push", "dir", "--repo-id", "u/n", "--card-results", "a.json", "--card-results", "b.json", "--private"]
    )
    assert args.card_results == ["a.json", "b.json"] and args.private
