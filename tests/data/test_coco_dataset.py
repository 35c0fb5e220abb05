"""COCO loading: row counts (computed independently from the json), features, MMPose box clipping, bad input."""

import json
import shutil

import numpy as np
import pytest
from golden_utils import load_golden

from hfpose.data import load_coco_keypoints
from hfpose.data.coco import coco_image_features, coco_topdown_features


def _json(coco_mini, split="val2017"):
    with open(coco_mini / "annotations" / f"person_keypoints_{split}.json") as handle:
        return json.load(handle)


def _expected_topdown(data):
    """MMPose's top-down rule, written independently: not crowd, some keypoint value != 0, num_keypoints > 0, the
    clipped box non-empty; images in json order, annotations in json order within an image."""
    sizes = {image["id"]: (image["width"], image["height"]) for image in data["images"]}
    kept = []
    for image in data["images"]:
        for ann in data["annotations"]:
            if ann["image_id"] != image["id"]:
                continue
            width, height = sizes[image["id"]]
            x, y, w, h = ann["bbox"]
            x1, x2 = min(max(x, 0), width - 1), min(max(x + w, 0), width - 1)
            y1, y2 = min(max(y, 0), height - 1), min(max(y + h, 0), height - 1)
            if ann.get("iscrowd", 0) or max(ann["keypoints"]) == 0 or ann["num_keypoints"] == 0:
                continue
            if x2 - x1 <= 0 or y2 - y1 <= 0:
                continue
            kept.append((ann["id"], (x1, y1, x2, y2)))
    return kept


@pytest.fixture(scope="module")
def val_topdown(coco_mini):
    return load_coco_keypoints(coco_mini, split="val2017", mode="topdown")


@pytest.mark.parametrize("split", ["val2017", "train2017"])
def test_topdown_rows_match_mmpose_filter(coco_mini, split):
    data = _json(coco_mini, split)
    dataset = load_coco_keypoints(coco_mini, split=split)
    expected = _expected_topdown(data)
    assert len(dataset) == len(expected)
    assert dataset["ann_id"] == [ann_id for ann_id, _ in expected]
    np.testing.assert_allclose(np.array(dataset["bbox_xyxy"]), np.array([box for _, box in expected]), rtol=1e-6)


def test_topdown_count_matches_golden_metric_fixture(val_topdown, golden_dir):
    # metrics/coco_keypoints.npz: kind-0 predictions are exactly one per CocoDataset top-down instance.
    golden = load_golden(golden_dir, "metrics/coco_keypoints.npz")
    kind0 = golden["pred_id"][golden["pred_kind"] == 0]
    assert sorted(kind0.tolist()) == sorted(val_topdown["ann_id"])


def test_topdown_features_and_values(val_topdown, coco_mini):
    assert val_topdown.features == coco_topdown_features(17)
    data = _json(coco_mini)
    anns = {ann["id"]: ann for ann in data["annotations"]}
    images = {image["id"]: image for image in data["images"]}
    for row in val_topdown.select(range(10)):
        ann, image = anns[row["ann_id"]], images[row["image_id"]]
        assert row["file_name"] == image["file_name"]
        assert row["image_path"].endswith("val2017/" + image["file_name"])
        assert (row["width"], row["height"]) == (image["width"], image["height"])
        np.testing.assert_allclose(row["bbox"], ann["bbox"], rtol=1e-6)
        np.testing.assert_allclose(np.array(row["keypoints"]).ravel(), ann["keypoints"], rtol=1e-6)
        assert row["num_keypoints"] == ann["num_keypoints"] and row["iscrowd"] == 0
        assert row["area"] == pytest.approx(ann["area"], rel=1e-6)
        x1, y1, x2, y2 = row["bbox_xyxy"]
        np.testing.assert_allclose(row["bbox_center"], [(x1 + x2) / 2, (y1 + y2) / 2], rtol=1e-6)
        np.testing.assert_allclose(row["bbox_scale"], [x2 - x1, y2 - y1], rtol=1e-6)
    numpy_row = val_topdown.with_format("numpy")[0]
    assert numpy_row["keypoints"].shape == (17, 3) and numpy_row["keypoints"].dtype == np.float32
    assert numpy_row["bbox"].dtype == np.float32


