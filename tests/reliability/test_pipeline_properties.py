"""Property-based bad-input tests of the `keypoint-detection` pipeline (tiny random RLE model) and of the bottom-up
image processor.

Pipeline: random images (sizes, dtypes, channels) and random boxes → one person per box with finite keypoints in
image pixels, keypoint and person scores in ``[0, 1]``; or a ValueError / TypeError naming ``images[i]`` /
``boxes[i][j]``. Bottom-up: random images → finite network inputs or an error naming the image; random finite
heatmaps in ``[0, 1]`` and tags → people with finite keypoints and scores in ``[0, 1]``.

Two former gaps are pinned by plain tests: a flat box list that is not ``(n, 4)`` is an error naming ``boxes``
(not silently re-cut), and NaN heatmaps are an error of the bottom-up post-processing (not NaN keypoints).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import reliability_tally as tally
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_topdown_processor_properties import box_is_valid, boxes_for, image_size, images

SETTINGS = settings(
    max_examples=tally.EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@pytest.fixture(scope="module")
def estimator(tmp_path_factory):
    from transformers import pipeline

    import hfpose  # noqa: F401
    from hfpose.image_processing_topdown import TopDownPoseImageProcessor
    from hfpose.models.backbones import resnet_backbone_config
    from hfpose.models.rle import RLEConfig, RLEForPoseEstimation

    torch.manual_seed(0)
    backbone = resnet_backbone_config(
        50, depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 16, 32], embedding_size=8, layer_type="basic"
    )
    config = RLEConfig(backbone_config=backbone, input_size=[24, 32])
    model = RLEForPoseEstimation(config).eval()
    processor = TopDownPoseImageProcessor(
        size={"height": 32, "width": 24},
        flip_indices=config.flip_indices,
        keypoint_names=[config.id2label[i] for i in range(17)],
    )
    directory = tmp_path_factory.mktemp("tiny_rle_pipeline")
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return pipeline("keypoint-detection", model=str(directory))


@SETTINGS
@given(data=st.data(), flip_test=st.booleans(), threshold=st.sampled_from([None, 0.5]))
def test_pipeline_one_person_per_box_finite_keypoints_unit_scores(estimator, data, flip_test, threshold):
    image, image_valid = data.draw(images(max_side=48))
    if isinstance(image, torch.Tensor):  # the pipeline takes paths, PIL images and numpy arrays
        image = image.numpy()
    # Documented pipeline input: (H, W) / (H, W, C) arrays (its whole-image box reads shape[:2]).
    assume(not (isinstance(image, np.ndarray) and image.ndim == 3 and image.shape[-1] not in (1, 2, 3, 4)))
    width, height = image_size(image)
    boxes = data.draw(boxes_for(width, height, max_boxes=3))
    use_boxes = bool(boxes) or data.draw(st.booleans())
    kwargs = {"boxes": boxes} if use_boxes else {}
    with torch.inference_mode():
        persons, error = tally.call(
            "pipeline(keypoint-detection)",
            estimator,
            image,
            flip_test=flip_test,
            threshold=threshold,
            names=r"(images|boxes)\[\d+\]",
            **kwargs,
        )
    boxes_valid = [box_is_valid(box, width, height, size=(24, 32)) for box in boxes]
    if use_boxes and not boxes:  # no person asked for: nothing is decoded, nothing returned
        assert error is None and persons == []
        return
    if error is not None:
        assert not (image_valid and all(boxes_valid)), f"valid input rejected: {error}"
        return
    assert image_valid and all(boxes_valid), "invalid input accepted"
    assert len(persons) == (len(boxes) if use_boxes else 1)
    for person, box in zip(persons, boxes if use_boxes else [[0, 0, width, height]]):
        assert 0.0 <= person["score"] <= 1.0
        np.testing.assert_allclose(person["bbox"], np.asarray(box, np.float32), rtol=1e-6)
        for keypoint in person["keypoints"]:
            assert math.isfinite(keypoint["x"]) and math.isfinite(keypoint["y"])
            assert 0.0 <= keypoint["score"] <= 1.0
            assert (
                ("visible" not in keypoint)
                if threshold is None
                else (keypoint["visible"] == (keypoint["score"] >= threshold))
            )
        assert len(person["keypoints"]) == 17


def test_pipeline_rejects_a_flat_list_of_eight_numbers(estimator):
    image = np.zeros((40, 40, 3), np.uint8)
    with pytest.raises(ValueError, match=r"boxes"):
        estimator(image, boxes=[1, 2, 10, 10, 3, 4, 10, 10])


# ---------------------------------------------------------------------------------------------------------- bottom-up


@pytest.fixture(scope="module")
def bottomup_processor():
    from hfpose.image_processing_bottomup import BottomUpPoseImageProcessor

    return BottomUpPoseImageProcessor(input_size=64)


@SETTINGS
@given(data=st.data())
def test_bottomup_preprocess_valid_inputs_or_names_the_image(bottomup_processor, data):
    image, valid = data.draw(images(max_side=40))
    width, height = image_size(image)
    result, error = tally.call(
        "bottomup.preprocess(images)",
        bottomup_processor,
        image,
        return_tensors="np",
        names=r"images\[\d+\]|at least 2x2",
    )
    if error is not None:
        assert not valid or min(width, height) < 2, f"valid image rejected: {error}"
        return
    assert valid and min(width, height) >= 2
    assert np.isfinite(result["pixel_values"]).all() and result["pixel_values"].shape[:2] == (1, 3)
    assert np.isfinite(result["scale"]).all() and (result["scale"] > 0).all()


@SETTINGS
@given(data=st.data())
def test_bottomup_post_process_finite_people_unit_scores(bottomup_processor, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    width, height = data.draw(st.integers(2, 60)), data.draw(st.integers(2, 60))
    inputs = bottomup_processor(np.zeros((height, width, 3), np.uint8), return_tensors="pt")
    h, w = inputs["pixel_values"].shape[-2] // 4, inputs["pixel_values"].shape[-1] // 4
    kind = data.draw(st.sampled_from(["uniform", "sparse", "zero", "one-hot"]))
    heatmaps = {
        "uniform": lambda: rng.random((1, 17, h, w)),
        "sparse": lambda: rng.random((1, 17, h, w)) * (rng.random((1, 17, h, w)) > 0.95),
        "zero": lambda: np.zeros((1, 17, h, w)),
        "one-hot": lambda: np.eye(h * w)[rng.integers(0, h * w, 17)].reshape(1, 17, h, w),
    }[kind]()
    tags = rng.normal(size=(1, 17, h, w)) * data.draw(st.sampled_from([0.0, 0.1, 10.0]))
    outputs = {
        "heatmaps": (torch.tensor(heatmaps, dtype=torch.float32),),
        "tags": torch.tensor(tags, dtype=torch.float32),
    }
    result, error = tally.call(
        "bottomup.post_process_pose_estimation",
        bottomup_processor.post_process_pose_estimation,
        outputs,
        base_size=inputs["base_size"],
        scale=inputs["scale"],
    )
    assert error is None, error
    for person in result[0]:
        assert np.isfinite(person["keypoints"]).all() and np.isfinite(person["bbox"]).all()
        assert ((person["scores"] >= 0) & (person["scores"] <= 1)).all() and 0 <= person["score"] <= 1


def test_bottomup_post_process_rejects_nan_heatmaps(bottomup_processor):
    inputs = bottomup_processor(np.zeros((40, 50, 3), np.uint8), return_tensors="pt")
    h, w = inputs["pixel_values"].shape[-2] // 4, inputs["pixel_values"].shape[-1] // 4
    heatmaps = torch.rand(1, 17, h, w, generator=torch.Generator().manual_seed(0))
    heatmaps[0, 3, 2, 2] = float("nan")
    with pytest.raises(ValueError, match="heatmaps"):
        bottomup_processor.post_process_pose_estimation(
            {"heatmaps": (heatmaps,), "tags": torch.zeros(1, 17, h, w)},
            base_size=inputs["base_size"],
            scale=inputs["scale"],
        )
