"""KeypointSet: the file format, COCO-format json reading, flip-pair inference, sigmas default."""

import json
import logging

import numpy as np
import pytest

from hfpose.keypoints import (
    COCO_KEYPOINTS,
    DEFAULT_OKS_SIGMA,
    MPII_KEYPOINTS,
    KeypointSet,
    flip_indices_from_names,
    infer_flip_pairs,
    load_keypoint_set,
)


@pytest.mark.parametrize(
    "names, pairs",
    [
        (["nose", "left_eye", "right_eye"], ((1, 2),)),
        (["head", "l_hand", "r_hand", "r_foot", "l_foot"], ((1, 2), (4, 3))),
        (["wrist_right", "wrist_left", "neck"], ((1, 0),)),
        (["Eye-Left", "Eye-Right", "knee_l", "knee_r"], ((0, 1), (2, 3))),
        (["LEFT hand", "RIGHT hand", "tail"], ((0, 1),)),
    ],
)
def test_infer_flip_pairs_name_forms(names, pairs):
    assert infer_flip_pairs(names) == pairs


def test_infer_flip_pairs_reproduces_coco_and_mpii():
    assert infer_flip_pairs(COCO_KEYPOINTS.names) == COCO_KEYPOINTS.flip_pairs
    assert flip_indices_from_names(MPII_KEYPOINTS.names) == MPII_KEYPOINTS.flip_indices


def test_unpaired_side_name_is_an_error_naming_it():
    with pytest.raises(ValueError, match="'left_paw' has no mirror keypoint 'right_paw'.*flip_pairs"):
        infer_flip_pairs(["nose", "left_paw"])


@pytest.mark.parametrize("keypoint_set", [COCO_KEYPOINTS, MPII_KEYPOINTS])
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_builtin_sets_round_trip_through_the_file_format(tmp_path, keypoint_set, suffix):
    path = tmp_path / f"set{suffix}"
    keypoint_set.save(path)
    loaded = KeypointSet.load(path)
    assert loaded.names == keypoint_set.names
    assert loaded.flip_indices == keypoint_set.flip_indices
    assert loaded.skeleton == keypoint_set.skeleton
    assert loaded.sigmas == keypoint_set.sigmas
    assert loaded.grouping_order == keypoint_set.grouping_order


def test_file_format_accepts_names_or_indices_and_infers_flips(tmp_path):
    path = tmp_path / "factory.yaml"
    path.write_text(
        "name: factory\nkeypoints: [a, left_b, right_b, c, d]\nskeleton: [[a, left_b], [3, 4]]\n"
        "joint_weights: [1, 2, 2, 1, 1]\n"
    )
    keypoint_set = load_keypoint_set(path)
    assert keypoint_set.flip_indices == [0, 2, 1, 3, 4]
    assert keypoint_set.skeleton == ((0, 1), (3, 4))
    assert keypoint_set.joint_weights == (1.0, 2.0, 2.0, 1.0, 1.0)
    assert keypoint_set.sigmas is None
    assert keypoint_set.grouping_order_or_default() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    "values, message",
    [
        ({"keypoints": ["a", "a"]}, "unique"),
        ({"keypoints": ["a", "b"], "skeleton": [["a", "z"]]}, "unknown keypoint name 'z'"),
        ({"keypoints": ["a", "b"], "skeleton": [[0, 2]]}, r"skeleton\[0\].*outside range\(2\)"),
        ({"keypoints": ["a", "b"], "sigmas": [0.1]}, "sigmas must be 2 positive"),
        ({"keypoints": ["a", "b"], "flip_pairs": [["a", "b"], ["b", "a"]]}, "already in a flip pair"),
        ({"keypoints": ["a"], "colour": "red"}, "unknown key"),
        ({"names": ["a"]}, "unknown key"),
    ],
)
def test_bad_keypoint_set_is_a_one_line_error(values, message):
    with pytest.raises(ValueError, match=message):
        KeypointSet.from_dict(values)


def _coco_json(names, skeleton_1based, **category):
    return {
        "images": [],
        "annotations": [],
        "categories": [{"id": 1, "name": "thing", "keypoints": names, "skeleton": skeleton_1based, **category}],
    }


def test_from_coco_json_reads_names_and_one_based_skeleton(tmp_path):
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(_coco_json(["top", "l_wing", "r_wing"], [[1, 2], [1, 3]])))
    keypoint_set = KeypointSet.load(path)
    assert keypoint_set.name == "thing"
    assert keypoint_set.names == ("top", "l_wing", "r_wing")
    assert keypoint_set.skeleton == ((0, 1), (0, 2))
    assert keypoint_set.flip_indices == [0, 2, 1]
    assert keypoint_set.sigmas is None
    explicit = KeypointSet.from_coco(path, sigmas=[0.1, 0.2, 0.2], flip_pairs=[])
    assert explicit.sigmas == (0.1, 0.2, 0.2) and explicit.flip_indices == [0, 1, 2]


def test_from_coco_json_of_coco_itself_gets_coco_sigmas(data_dir):
    keypoint_set = KeypointSet.from_coco(data_dir / "coco-mini" / "annotations" / "person_keypoints_val2017.json")
    assert keypoint_set.names == COCO_KEYPOINTS.names
    assert set(keypoint_set.skeleton) == set(COCO_KEYPOINTS.skeleton)
    assert keypoint_set.sigmas == COCO_KEYPOINTS.sigmas
    assert keypoint_set.grouping_order == COCO_KEYPOINTS.grouping_order


def test_from_coco_rejects_zero_based_skeleton_and_ambiguous_categories():
    with pytest.raises(ValueError, match=r"skeleton\[0\]=\[0, 1\] is outside 1..2 \(COCO skeleton links are 1-based"):
        KeypointSet.from_coco(_coco_json(["a", "b"], [[0, 1]]))
    two = _coco_json(["a", "b"], [])
    two["categories"].append({"id": 2, "name": "other", "keypoints": ["x"]})
    with pytest.raises(ValueError, match="pass category_id"):
        KeypointSet.from_coco(two)
    assert KeypointSet.from_coco(two, category_id=2).names == ("x",)


def test_default_sigmas_warn_that_ap_is_not_comparable(caplog):
    keypoint_set = KeypointSet(name="nosigma", names=("a", "b", "c"))
    with caplog.at_level(logging.WARNING, logger="hfpose.keypoints"):
        sigmas = keypoint_set.sigmas_or_default()
    np.testing.assert_array_equal(sigmas, np.full(3, DEFAULT_OKS_SIGMA))
    assert "not comparable to published" in caplog.text
    with pytest.raises(ValueError, match="no OKS sigmas"):
        keypoint_set.sigmas_array()


def test_config_kwargs():
    kwargs = MPII_KEYPOINTS.config_kwargs()
    assert kwargs["id2label"][9] == "head_top" and kwargs["flip_indices"][0] == 5 and kwargs["sigmas"] is None


@pytest.mark.parametrize("keypoint_set", [COCO_KEYPOINTS, MPII_KEYPOINTS])
def test_shipped_keypoint_set_files_are_the_builtin_sets(keypoint_set):
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "configs" / "keypoints" / f"{keypoint_set.name}.json"
    assert load_keypoint_set(path) == keypoint_set