@pytest.mark.golden
def test_clipping_matches_golden_topdown_affine(val_topdown, golden_dir):
    golden = load_golden(golden_dir, "transforms/topdown_affine.npz")
    index = {ann_id: i for i, ann_id in enumerate(val_topdown["ann_id"])}
    for i in range(int(golden["num_images"])):
        row = val_topdown[index[int(golden[f"img{i}_ann_id"])]]
        np.testing.assert_allclose(row["bbox"], golden[f"img{i}_coco_bbox_xywh"], rtol=1e-6)
        np.testing.assert_array_equal(np.float32(row["bbox_xyxy"]), golden[f"img{i}_bbox_xyxy"][0])
        np.testing.assert_allclose(
            np.float32(row["bbox_scale"]) * np.float32(1.25), golden[f"img{i}_bbox_scale"][0], rtol=1e-6
        )
        np.testing.assert_allclose(row["bbox_center"], golden[f"img{i}_bbox_center"][0], rtol=1e-6)
        np.testing.assert_array_equal(np.array(row["keypoints"])[:, :2], golden[f"img{i}_keypoints"][0])
        visible = np.minimum(1, np.array(row["keypoints"])[:, 2])
        np.testing.assert_array_equal(visible, golden[f"img{i}_keypoints_visible"][0])


def test_border_box_is_clipped(tmp_path):
    root = _mini_dataset(tmp_path, bbox=[-5.0, 10.0, 50.0, 200.0], width=40, height=100)
    row = load_coco_keypoints(root, split="val")[0]
    np.testing.assert_allclose(row["bbox"], [-5.0, 10.0, 50.0, 200.0])
    np.testing.assert_allclose(row["bbox_xyxy"], [0.0, 10.0, 39.0, 99.0])
    np.testing.assert_allclose(row["bbox_center"], [19.5, 54.5])
    np.testing.assert_allclose(row["bbox_scale"], [39.0, 89.0])


def test_image_view(coco_mini):
    data = _json(coco_mini)
    dataset = load_coco_keypoints(coco_mini, mode="image")
    assert dataset.features == coco_image_features(17)
    assert dataset["image_id"] == [image["id"] for image in data["images"]]
    per_image = {}
    for ann in data["annotations"]:
        per_image.setdefault(ann["image_id"], []).append(ann)
    total = 0
    for row in dataset:
        anns = per_image.get(row["image_id"], [])
        assert [a["ann_id"] for a in row["annotations"]] == [a["id"] for a in anns]
        for got, ann in zip(row["annotations"], anns):
            assert got["iscrowd"] == ann["iscrowd"] and got["num_keypoints"] == ann["num_keypoints"]
            assert json.loads(got["segmentation"]) == ann["segmentation"]
        total += len(anns)
    assert total == len(data["annotations"])
    # 'valid' marks exactly the top-down rows.
    valid = [a["ann_id"] for row in dataset for a in row["annotations"] if a["valid"]]
    assert valid == [ann_id for ann_id, _ in _expected_topdown(data)]
    assert load_coco_keypoints(coco_mini, mode="bottomup").num_rows == dataset.num_rows


# ------------------------------------------------------------------------------------------------ malformed input
def _mini_dataset(tmp_path, bbox=(10.0, 10.0, 20.0, 30.0), width=64, height=48, **overrides):
    """A one-image, one-person COCO layout under tmp_path; ``overrides`` patch the annotation / image records."""
    root = tmp_path / "coco"
    (root / "annotations").mkdir(parents=True)
    (root / "val").mkdir()
    (root / "val" / "a.jpg").write_bytes(b"not decoded at load time")
    keypoints = [15, 20, 2] * 17
    image = {"id": 1, "file_name": "a.jpg", "width": width, "height": height}
    ann = {
        "id": 7,
        "image_id": 1,
        "bbox": list(bbox),
        "keypoints": keypoints,
        "num_keypoints": 17,
        "area": 600.0,
        "iscrowd": 0,
        "category_id": 1,
    }
    image.update(overrides.pop("image", {}))
    ann.update(overrides.pop("ann", {}))
    for key in overrides.pop("drop_ann", []):
        del ann[key]
    for key in overrides.pop("drop_image", []):
        del image[key]
    data = {"images": [image], "annotations": [ann] + overrides.pop("extra_anns", []), "categories": []}
    (root / "annotations" / "person_keypoints_val.json").write_text(json.dumps(data))
    return root


def test_minimal_dataset_loads(tmp_path):
    dataset = load_coco_keypoints(_mini_dataset(tmp_path), split="val")
    assert len(dataset) == 1 and dataset[0]["ann_id"] == 7


