"""`datasets` keypoint datasets (image + objects{bbox, keypoints}) as training and evaluation input."""

import json
import os

import numpy as np
import pytest

from hfpose.keypoints import KeypointSet

SET5 = KeypointSet(
    name="torso5",
    names=("head", "left_shoulder", "right_shoulder", "left_hip", "right_hip"),
    flip_pairs=((1, 2), (3, 4)),
    skeleton=((0, 1), (0, 2), (1, 3), (2, 4), (3, 4)),
    sigmas=(0.05, 0.08, 0.08, 0.1, 0.1),
)
PICK = [0, 5, 6, 11, 12]


def _rows(coco_mini, split, limit=None):
    """Per-image rows in the schema, from coco-mini's json: (file path, objects as a dict of lists)."""
    data = json.loads((coco_mini / "annotations" / f"person_keypoints_{split}.json").read_text())
    people = {}
    for ann in data["annotations"]:
        if ann.get("iscrowd"):
            continue
        keypoints = np.asarray(ann["keypoints"], dtype=np.float32).reshape(17, 3)[PICK]
        people.setdefault(ann["image_id"], {"bbox": [], "keypoints": []})
        people[ann["image_id"]]["bbox"].append([float(v) for v in ann["bbox"]])
        people[ann["image_id"]]["keypoints"].append(keypoints.tolist())
    rows = [
        (image["id"], str(coco_mini / split / image["file_name"]), people[image["id"]])
        for image in data["images"]
        if image["id"] in people
    ]
    return rows[:limit]


def _arrow_dataset(coco_mini, split, tmp_path, limit=None):
    from datasets import Dataset

    from hfpose.data.hf_datasets import keypoint_dataset_features

    rows = _rows(coco_mini, split, limit)
    dataset = Dataset.from_dict(
        {"image_id": [r[0] for r in rows], "image": [r[1] for r in rows], "objects": [r[2] for r in rows]},
        features=keypoint_dataset_features(5),
    )
    path = tmp_path / f"arrow_{split}"
    dataset.save_to_disk(str(path))
    return path


def _imagefolder(coco_mini, split, tmp_path, limit=None):
    folder = tmp_path / f"imagefolder_{split}" / ("train" if split == "train2017" else "validation")
    folder.mkdir(parents=True)
    with open(folder / "metadata.jsonl", "w") as handle:
        for image_id, path, objects in _rows(coco_mini, split, limit):
            os.symlink(path, folder / os.path.basename(path))
            handle.write(
                json.dumps({"file_name": os.path.basename(path), "image_id": image_id, "objects": objects}) + "\n"
            )
    return folder.parent


@pytest.mark.parametrize("layout", ["arrow", "imagefolder"])
def test_both_layouts_load_and_export_to_coco_format(tmp_path, coco_mini, layout):
    from hfpose.data.hf_datasets import export_coco_format, load_keypoint_dataset

    make = _arrow_dataset if layout == "arrow" else _imagefolder
    dataset = load_keypoint_dataset(make(coco_mini, "val2017", tmp_path, limit=6), split="train")
    assert len(dataset) == 6
    ann_file, image_dir = export_coco_format(dataset, tmp_path / "export", keypoint_set=SET5)
    exported = json.loads(ann_file.read_text())
    expected = _rows(coco_mini, "val2017", 6)
    assert [image["id"] for image in exported["images"]] == [row[0] for row in expected]
    assert len(exported["annotations"]) == sum(len(row[2]["bbox"]) for row in expected)
    first = exported["annotations"][0]
    np.testing.assert_allclose(first["keypoints"], np.asarray(expected[0][2]["keypoints"][0]).reshape(-1), atol=1e-3)
    assert (image_dir / exported["images"][0]["file_name"]).is_file()
    loaded = KeypointSet.load(ann_file)
    assert loaded.names == SET5.names and loaded.flip_indices == SET5.flip_indices
    assert loaded.skeleton == SET5.skeleton and loaded.sigmas == SET5.sigmas
    # the exported json is an ordinary COCO-format dataset for the top-down loader (MMPose's instance filter)
    from hfpose.data import load_coco_keypoints

    rows = load_coco_keypoints(tmp_path, ann_file=ann_file, image_dir=image_dir, num_keypoints=5)
    assert len(rows) >= 1 and np.asarray(rows[0]["keypoints"]).shape == (5, 3)


def test_bad_rows_are_named(tmp_path):
    from datasets import Dataset

    from hfpose.data.hf_datasets import export_coco_format

    image = np.zeros((8, 8, 3), dtype=np.uint8)
    from PIL import Image

    Image.fromarray(image).save(tmp_path / "a.png")
    bad = Dataset.from_dict(
        {"image": [str(tmp_path / "a.png")], "objects": [{"bbox": [[0, 0, 4, 4]], "keypoints": [[[1, 1]]]}]}
    )
    from datasets import Image as ImageFeature

    bad = bad.cast_column("image", ImageFeature())
    with pytest.raises(ValueError, match="row 0, person 0: keypoints must be K x 3"):
        export_coco_format(bad, tmp_path / "out")


def test_rle_trains_and_evaluates_from_datasets(tmp_path, coco_mini):
    import yaml
    from transformers import AutoConfig

    from hfpose.training import TrainingRecipe, train

    SET5.save(tmp_path / "torso5.yaml")
    tiny = {
        "model_type": "resnet",
        "embedding_size": 8,
        "hidden_sizes": [8, 16, 16, 32],
        "depths": [1, 1, 1, 1],
        "layer_type": "basic",
        "out_features": ["stage4"],
    }
    recipe = {
        "method": "rle",
        "backbone": "custom",
        "model": {"backbone_config": tiny},
        "data_root": str(tmp_path),
        "train_dataset": str(_arrow_dataset(coco_mini, "train2017", tmp_path)),
        "val_dataset": str(_imagefolder(coco_mini, "val2017", tmp_path)),
        "keypoint_set": str(tmp_path / "torso5.yaml"),
        "bbox_file": None,
        "input_size": [48, 64],
        "auto_scale_lr": False,
        "epochs": 1,
        "batch_size": 16,
        "warmup_iters": 2,
        "num_workers": 0,
        "val_interval": 1,
        "score_mode": "bbox_rle",
        "output_dir": str(tmp_path / "run"),
    }
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    result = train(TrainingRecipe.from_yaml(tmp_path / "recipe.yaml"))
    config = AutoConfig.from_pretrained(result.model_dir)
    assert config.id2label == dict(enumerate(SET5.names)) and config.flip_indices == [0, 2, 1, 4, 3]
    assert config.sigmas == list(SET5.sigmas)
    assert "AP" in result.metrics and 0.0 <= result.metrics["AP"] <= 1.0
    assert result.metrics["num_predictions"] > 0
