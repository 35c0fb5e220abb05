"""MPII loading (MMPose 1.x MpiiDataset semantics) and PCKh head sizes."""

import json

import numpy as np
import pytest
from golden_utils import load_golden

from hfpose.data import load_mpii
from hfpose.data.mpii import mpii_features


@pytest.fixture(scope="module")
def mpii(mpii_mini):
    return load_mpii(mpii_mini, ann_file="annotations/mpii_sample.json")


def test_rows_features_and_box_convention(mpii, mpii_mini):
    with open(mpii_mini / "annotations" / "mpii_sample.json") as handle:
        anns = json.load(handle)
    assert mpii.features == mpii_features()
    assert len(mpii) == len(anns)
    for index, (row, ann) in enumerate(zip(mpii, anns)):
        assert row["ann_id"] == index and row["file_name"] == ann["image"]
        assert row["image_id"] == int(ann["image"].split(".")[0])
        # joints as stored (no -1), visibility in the third column
        np.testing.assert_allclose(np.array(row["keypoints"])[:, :2], ann["joints"], rtol=1e-6)
        np.testing.assert_array_equal(np.array(row["keypoints"])[:, 2], ann["joints_vis"])
        # scale x 200 px, centre moved down by 15 * s, then 1-based -> 0-based
        size = ann["scale"] * 200
        np.testing.assert_allclose(row["bbox_scale"], [size, size], rtol=1e-6)
        np.testing.assert_allclose(
            row["bbox_center"], [ann["center"][0] - 1, ann["center"][1] + 15 * ann["scale"] - 1], rtol=1e-6
        )
        np.testing.assert_allclose(
            row["bbox_xyxy"],
            np.r_[np.array(row["bbox_center"]) - size / 2, np.array(row["bbox_center"]) + size / 2],
            rtol=1e-5,
        )
        np.testing.assert_allclose(row["bbox"][2:], [size, size], rtol=1e-5)
        assert row["width"] > 0 and row["height"] > 0


@pytest.mark.golden
def test_synthetic_head_sizes_match_golden(mpii, golden_dir):
    golden = load_golden(golden_dir, "metrics/pckh.npz")
    assert mpii["file_name"] == [str(name) for name in golden["image_names"]]
    np.testing.assert_allclose(np.array(mpii["headbox"]), golden["headboxes"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(mpii["head_size"], golden["head_size"], rtol=1e-12)
    np.testing.assert_array_equal(np.array(mpii["keypoints"], dtype=np.float32)[:, :, :2], golden["gt_keypoints"])
    visible = np.array(mpii["keypoints"], dtype=np.float32)[:, :, 2]
    np.testing.assert_array_equal(visible, golden["gt_keypoints_visible"])


def test_headbox_mat_file(tmp_path, mpii_mini, golden_dir):
    from scipy.io import savemat

    boxes = load_golden(golden_dir, "metrics/pckh.npz")["headboxes"] + 3.0
    savemat(tmp_path / "gt.mat", {"headboxes_src": np.transpose(boxes, (1, 2, 0))})
    dataset = load_mpii(mpii_mini, ann_file="annotations/mpii_sample.json", headbox_file=tmp_path / "gt.mat")
    np.testing.assert_allclose(dataset["head_size"], 0.6 * np.linalg.norm(boxes[:, 1] - boxes[:, 0], axis=-1))
    savemat(tmp_path / "short.mat", {"headboxes_src": np.transpose(boxes[:2], (1, 2, 0))})
    with pytest.raises(ValueError, match="has 2 head boxes for 5 annotations"):
        load_mpii(mpii_mini, ann_file="annotations/mpii_sample.json", headbox_file=tmp_path / "short.mat")
    with pytest.raises(FileNotFoundError):
        load_mpii(mpii_mini, ann_file="annotations/mpii_sample.json", headbox_file=tmp_path / "none.mat")


def _write(tmp_path, anns):
    (tmp_path / "annotations").mkdir(exist_ok=True)
    (tmp_path / "images").mkdir(exist_ok=True)
    (tmp_path / "annotations" / "mpii_val.json").write_text(json.dumps(anns))
    return tmp_path


def _person(**overrides):
    person = {
        "image": "000000001.jpg",
        "joints": [[5.0, 5.0]] * 16,
        "joints_vis": [1] * 16,
        "center": [10, 10],
        "scale": 0.5,
    }
    person.update(overrides)
    return person


@pytest.mark.parametrize(
    "person, match",
    [
        ({"joints": [[5.0, 5.0]] * 15}, r"annotation 0 \(image '000000001.jpg'\): joints must have shape \(16, 2\)"),
        ({"joints_vis": [1] * 17}, r"annotation 0 .*joints_vis must have 16 values"),
        ({"scale": -1}, r"annotation 0 .*scale must be positive"),
        ({"image": "../000000001.jpg"}, r"annotation 0 .*contains '\.\.'"),
        ({"image": "/tmp/000000001.jpg"}, r"annotation 0 .*absolute path"),
        ({"center": [1, "x"]}, r"annotation 0 .*must be numbers"),
    ],
)
def test_bad_mpii_records(tmp_path, person, match):
    root = _write(tmp_path, [_person(**person)])
    with pytest.raises(ValueError, match=match):
        load_mpii(root, check_files=False)


def test_missing_key_and_missing_image(tmp_path):
    person = _person()
    del person["center"]
    with pytest.raises(ValueError, match=r"annotation 0 .*missing key.*center"):
        load_mpii(_write(tmp_path, [person]), check_files=False)
    message = r"annotation 0 \(image '000000001.jpg'\): image file '000000001.jpg' not found"
    with pytest.raises(ValueError, match=message):
        load_mpii(_write(tmp_path, [_person()]))
    assert load_mpii(_write(tmp_path, [_person()]), check_files=False)[0]["width"] == -1