@pytest.mark.parametrize(
    "overrides, match",
    [
        ({"drop_ann": ["keypoints"]}, r"annotation id 7 .*missing key.*keypoints"),
        ({"drop_ann": ["bbox"]}, r"annotation id 7 .*missing key.*bbox"),
        ({"drop_ann": ["image_id"]}, r"annotation id 7 .*missing key.*image_id"),
        ({"drop_image": ["file_name"]}, r"image id 1 .*missing key.*file_name"),
        ({"ann": {"keypoints": [1, 2, 2] * 16}}, r"annotation id 7 .*48 values; expected 51"),
        ({"ann": {"area": -3.0}}, r"annotation id 7 .*area -3.0 is negative"),
        ({"ann": {"image_id": 99}}, r"annotation id 7 .*image_id 99 is not in"),
        ({"ann": {"bbox": [0, 0, -1, 4]}}, r"annotation id 7 .*negative width or height"),
        ({"ann": {"bbox": [0, 0, 4]}}, r"annotation id 7 .*bbox must have 4 values"),
        ({"ann": {"keypoints": ["a"] * 51}}, r"annotation id 7 .*keypoints must hold only numbers"),
        ({"image": {"file_name": "../secret.jpg"}}, r"image id 1 .*'\.\./secret\.jpg' contains '\.\.'"),
        ({"image": {"file_name": "sub/../../x.jpg"}}, r"image id 1 .*contains '\.\.'"),
        ({"image": {"file_name": "/etc/passwd"}}, r"image id 1 .*'/etc/passwd' is an absolute path"),
        ({"image": {"file_name": "C:\\x.jpg"}}, r"image id 1 .*is an absolute path"),
        ({"image": {"file_name": "missing.jpg"}}, r"image id 1: image file 'missing.jpg' not found"),
        ({"image": {"width": 0}}, r"image id 1 .*width must be >= 1"),
        (
            {"extra_anns": [{"id": 7, "image_id": 1, "bbox": [0, 0, 1, 1], "keypoints": [0] * 51}]},
            r"annotation id 7 .*appears more than once",
        ),
    ],
)
def test_bad_annotations_raise_naming_the_record(tmp_path, overrides, match):
    root = _mini_dataset(tmp_path, **overrides)
    with pytest.raises(ValueError, match=match):
        load_coco_keypoints(root, split="val")


def test_escape_is_refused_even_without_file_checks(tmp_path):
    root = _mini_dataset(tmp_path, image={"file_name": "../../../../etc/hosts"})
    with pytest.raises(ValueError, match="escape the image root"):
        load_coco_keypoints(root, split="val", check_files=False)


def test_missing_file_allowed_when_not_checked(tmp_path):
    root = _mini_dataset(tmp_path, image={"file_name": "later.jpg"})
    assert len(load_coco_keypoints(root, split="val", check_files=False)) == 1


def test_bad_json_and_mode(tmp_path, coco_mini):
    root = tmp_path / "broken"
    (root / "annotations").mkdir(parents=True)
    (root / "annotations" / "person_keypoints_val.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_coco_keypoints(root, split="val")
    (root / "annotations" / "person_keypoints_val.json").write_text(json.dumps({"images": []}))
    with pytest.raises(ValueError, match="no 'annotations' list"):
        load_coco_keypoints(root, split="val")
    with pytest.raises(ValueError, match="does not exist"):
        load_coco_keypoints(root, split="test")
    with pytest.raises(ValueError, match="mode must be"):
        load_coco_keypoints(coco_mini, mode="persons")


def test_crowd_and_empty_people_are_not_topdown_rows(tmp_path):
    extra = [
        {
            "id": 8,
            "image_id": 1,
            "bbox": [1, 1, 5, 5],
            "keypoints": [0] * 51,
            "num_keypoints": 0,
            "area": 25,
            "iscrowd": 0,
            "segmentation": [[1, 1, 6, 1, 6, 6]],
        },
        {
            "id": 9,
            "image_id": 1,
            "bbox": [1, 1, 5, 5],
            "keypoints": [3, 3, 2] * 17,
            "num_keypoints": 17,
            "area": 25,
            "iscrowd": 1,
            "segmentation": {"counts": [0, 4], "size": [48, 64]},
        },
        {
            "id": 10,
            "image_id": 1,
            "bbox": [70, 1, 5, 5],
            "keypoints": [3, 3, 2] * 17,
            "num_keypoints": 17,
            "area": 25,
            "iscrowd": 0,
        },  # clipped to zero width: the box starts right of the image
    ]
    root = _mini_dataset(tmp_path, extra_anns=extra)
    assert load_coco_keypoints(root, split="val")["ann_id"] == [7]
    row = load_coco_keypoints(root, split="val", mode="image")[0]
    assert [a["ann_id"] for a in row["annotations"]] == [7, 8, 9, 10]
    assert [a["valid"] for a in row["annotations"]] == [True, False, False, False]
    assert row["annotations"][3]["segmentation"] == ""


def test_symlinked_image_inside_root_is_fine(tmp_path, coco_mini):
    root = _mini_dataset(tmp_path)
    (root / "val" / "a.jpg").unlink()
    source = next((coco_mini / "val2017").glob("*.jpg"))
    try:
        (root / "val" / "a.jpg").symlink_to(source)
    except OSError:
        shutil.copy(source, root / "val" / "a.jpg")
    assert len(load_coco_keypoints(root, split="val")) == 1
