"""Every model config keeps num_labels / id2label / flip_indices / skeleton / sigmas consistent."""

import pytest

from hfpose.keypoints import COCO_KEYPOINTS, KeypointSet
from hfpose.models.associative_embedding import AssociativeEmbeddingConfig
from hfpose.models.debias_ipr import DebiasIPRConfig
from hfpose.models.deeppose import DeepPoseConfig
from hfpose.models.dsnt import DSNTConfig
from hfpose.models.higherhrnet import HigherHRNetConfig
from hfpose.models.ipr import IPRConfig
from hfpose.models.rle import RLEConfig

CONFIGS = [
    DeepPoseConfig,
    RLEConfig,
    IPRConfig,
    DSNTConfig,
    DebiasIPRConfig,
    AssociativeEmbeddingConfig,
    HigherHRNetConfig,
]


@pytest.mark.parametrize("config_class", CONFIGS)
def test_num_labels_alone_gives_a_consistent_config(config_class):
    # transformers' ConfigTesterMixin.create_and_test_config_with_num_labels, plus the per-keypoint fields
    config = config_class(num_labels=5)
    assert len(config.id2label) == len(config.label2id) == config.num_labels == 5
    assert config.flip_indices == [0, 1, 2, 3, 4] and config.skeleton == [] and config.sigmas is None
    config.num_labels = 3
    assert len(config.id2label) == len(config.label2id) == 3 and config.flip_indices == [0, 1, 2]
    assert config_class(num_labels=17).flip_indices == COCO_KEYPOINTS.flip_indices  # the dataset's own K


@pytest.mark.parametrize("config_class", CONFIGS)
def test_default_config_carries_coco_metadata(config_class):
    config = config_class()
    assert config.num_labels == 17 and config.flip_indices == COCO_KEYPOINTS.flip_indices
    assert config.sigmas == list(COCO_KEYPOINTS.sigmas) and len(config.skeleton) == 19


@pytest.mark.parametrize("config_class", [RLEConfig, AssociativeEmbeddingConfig])
def test_keypoint_set_file_fills_the_config_and_survives_save_load(tmp_path, config_class):
    keypoint_set = KeypointSet(
        name="hand5",
        names=("wrist", "l_tip", "r_tip", "l_base", "r_base"),
        flip_pairs=((1, 2), (3, 4)),
        skeleton=((0, 3), (3, 1), (0, 4), (4, 2)),
        sigmas=(0.1, 0.05, 0.05, 0.07, 0.07),
    )
    keypoint_set.save(tmp_path / "hand5.yaml")
    config = config_class(keypoint_set=str(tmp_path / "hand5.yaml"))
    assert config.id2label == {0: "wrist", 1: "l_tip", 2: "r_tip", 3: "l_base", 4: "r_base"}
    assert config.flip_indices == [0, 2, 1, 4, 3] and config.skeleton[1] == [3, 1]
    assert config.sigmas == [0.1, 0.05, 0.05, 0.07, 0.07]
    config.save_pretrained(tmp_path / "model")
    loaded = config_class.from_pretrained(tmp_path / "model")
    assert (loaded.id2label, loaded.flip_indices, loaded.skeleton, loaded.sigmas) == (
        config.id2label,
        config.flip_indices,
        config.skeleton,
        config.sigmas,
    )


@pytest.mark.parametrize("config_class", [DeepPoseConfig, IPRConfig, HigherHRNetConfig])
def test_from_pretrained_with_new_names_rederives_the_saved_fields(tmp_path, config_class):
    config_class().save_pretrained(tmp_path)  # COCO-17
    names = {0: "head", 1: "left_hand", 2: "right_hand"}
    config = config_class.from_pretrained(tmp_path, id2label=names)
    assert config.num_labels == 3 and config.flip_indices == [0, 2, 1]
    assert (
        config.skeleton == []
        and config.sigmas is None
        and config.label2id == {"head": 0, "left_hand": 1, "right_hand": 2}
    )
    explicit = config_class.from_pretrained(tmp_path, id2label=names, flip_indices=[0, 1, 2], skeleton=[[0, 1]])
    assert explicit.flip_indices == [0, 1, 2] and explicit.skeleton == [[0, 1]]
    assert config_class.from_pretrained(tmp_path, num_labels=4).flip_indices == [0, 1, 2, 3]
    same = config_class.from_pretrained(tmp_path, num_labels=17)
    assert same.flip_indices == COCO_KEYPOINTS.flip_indices and same.sigmas == list(COCO_KEYPOINTS.sigmas)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_labels": 5, "id2label": {0: "a", 1: "b"}}, "num_labels=5 disagrees with id2label"),
        ({"id2label": {0: "a", 1: "b", 2: "c"}, "flip_indices": [1, 2, 0]}, "must swap pairs"),
        ({"id2label": {0: "a", 1: "b"}, "flip_indices": [0, 1, 1]}, r"permutation of range\(2\)"),
        ({"id2label": {0: "a", 1: "b"}, "sigmas": [0.1]}, "sigmas must be 2 positive"),
        ({"id2label": {0: "a", 1: "b"}, "skeleton": [[0, 2]]}, r"skeleton\[0\]"),
        ({"id2label": {0: "left_a", 1: "b"}}, "no mirror keypoint 'right_a'"),
    ],
)
@pytest.mark.parametrize("config_class", [RLEConfig, AssociativeEmbeddingConfig])
def test_inconsistent_metadata_is_a_one_line_error(config_class, kwargs, message):
    with pytest.raises(ValueError, match=message):
        config_class(**kwargs)
