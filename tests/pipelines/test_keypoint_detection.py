"""The keypoint-detection pipeline on real coco-mini photos with a tiny random RLE model."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import pipeline

import hfpose
from hfpose import COCO_KEYPOINTS
from hfpose.image_processing_topdown import TopDownPoseImageProcessor
from hfpose.models.backbones import resnet_backbone_config
from hfpose.models.rle import RLEConfig, RLEForPoseEstimation


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    torch.manual_seed(0)
    backbone = resnet_backbone_config(
        50, depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 16, 32], embedding_size=8, layer_type="basic"
    )
    config = RLEConfig(backbone_config=backbone, input_size=[48, 64])
    model = RLEForPoseEstimation(config).eval()
    processor = TopDownPoseImageProcessor(
        size={"height": 64, "width": 48},
        flip_indices=config.flip_indices,
        keypoint_names=[config.id2label[i] for i in range(17)],
    )
    directory = tmp_path_factory.mktemp("tiny_rle")
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
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
    return coco_mini / "val2017" / file_name, boxes


def test_pipeline_matches_model_and_processor(model_dir, val_image):
    path, boxes = val_image
    estimator = pipeline("keypoint-detection", model=str(model_dir))
    persons = estimator(str(path), boxes=boxes)
    assert len(persons) == len(boxes)
    names = list(hfpose.COCO_KEYPOINTS.names)
    assert [k["label"] for k in persons[0]["keypoints"]] == names
    assert persons[0]["bbox"] == pytest.approx(boxes[0])

    model = estimator.model
    processor = TopDownPoseImageProcessor.from_pretrained(model_dir)
    image = Image.open(path).convert("RGB")
    inputs = processor(images=[image], boxes=[boxes], return_tensors="pt")
    with torch.inference_mode():
        outputs = model(inputs["pixel_values"])
        flipped = model(inputs["pixel_values"].flip(-1))
    expected = processor.post_process_pose_estimation(outputs, boxes=[boxes], outputs_flipped=flipped)[0]
    for person, reference in zip(persons, expected):
        xy = np.array([[k["x"], k["y"]] for k in person["keypoints"]])
        np.testing.assert_allclose(xy, np.asarray(reference["keypoints"]), atol=1e-3)
        scores = np.array([k["score"] for k in person["keypoints"]])
        np.testing.assert_allclose(scores, np.asarray(reference["scores"]), atol=1e-5)
        assert person["score"] == pytest.approx(float(np.mean(scores)), abs=1e-5)


def test_all_crops_and_flips_go_through_one_forward(model_dir, val_image):
    path, boxes = val_image
    estimator = pipeline("keypoint-detection", model=str(model_dir))
    batch_sizes = []
    handle = estimator.model.register_forward_pre_hook(
        lambda module, args, kwargs: batch_sizes.append(kwargs["pixel_values"].shape[0]), with_kwargs=True
    )
    estimator(str(path), boxes=boxes)
    estimator(str(path), boxes=boxes, flip_test=False)
    handle.remove()
    assert batch_sizes == [2 * len(boxes), len(boxes)]


def test_input_types_agree(model_dir, val_image):
    path, boxes = val_image
    estimator = pipeline("keypoint-detection", model=str(model_dir))
    rgb = np.asarray(Image.open(path).convert("RGB"))
    from_path = estimator(str(path), boxes=boxes[:2])
    from_array = estimator(rgb, boxes=boxes[:2])
    from_pil = estimator(Image.fromarray(rgb), boxes=boxes[:2])
    for other in (from_array, from_pil):
        for a, b in zip(from_path, other):
            assert [k["x"] for k in a["keypoints"]] == pytest.approx([k["x"] for k in b["keypoints"]], abs=1e-4)


def test_list_of_images_and_box_count_check(model_dir, val_image):
    path, boxes = val_image
    estimator = pipeline("keypoint-detection", model=str(model_dir))
    results = estimator([str(path), str(path)], boxes=[boxes[:1], boxes[:3]])
    assert [len(r) for r in results] == [1, 3]
    with pytest.raises(ValueError, match="boxes has 1 entries for 2 images"):
        estimator([str(path), str(path)], boxes=[boxes])


def test_without_boxes_the_whole_image_is_one_person(model_dir, val_image):
    path, _ = val_image
    estimator = pipeline("keypoint-detection", model=str(model_dir))
    width, height = Image.open(path).size
    persons = estimator(str(path))
    assert len(persons) == 1 and persons[0]["bbox"] == [0.0, 0.0, float(width), float(height)]


def test_detector_supplies_person_boxes(model_dir, val_image):
    path, _ = val_image
    estimator = pipeline("keypoint-detection", model=str(model_dir))

    def detector(image):
        return [
            {"label": "person", "score": 0.9, "box": {"xmin": 10, "ymin": 20, "xmax": 110, "ymax": 220}},
            {"label": "dog", "score": 0.99, "box": {"xmin": 0, "ymin": 0, "xmax": 50, "ymax": 50}},
            {"label": "person", "score": 0.2, "box": {"xmin": 0, "ymin": 0, "xmax": 50, "ymax": 50}},
        ]

    persons = estimator(str(path), detector=detector, detector_threshold=0.5)
    assert len(persons) == 1
    assert persons[0]["bbox"] == [10.0, 20.0, 100.0, 200.0]  # detector xyxy -> COCO xywh
    keypoint_mean = np.mean([k["score"] for k in persons[0]["keypoints"]])
    assert persons[0]["score"] == pytest.approx(0.9 * keypoint_mean, rel=1e-5)
    assert estimator(str(path), detector=lambda image: []) == []


def test_keypoint_threshold_marks_but_keeps_every_joint_in_order(model_dir, val_image):
    path, boxes = val_image
    estimator = pipeline("keypoint-detection", model=str(model_dir))
    everything = estimator(str(path), boxes=boxes[:1])[0]["keypoints"]
    assert all("visible" not in k for k in everything)
    cut = float(np.median([k["score"] for k in everything]))
    marked = estimator(str(path), boxes=boxes[:1], threshold=cut)[0]["keypoints"]
    assert [k["label"] for k in marked] == [k["label"] for k in everything] == list(COCO_KEYPOINTS.names)
    assert [k["visible"] for k in marked] == [k["score"] >= cut for k in everything]
    assert 0 < sum(k["visible"] for k in marked) < len(marked)
    assert [(k["x"], k["y"]) for k in marked] == [(k["x"], k["y"]) for k in everything]


def test_pipeline_default_fast_path_matches_eager(model_dir, val_image, monkeypatch):
    """With HFPOSE_OPTIMIZE on (the default outside the test suite) RLE runs its optimized forward (onnxruntime, a
    dependency; Inductor without it) and finds the same keypoints."""
    path, boxes = val_image
    eager = pipeline("keypoint-detection", model=str(model_dir))
    assert eager.forward_model is eager.model  # conftest sets HFPOSE_OPTIMIZE=0
    monkeypatch.setenv("HFPOSE_OPTIMIZE", "1")
    fast = pipeline("keypoint-detection", model=str(model_dir))
    assert type(fast.forward_model).__name__ == "OptimizedPoseModel"
    assert fast.forward_model.backend == "onnxruntime"
    for a, b in zip(eager(str(path), boxes=boxes), fast(str(path), boxes=boxes)):
        np.testing.assert_allclose(
            [[k["x"], k["y"]] for k in a["keypoints"]], [[k["x"], k["y"]] for k in b["keypoints"]], atol=1e-3
        )
        np.testing.assert_allclose(
            [k["score"] for k in a["keypoints"]], [k["score"] for k in b["keypoints"]], atol=1e-5
        )


def _keypoint_array(persons):
    return np.array([[[k["x"], k["y"]] for k in person["keypoints"]] for person in persons])


def test_pipeline_bfloat16_runs_end_to_end_near_float32(model_dir, val_image, monkeypatch):
    """``pipeline(..., dtype=torch.bfloat16)``: the model runs in bfloat16 (the processor's float32 pixel_values cast
    to it), the outputs reach post-processing as float32, and keypoints stay within a measured bound of the float32
    pipeline; float32 stays the default, and the bfloat16 model is not sent to the float32 optimized paths."""
    path, boxes = val_image
    monkeypatch.setenv("HFPOSE_OPTIMIZE", "1")
    default = pipeline("keypoint-detection", model=str(model_dir))
    assert default.model.dtype == torch.float32
    monkeypatch.setenv("HFPOSE_OPTIMIZE", "0")
    float32 = pipeline("keypoint-detection", model=str(model_dir))
    low = pipeline("keypoint-detection", model=str(model_dir), dtype=torch.bfloat16)
    monkeypatch.setenv("HFPOSE_OPTIMIZE", "1")
    assert low.model.dtype == torch.bfloat16 and low.forward_model is low.model  # eager, no ONNX export attempt
    monkeypatch.setenv("HFPOSE_OPTIMIZE", "0")
    reference = float32(str(path), boxes=boxes)
    seen = []
    original = type(low.image_processor).post_process_pose_estimation

    def recording(self, outputs, **kwargs):
        seen.append((outputs["keypoints"].dtype, kwargs["outputs_flipped"]["keypoints"].dtype))
        return original(self, outputs, **kwargs)

    monkeypatch.setattr(type(low.image_processor), "post_process_pose_estimation", recording)
    got = low(str(path), boxes=boxes)
    assert seen == [(torch.float32, torch.float32)]
    deviation = np.abs(_keypoint_array(got) - _keypoint_array(reference))
    box_size = np.array([[b[2], b[3]] for b in boxes])[:, None, :]
    # bfloat16 keeps 8 mantissa bits (2^-9 relative rounding per operation). Measured on this tiny random model and
    # image: at most 0.0171 of the box size (1.25 px), the same with ONEDNN_MAX_CPU_ISA=AVX2 / AVX512_CORE and 1 / 2
    # threads; 0.04 leaves room for native bfloat16 kernels (AVX512_BF16 / AMX), which round differently.
    assert (deviation / box_size).max() < 0.04
    assert deviation.max() > 0  # the bfloat16 network really ran
    scores = np.array([[k["score"] for k in p["keypoints"]] for p in got])
    reference_scores = np.array([[k["score"] for k in p["keypoints"]] for p in reference])
    assert np.abs(scores - reference_scores).max() < 0.01  # measured 0.0022, same kernels and thread counts
