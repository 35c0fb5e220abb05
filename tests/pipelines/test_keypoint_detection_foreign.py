"""`pipeline("keypoint-detection")` with transformers' own `VitPoseForPoseEstimation` (tiny, random, built here):
the same output format as hfpose's models, values equal to calling the model and VitPose's processor directly,
the bbox the input box (not the one VitPose's post-processing returns), and the flip test."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import VitPoseBackboneConfig, VitPoseConfig, VitPoseForPoseEstimation, pipeline
from transformers.models.vitpose.image_processing_pil_vitpose import VitPoseImageProcessorPil
from transformers.models.vitpose.modeling_vitpose import flip_back as vitpose_flip_back

import hfpose
from hfpose.image_processing_bottomup import BottomUpPoseImageProcessor
from hfpose.image_processing_topdown import TopDownPoseImageProcessor
from hfpose.models.associative_embedding import AssociativeEmbeddingConfig, AssociativeEmbeddingForPoseEstimation
from hfpose.models.backbones import resnet_backbone_config
from hfpose.models.hrnet import HRNetConfig
from hfpose.models.rle import RLEConfig, RLEForPoseEstimation
from hfpose.pipelines.processor_contract import foreign_flip_indices

COCO_NAMES = list(hfpose.COCO_KEYPOINTS.names)
# VitPose checkpoints name COCO's keypoints like this (Nose, L_Eye, R_Eye, ...).
VITPOSE_STYLE_NAMES = [
    "Nose",
    "L_Eye",
    "R_Eye",
    "L_Ear",
    "R_Ear",
    "L_Shoulder",
    "R_Shoulder",
    "L_Elbow",
    "R_Elbow",
    "L_Wrist",
    "R_Wrist",
    "L_Hip",
    "R_Hip",
    "L_Knee",
    "R_Knee",
    "L_Ankle",
    "R_Ankle",
]


def _vitpose_dir(directory, names, **backbone_kwargs):
    torch.manual_seed(0)
    backbone = VitPoseBackboneConfig(
        image_size=[64, 48],
        patch_size=[16, 16],
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        out_indices=[2],
        **backbone_kwargs,
    )
    model = VitPoseForPoseEstimation(VitPoseConfig(backbone_config=backbone, id2label=dict(enumerate(names)))).eval()
    model.save_pretrained(directory)
    VitPoseImageProcessorPil(size={"height": 64, "width": 48}).save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def vitpose_dir(tmp_path_factory):
    return _vitpose_dir(tmp_path_factory.mktemp("tiny_vitpose"), COCO_NAMES)


@pytest.fixture(scope="module")
def rle_dir(tmp_path_factory):
    torch.manual_seed(0)
    backbone = resnet_backbone_config(
        50, depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 16, 32], embedding_size=8, layer_type="basic"
    )
    config = RLEConfig(backbone_config=backbone, input_size=[48, 64])
    directory = tmp_path_factory.mktemp("tiny_rle")
    RLEForPoseEstimation(config).eval().save_pretrained(directory)
    TopDownPoseImageProcessor(
        size={"height": 64, "width": 48}, flip_indices=config.flip_indices, keypoint_names=COCO_NAMES
    ).save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def ae_dir(tmp_path_factory):
    torch.manual_seed(0)
    backbone = HRNetConfig(
        stem_channels=8,
        stage1_channels=4,
        stage1_num_blocks=1,
        hidden_sizes=[4, 8, 16, 32],
        num_modules=[1, 1, 1],
        num_blocks=[1, 1, 1],
    )
    config = AssociativeEmbeddingConfig(backbone_config=backbone, input_size=[128, 128])
    directory = tmp_path_factory.mktemp("tiny_ae")
    model = AssociativeEmbeddingForPoseEstimation(config).eval()
    with torch.no_grad():  # random heatmaps sit near 0, below any detection threshold: lift them so people are found
        model.final_layer.bias[: config.num_keypoints] = 0.5
    model.save_pretrained(directory)
    BottomUpPoseImageProcessor(input_size=128, flip_indices=config.flip_indices).save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def val_image(coco_mini):
    annotations = json.loads((coco_mini / "annotations" / "person_keypoints_val2017.json").read_text())
    by_image = {}
    for a in annotations["annotations"]:
        if a["num_keypoints"] > 0 and not a["iscrowd"]:
            by_image.setdefault(a["image_id"], []).append(a["bbox"])
    image_id, boxes = max(by_image.items(), key=lambda item: len(item[1]))
    file_name = next(i["file_name"] for i in annotations["images"] if i["id"] == image_id)
    return coco_mini / "val2017" / file_name, boxes[:3]


def _shape(result):
    """The output format without values: keys, types, K and label names per person."""
    return [
        {
            "keys": sorted(person),
            "types": {key: type(value).__name__ for key, value in person.items()},
            "bbox": [type(v).__name__ for v in person["bbox"]],
            "keypoints": [
                (sorted(k), k["label"], [type(k[f]).__name__ for f in ("x", "y", "score")]) for k in person["keypoints"]
            ],
        }
        for person in result
    ]


def test_vitpose_output_format_equals_hfpose_models(vitpose_dir, rle_dir, ae_dir, val_image):
    path, boxes = val_image
    vitpose = pipeline("keypoint-detection", model=str(vitpose_dir))(str(path), boxes=boxes)
    rle = pipeline("keypoint-detection", model=str(rle_dir))(str(path), boxes=boxes)
    assert len(vitpose) == len(rle) == len(boxes)
    assert _shape(vitpose) == _shape(rle)
    assert [k["label"] for k in vitpose[0]["keypoints"]] == COCO_NAMES
    for person, box in zip(vitpose, boxes):
        assert person["bbox"] == pytest.approx(box)  # COCO xywh image px, the box it was cropped from
    bottom_up = pipeline("keypoint-detection", model=str(ae_dir))(str(path))
    assert bottom_up, "the tiny AE model found nobody; the format check needs one person"
    assert _shape(bottom_up[:1])[0]["keys"] == _shape(vitpose[:1])[0]["keys"]
    assert _shape(bottom_up[:1])[0]["keypoints"] == _shape(vitpose[:1])[0]["keypoints"]


def _direct(model_dir, image, boxes, flip_pairs=None, **forward_kwargs):
    model = VitPoseForPoseEstimation.from_pretrained(model_dir).eval()
    processor = VitPoseImageProcessorPil.from_pretrained(model_dir)
    boxes = np.asarray(boxes, dtype=np.float32).tolist()  # the task's boxes are float32 (as hfpose's processor)
    inputs = processor(images=[image], boxes=[boxes], return_tensors="pt")
    pixel_values = inputs["pixel_values"]
    with torch.inference_mode():
        if flip_pairs is None:
            outputs = model(pixel_values, **forward_kwargs)
        else:  # crops and mirrored crops in one batch (as the task: same float path), VitPose's own flip-back
            outputs = model(torch.cat([pixel_values, pixel_values.flip(-1)]), **forward_kwargs)
            main, mirrored = outputs.heatmaps.split(len(pixel_values))
            outputs.heatmaps = 0.5 * (main + vitpose_flip_back(mirrored, flip_pairs))
    return processor.post_process_pose_estimation(outputs, boxes=[boxes])[0]


@pytest.mark.parametrize("flip_test", [False, True])
def test_vitpose_values_equal_model_and_processor(vitpose_dir, val_image, flip_test):
    path, boxes = val_image
    estimator = pipeline("keypoint-detection", model=str(vitpose_dir))
    persons = estimator(str(path), boxes=boxes, flip_test=flip_test)
    image = Image.open(path).convert("RGB")
    pairs = None
    if flip_test:
        flip = hfpose.COCO_KEYPOINTS.flip_indices
        pairs = torch.tensor([[k, flip[k]] for k in range(17) if k < flip[k]])
    expected = _direct(vitpose_dir, image, boxes, flip_pairs=pairs)
    for person, reference, box in zip(persons, expected, boxes):
        xy = np.array([[k["x"], k["y"]] for k in person["keypoints"]])
        np.testing.assert_allclose(xy, reference["keypoints"].numpy(), atol=1e-3)
        scores = np.array([k["score"] for k in person["keypoints"]])
        np.testing.assert_allclose(scores, reference["scores"].numpy(), atol=1e-5)
        assert person["score"] == pytest.approx(float(scores.mean()), abs=1e-5)
        # VitPose's own `bbox` (transformers 5.23) is built from the crop centre and its 200-px scale; ours is the box.
        assert not np.allclose(reference["bbox"].numpy(), box, atol=1.0)
        assert person["bbox"] == pytest.approx(box)
    if flip_test:  # the flip test changes the answer (it is not silently off)
        plain = estimator(str(path), boxes=boxes, flip_test=False)
        assert not np.allclose([k["x"] for k in plain[0]["keypoints"]], [k["x"] for k in persons[0]["keypoints"]])


def test_vitpose_one_forward_without_flip_by_default(vitpose_dir, val_image):
    path, boxes = val_image
    estimator = pipeline("keypoint-detection", model=str(vitpose_dir))
    sizes = []
    handle = estimator.model.register_forward_pre_hook(
        lambda module, args, kwargs: sizes.append(kwargs["pixel_values"].shape[0]), with_kwargs=True
    )
    estimator(str(path), boxes=boxes)
    estimator(str(path), boxes=boxes, flip_test=True)
    handle.remove()
    assert sizes == [len(boxes), 2 * len(boxes)]


def test_vitpose_whole_image_threshold_and_detector(vitpose_dir, val_image):
    path, boxes = val_image
    estimator = pipeline("keypoint-detection", model=str(vitpose_dir))
    width, height = Image.open(path).size
    whole = estimator(str(path))
    assert len(whole) == 1 and whole[0]["bbox"] == [0.0, 0.0, float(width), float(height)]
    full = estimator(str(path), boxes=boxes[:1])[0]["keypoints"]
    cut = float(np.median([k["score"] for k in full]))
    kept = estimator(str(path), boxes=boxes[:1], threshold=cut)[0]["keypoints"]
    # threshold= keeps all K joints in order and marks the ones at or above it (as for hfpose's own models)
    assert [k["label"] for k in kept] == [k["label"] for k in full]
    assert [k["visible"] for k in kept] == [k["score"] >= cut for k in full]
    assert 0 < sum(k["visible"] for k in kept) < len(kept)

    def detector(image):
        return [{"label": "person", "score": 0.8, "box": {"xmin": 10, "ymin": 20, "xmax": 110, "ymax": 220}}]

    detected = estimator(str(path), detector=detector)
    assert len(detected) == 1 and detected[0]["bbox"] == [10.0, 20.0, 100.0, 200.0]


def test_vitpose_flip_pairs_from_checkpoint_style_names(tmp_path, val_image):
    directory = _vitpose_dir(tmp_path / "named", VITPOSE_STYLE_NAMES)
    estimator = pipeline("keypoint-detection", model=str(directory))
    assert foreign_flip_indices(estimator.model.config, estimator.image_processor) == list(
        hfpose.COCO_KEYPOINTS.flip_indices
    )
    path, boxes = val_image
    persons = estimator(str(path), boxes=boxes[:1], flip_test=True)
    assert [k["label"] for k in persons[0]["keypoints"]] == VITPOSE_STYLE_NAMES


def test_vitpose_flip_test_without_pairs_names_the_fix(tmp_path, val_image):
    directory = _vitpose_dir(tmp_path / "unnamed", [f"LABEL_{i}" for i in range(17)])
    estimator = pipeline("keypoint-detection", model=str(directory))
    path, boxes = val_image
    assert len(estimator(str(path), boxes=boxes[:1])[0]["keypoints"]) == 17  # no flip test: fine
    with pytest.raises(ValueError, match="flip_test=True needs the left/right keypoint pairs"):
        estimator(str(path), boxes=boxes[:1], flip_test=True)


def test_vitpose_plus_gets_the_coco_expert(tmp_path, val_image):
    # VitPose+ (mixture-of-experts MLPs) needs `dataset_index`; the task gives every crop expert 0 (COCO body).
    directory = _vitpose_dir(tmp_path / "plus", COCO_NAMES, num_experts=2, part_features=8)
    path, boxes = val_image
    persons = pipeline("keypoint-detection", model=str(directory))(str(path), boxes=boxes)
    expected = _direct(
        directory, Image.open(path).convert("RGB"), boxes, dataset_index=torch.zeros(len(boxes), dtype=torch.long)
    )
    other_expert = _direct(
        directory, Image.open(path).convert("RGB"), boxes, dataset_index=torch.ones(len(boxes), dtype=torch.long)
    )
    for person, reference, other in zip(persons, expected, other_expert):
        xy = np.array([[k["x"], k["y"]] for k in person["keypoints"]])
        np.testing.assert_allclose(xy, reference["keypoints"].numpy(), atol=1e-3)
        assert not np.allclose(reference["scores"].numpy(), other["scores"].numpy())  # the expert matters
