"""TopDownPoseImageProcessor: MMPose equivalence (transforms/topdown_affine.npz, models/*_outputs.npz), round trips,
image conversions and bad input.

Tolerances (golden README): centre and scale rtol 1e-6; warped images identical with cv2 (<= 1 grey level allowed);
network inputs atol 1e-5; final keypoints atol 1e-2 image px, scores atol 1e-4.

Two kinds of pixel tests: `*_golden_pixels` (marker `fixture_pixels`) compare with the fixture's bytes and hold only on
the OpenCV release that made them (5.0.0, recorded in the fixture's provenance; bilinear rounding changed in 5.1);
their portable twins compare with `cv2.warpAffine` of MMPose's own warp matrix on the installed OpenCV, which is what
MMPose itself would compute there.
"""

import json
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from golden_utils import (
    PIXEL_FIXTURE,
    fixture_opencv_version,
    fixture_provenance,
    installed_opencv_version,
    load_golden,
)
from PIL import Image

import hfpose  # noqa: F401  (registers the processor with AutoImageProcessor)
from hfpose.image_processing_topdown import TopDownPoseImageProcessor

VARIANTS = ["in192x256_noudp", "in192x256_udp", "in256x256_noudp", "in256x256_udp"]
MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])


def _processor_for(input_size, **kwargs):
    width, height = (int(v) for v in input_size)
    return TopDownPoseImageProcessor(size={"height": height, "width": width}, **kwargs)


def _xyxy_to_xywh(boxes):
    boxes = np.asarray(boxes, dtype=np.float32)
    return np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)


def _unnormalize(pixel_values):
    """(P, 3, H, W) normalized RGB → (P, H, W, 3) float grey levels."""
    pixel_values = np.asarray(pixel_values, dtype=np.float64).transpose(0, 2, 3, 1)
    return (pixel_values * STD + MEAN) * 255


# ------------------------------------------------------------------------------------- golden: topdown_affine.npz


@pytest.fixture(scope="module")
def affine(golden_dir):
    return load_golden(golden_dir, "transforms/topdown_affine.npz")


@pytest.mark.golden
@pytest.mark.parametrize("variant", VARIANTS)
def test_center_scale_matches_golden(affine, variant):
    for i in range(int(affine["num_images"])):
        processor = _processor_for(affine[f"img{i}_{variant}_input_size"], use_udp=variant.endswith("_udp"))
        boxes = _xyxy_to_xywh(affine[f"img{i}_bbox_xyxy"])
        center, scale = processor.boxes_to_center_scale(boxes)
        np.testing.assert_allclose(center[0], affine[f"img{i}_{variant}_input_center"], rtol=1e-6)
        np.testing.assert_allclose(scale, affine[f"img{i}_{variant}_bbox_scale_fixed"], rtol=1e-6)
        np.testing.assert_allclose(scale[0], affine[f"img{i}_{variant}_input_scale"], rtol=1e-6)


@pytest.mark.golden
def test_fixture_provenance_records_opencv(golden_dir):
    """Every fixture with a `provenance_json` names the OpenCV that made it; the pixel fixture's is a release of the
    same major version as the installed one (the `fixture_pixels` tests compare with its bytes)."""
    recorded = {}
    for path in sorted(Path(golden_dir).rglob("*.npz")):
        provenance = fixture_provenance(golden_dir, str(path.relative_to(golden_dir)))
        if provenance is not None:
            recorded[str(path.relative_to(golden_dir))] = provenance.get("opencv")
    assert recorded and all(isinstance(v, str) and v.count(".") == 2 for v in recorded.values()), recorded
    assert recorded[PIXEL_FIXTURE] == fixture_opencv_version(golden_dir)
    assert installed_opencv_version().split(".")[0] == recorded[PIXEL_FIXTURE].split(".")[0]


@pytest.mark.golden
@pytest.mark.fixture_pixels
def test_installed_opencv_is_the_pixel_fixtures(golden_dir):
    """The `fixture_pixels` tests' precondition, checked on its own so that a red run says why first."""
    fixture = fixture_opencv_version(golden_dir)
    assert installed_opencv_version() == fixture, (
        f"OpenCV {installed_opencv_version()} installed, the pixel fixture was made with {fixture}: the fixture_pixels "
        f"tests compare with its bytes (use the locked .venv, or deselect them with -m 'not fixture_pixels')"
    )


@pytest.mark.golden
@pytest.mark.fixture_pixels
@pytest.mark.parametrize("variant", VARIANTS)
def test_affine_crop_identical_to_golden_pixels(affine, variant):
    for i in range(int(affine["num_images"])):
        processor = _processor_for(affine[f"img{i}_{variant}_input_size"], use_udp=variant.endswith("_udp"))
        source_rgb = np.ascontiguousarray(affine[f"img{i}_source_bgr"][..., ::-1])
        crop = processor.affine_crop(
            source_rgb, affine[f"img{i}_{variant}_input_center"], affine[f"img{i}_{variant}_input_scale"]
        )
        expected = affine[f"img{i}_{variant}_warped_bgr"][..., ::-1]
        np.testing.assert_array_equal(crop, expected)  # both warps: same float32 matrix, same cv2 rounding


def _mmpose_warp(affine, i, variant, image):
    """`cv2.warpAffine` with MMPose's stored warp matrix, as MMPose's TopdownAffine calls it, on the installed cv2."""
    width, height = (int(v) for v in affine[f"img{i}_{variant}_input_size"])
    return cv2.warpAffine(
        image,
        affine[f"img{i}_{variant}_warp_mat"],
        (width, height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )


@pytest.mark.golden
@pytest.mark.parametrize("variant", VARIANTS)
def test_affine_crop_equals_cv2_warp_of_mmpose_matrix(affine, variant):
    """Portable twin of the test above: on any OpenCV, the crop is the warp of MMPose's matrix (3 and 4 channels)."""
    for i in range(int(affine["num_images"])):
        processor = _processor_for(affine[f"img{i}_{variant}_input_size"], use_udp=variant.endswith("_udp"))
        source_rgb = np.ascontiguousarray(affine[f"img{i}_source_bgr"][..., ::-1])
        center, scale = affine[f"img{i}_{variant}_input_center"], affine[f"img{i}_{variant}_input_scale"]
        expected = _mmpose_warp(affine, i, variant, source_rgb)
        np.testing.assert_array_equal(processor.affine_crop(source_rgb, center, scale), expected)
        # The pipeline warps 3-channel images as 4-channel ones (OpenCV's SIMD path): the same bytes.
        four = np.concatenate([source_rgb, np.zeros_like(source_rgb[..., :1])], axis=-1)
        np.testing.assert_array_equal(processor.affine_crop(four, center, scale)[..., :3], expected)


@pytest.mark.golden
@pytest.mark.parametrize("variant", VARIANTS)
def test_end_to_end_crop_matches_golden(affine, variant):
    """Boxes in, normalized pixels out: un-normalized they are the golden crop to within 1 grey level."""
    for i in range(int(affine["num_images"])):
        processor = _processor_for(affine[f"img{i}_{variant}_input_size"], use_udp=variant.endswith("_udp"))
        source_rgb = np.ascontiguousarray(affine[f"img{i}_source_bgr"][..., ::-1])
        inputs = processor(source_rgb, boxes=_xyxy_to_xywh(affine[f"img{i}_bbox_xyxy"]))
        np.testing.assert_allclose(inputs["center"][0], affine[f"img{i}_{variant}_input_center"], rtol=1e-6)
        np.testing.assert_allclose(inputs["scale"][0], affine[f"img{i}_{variant}_input_scale"], rtol=1e-6)
        grey = _unnormalize(inputs["pixel_values"])[0]
        expected = affine[f"img{i}_{variant}_warped_bgr"][..., ::-1].astype(np.float64)
        assert np.abs(grey - expected).max() <= 1.0 + 1e-3


# ------------------------------------------------------------------------------------ golden: models/*_outputs.npz


def _golden_boxes(z):
    return [z["bboxes_xywh"][z["image_index"] == i] for i in range(len(z["image_files"]))]


def _golden_processor(z):
    meta = json.loads(str(z["meta_json"]))
    return _processor_for(meta["input_size_wh"], flip_indices=z["flip_indices"].tolist(), shift_coords=True)


@pytest.mark.golden
@pytest.mark.fixture_pixels
@pytest.mark.parametrize("method", ["rle", "ipr"])
def test_inputs_from_image_files_match_golden_pixels(golden_dir, coco_mini, method):
    z = load_golden(golden_dir, f"models/{method}_outputs.npz")
    processor = _golden_processor(z)
    files = [coco_mini / "val2017" / str(name) for name in z["image_files"]]
    inputs = processor(files, boxes=_golden_boxes(z), return_tensors="pt")
    assert inputs["pixel_values"].dtype == torch.float32
    np.testing.assert_allclose(inputs["pixel_values"].numpy(), z["inputs"], rtol=0, atol=1e-5)
    np.testing.assert_allclose(inputs["center"].numpy(), z["input_center"], rtol=1e-6)
    np.testing.assert_allclose(inputs["scale"].numpy(), z["input_scale"], rtol=1e-6)
    np.testing.assert_array_equal(inputs["image_index"].numpy(), z["image_index"])
    # Mirroring the normalized tensor (MMPose's flip test) equals mirroring the golden input.
    flipped = processor.flip_pixel_values(inputs["pixel_values"])
    np.testing.assert_allclose(flipped.numpy(), z["inputs"][..., ::-1], rtol=0, atol=1e-5)


@pytest.mark.golden
@pytest.mark.parametrize("method", ["rle", "ipr"])
def test_inputs_from_image_files_equal_cv2_warp_within_one_grey_level_of_golden(golden_dir, coco_mini, method):
    """Portable twin of the test above. On any OpenCV: each network input is the installed `cv2.warpAffine` of the
    decoded file (3 channels, MMPose's warp formula, `hfpose.geometry` checked against MMPose's matrices in
    tests/test_geometry.py) normalized in float64; and it is within one grey level of MMPose's input on at most 0.1 % of
    the values (the golden README's bound for bilinear rounding; OpenCV 5.1 vs 5.0: 40 of 1,179,648 values)."""
    from hfpose.geometry import get_warp_matrix

    z = load_golden(golden_dir, f"models/{method}_outputs.npz")
    processor = _golden_processor(z)
    files = [coco_mini / "val2017" / str(name) for name in z["image_files"]]
    inputs = processor(files, boxes=_golden_boxes(z), return_tensors="np")
    np.testing.assert_allclose(inputs["center"], z["input_center"], rtol=1e-6)
    np.testing.assert_allclose(inputs["scale"], z["input_scale"], rtol=1e-6)
    height, width = z["inputs"].shape[-2:]
    for person, image_index in enumerate(z["image_index"]):
        rgb = np.ascontiguousarray(cv2.imread(str(files[image_index]), cv2.IMREAD_COLOR)[..., ::-1])
        matrix = get_warp_matrix(inputs["center"][person], inputs["scale"][person], 0.0, (width, height))
        crop = cv2.warpAffine(
            rgb, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        )
        expected = ((crop / 255.0 - MEAN) / STD).astype(np.float32).transpose(2, 0, 1)
        np.testing.assert_allclose(inputs["pixel_values"][person], expected, rtol=0, atol=1e-6)
    one_level = (1.0 / (STD * 255.0))[None, :, None, None] + 1e-5
    difference = np.abs(np.asarray(inputs["pixel_values"], np.float64) - z["inputs"])
    assert np.all(difference <= one_level), float(difference.max())
    assert np.count_nonzero(difference > 1e-5) <= 1e-3 * difference.size


def _as_outputs(head_out, backend):
    """Golden head output → model-output-like object (RLE: sigma = sigmoid(raw), score = mean(1 - sigma))."""
    head_out = torch.from_numpy(head_out) if backend == "torch" else head_out
    if head_out.shape[-1] == 4:
        sigma = torch.sigmoid(head_out[..., 2:]) if backend == "torch" else 1 / (1 + np.exp(-head_out[..., 2:]))
        return SimpleNamespace(keypoints=head_out[..., :2], sigma=sigma, scores=(1 - sigma).mean(-1))
    return SimpleNamespace(keypoints=head_out, scores=None)


@pytest.mark.golden
@pytest.mark.parametrize("method", ["deeppose", "rle", "ipr"])
@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("given_center_scale", [False, True])
def test_post_process_matches_golden(golden_dir, method, backend, given_center_scale):
    z = load_golden(golden_dir, f"models/{method}_outputs.npz")
    processor = _golden_processor(z)
    extra = {"center": z["input_center"], "scale": z["input_scale"]} if given_center_scale else {}
    results = processor.post_process_pose_estimation(
        _as_outputs(z["head_out"], backend),
        boxes=_golden_boxes(z),
        outputs_flipped=_as_outputs(z["head_out_flip"], backend),
        **extra,
    )
    assert [len(r) for r in results] == np.bincount(z["image_index"]).tolist()
    persons = [person for image in results for person in image]
    keypoints = np.stack([p["keypoints"] for p in persons])
    scores = np.stack([p["scores"] for p in persons])
    np.testing.assert_allclose(keypoints, z["keypoints"], rtol=0, atol=1e-2)
    np.testing.assert_allclose(scores, z["keypoint_scores"], rtol=0, atol=1e-4)
    np.testing.assert_allclose(np.stack([p["bbox"] for p in persons]), z["bboxes_xywh"], rtol=0, atol=0)
    assert persons[0]["labels"] == list(range(z["keypoints"].shape[1]))


@pytest.mark.golden
def test_post_process_rle_scores_from_sigma_only(golden_dir):
    """Without `scores`, RLE scores come from sigma: mean(1 - sigma), flip-averaged."""
    z = load_golden(golden_dir, "models/rle_outputs.npz")
    processor = _golden_processor(z)

    def outputs(head_out):
        return {"keypoints": head_out[..., :2], "sigma": 1 / (1 + np.exp(-head_out[..., 2:]))}

    results = processor.post_process_pose_estimation(
        outputs(z["head_out"]), _golden_boxes(z), outputs_flipped=outputs(z["head_out_flip"])
    )
    scores = np.stack([p["scores"] for image in results for p in image])
    np.testing.assert_allclose(scores, z["keypoint_scores"], rtol=0, atol=1e-4)


# ------------------------------------------------------------------------------------------- hand-computed cases


def test_whole_image_box_by_default():
    image = np.zeros((100, 60, 3), dtype=np.uint8)  # W = 60, H = 100
    inputs = TopDownPoseImageProcessor()(image)
    # box [0, 0, 60, 100] → centre (30, 50), scale (75, 125) → aspect 192/256 = 0.75: w = 125 * 0.75 = 93.75
    np.testing.assert_allclose(inputs["center"], [[30.0, 50.0]])
    np.testing.assert_allclose(inputs["scale"], [[93.75, 125.0]])
    assert inputs["pixel_values"].shape == (1, 3, 256, 192)


def test_several_images_image_major_order_and_empty_box_list():
    images = [np.zeros((50, 50, 3), np.uint8), np.zeros((40, 80, 3), np.uint8), np.zeros((30, 30, 3), np.uint8)]
    boxes = [[[0, 0, 10, 10], [5, 5, 20, 30]], [], [[1, 2, 3, 4]]]
    inputs = TopDownPoseImageProcessor(size={"height": 8, "width": 6})(images, boxes=boxes, return_tensors="pt")
    assert inputs["pixel_values"].shape == (3, 3, 8, 6)
    assert inputs["image_index"].tolist() == [0, 0, 2]
    np.testing.assert_allclose(inputs["center"].numpy(), [[5, 5], [15, 20], [2.5, 4]])


def test_no_boxes_at_all():
    inputs = TopDownPoseImageProcessor(size={"height": 8, "width": 6})(
        [np.zeros((5, 5, 3), np.uint8)], boxes=[[]], return_tensors="pt"
    )
    assert inputs["pixel_values"].shape == (0, 3, 8, 6)
    assert inputs["center"].shape == (0, 2) and inputs["image_index"].shape == (0,)


def _constant_value(grey):
    return ((grey / 255 - MEAN) / STD).astype(np.float32)


def test_constant_image_gives_normalized_constant():
    processor = TopDownPoseImageProcessor(size={"height": 16, "width": 12})
    image = np.full((64, 64, 3), 128, dtype=np.uint8)
    pixels = processor(image, boxes=[[16, 16, 24, 24]])["pixel_values"]  # crop 30 x 40 px stays inside the image
    for channel in range(3):
        np.testing.assert_allclose(pixels[0, channel], _constant_value(128)[channel], rtol=0, atol=1e-6)


@pytest.fixture
def grey_image():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(48, 40), dtype=np.uint8)


def _run(image, **kwargs):
    processor = TopDownPoseImageProcessor(size={"height": 16, "width": 12})
    return processor(image, boxes=[[4, 6, 30, 36]], **kwargs)["pixel_values"]


def test_grayscale_becomes_rgb(grey_image):
    expected = _run(np.repeat(grey_image[..., None], 3, axis=-1))
    np.testing.assert_array_equal(_run(grey_image), expected)  # (H, W)
    np.testing.assert_array_equal(_run(grey_image[..., None]), expected)  # (H, W, 1)
    np.testing.assert_array_equal(_run(Image.fromarray(grey_image, mode="L")), expected)  # PIL "L"
    # The three RGB channels come from the same grey values.
    grey = _unnormalize(expected)
    np.testing.assert_allclose(grey[..., 0], grey[..., 1], atol=1e-4)
    np.testing.assert_allclose(grey[..., 0], grey[..., 2], atol=1e-4)


def test_rgba_drops_alpha(grey_image):
    rgb = np.stack([grey_image, 255 - grey_image, grey_image // 2], axis=-1)
    rgba = np.concatenate([rgb, np.full_like(grey_image[..., None], 7)], axis=-1)
    expected = _run(rgb)
    np.testing.assert_array_equal(_run(rgba), expected)
    np.testing.assert_array_equal(_run(Image.fromarray(rgba, mode="RGBA")), expected)
    np.testing.assert_array_equal(_run(np.ascontiguousarray(rgba.transpose(2, 0, 1))), expected)  # (C, H, W)
    np.testing.assert_array_equal(_run(torch.from_numpy(rgb.transpose(2, 0, 1).copy())), expected)


def test_uint16_scaled_to_8_bit(grey_image):
    rgb = np.stack([grey_image] * 3, axis=-1)
    # x * 257 maps 0..255 onto 0..65535 exactly; the conversion rounds x16 * 255 / 65535 back to x.
    as_uint16 = rgb.astype(np.uint16) * 257
    np.testing.assert_array_equal(_run(as_uint16), _run(rgb))
    # Values between 8-bit levels round to the nearest: 65535 → 255, 128 → 0 (0.498), 129 → 1 (0.502), 32896 → 128.
    processor = TopDownPoseImageProcessor(size={"height": 4, "width": 3})
    for value, level in [(65535, 255), (128, 0), (129, 1), (32896, 128)]:
        image = np.full((40, 40, 3), value, dtype=np.uint16)
        pixels = processor(image, boxes=[[10, 10, 16, 16]])["pixel_values"]  # crop 20 x 26.7 px inside the image
        for channel in range(3):
            np.testing.assert_allclose(pixels[0, channel], _constant_value(level)[channel], rtol=0, atol=1e-6)
    np.testing.assert_array_equal(_run(Image.fromarray(as_uint16[..., 0])), _run(rgb))  # PIL "I;16"


def test_float_images_in_unit_range(grey_image):
    rgb = np.stack([grey_image] * 3, axis=-1)
    as_float = rgb.astype(np.float32) / 255
    # Float crops are not quantized to 8 bit: at most half a grey level from the uint8 path.
    difference = np.abs(_unnormalize(_run(as_float)) - _unnormalize(_run(rgb)))
    assert difference.max() <= 0.5 + 1e-3


def test_image_file_path(tmp_path, grey_image):
    rgb = np.stack([grey_image, 255 - grey_image, grey_image // 2], axis=-1)
    path = tmp_path / "person.png"
    Image.fromarray(rgb).save(path)
    np.testing.assert_array_equal(_run(str(path)), _run(rgb))
    np.testing.assert_array_equal(_run(path), _run(rgb))


def test_flip_pixel_values_numpy_and_torch():
    values = np.arange(24, dtype=np.float32).reshape(1, 2, 3, 4)
    np.testing.assert_array_equal(TopDownPoseImageProcessor.flip_pixel_values(values), values[..., ::-1])
    flipped = TopDownPoseImageProcessor.flip_pixel_values(torch.from_numpy(values))
    np.testing.assert_array_equal(flipped.numpy(), values[..., ::-1])


def test_post_process_hand_computed_threshold_and_names():
    processor = TopDownPoseImageProcessor(
        size={"height": 8, "width": 6}, flip_indices=[1, 0], keypoint_names=["left", "right"]
    )
    boxes = [[[0, 0, 48, 64]]]  # centre (24, 32), scale (60, 80): 10 image px per input px
    outputs = {"keypoints": np.array([[[0.5, 0.5], [0.0, 0.0]]], np.float32), "scores": np.array([[0.9, 0.2]])}
    (person,) = processor.post_process_pose_estimation(outputs, boxes)[0]
    # p_img = p_in / (6, 8) * (60, 80) + (24, 32) - (30, 40)
    np.testing.assert_allclose(person["keypoints"], [[24.0, 32.0], [-6.0, -8.0]], atol=1e-5)
    assert person["labels"] == ["left", "right"]
    np.testing.assert_allclose(person["scores"], [0.9, 0.2], atol=1e-7)
    (person,) = processor.post_process_pose_estimation(outputs, boxes, threshold=0.5)[0]
    np.testing.assert_allclose(person["keypoints"][0], [24.0, 32.0], atol=1e-5)
    assert np.isnan(person["keypoints"][1]).all()
    assert person["scores"].shape == (2,)

    # Flip test: the mirrored prediction of the same pose flips back onto it (shift_coords: one input pixel).
    mirrored = {"keypoints": np.array([[[1 - 0.0 - 1 / 6, 0.0], [1 - 0.5 - 1 / 6, 0.5]]], np.float32)}
    (person,) = processor.post_process_pose_estimation(
        {"keypoints": outputs["keypoints"]}, boxes, outputs_flipped=mirrored
    )[0]
    np.testing.assert_allclose(person["keypoints"], [[24.0, 32.0], [-6.0, -8.0]], atol=1e-4)
    np.testing.assert_allclose(person["scores"], [1.0, 1.0])


# ------------------------------------------------------------------------------------------------- save / load


def test_save_load_round_trip(tmp_path):
    from transformers import AutoImageProcessor

    processor = TopDownPoseImageProcessor(
        size={"height": 256, "width": 256},
        padding=1.1,
        use_udp=True,
        flip_indices=hfpose.COCO_KEYPOINTS.flip_indices,
        shift_heatmap=True,
        keypoint_names=list(hfpose.COCO_KEYPOINTS.names),
    )
    processor.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "preprocessor_config.json").read_text())
    assert saved["image_processor_type"] == "TopDownPoseImageProcessor"
    assert saved["size"] == {"height": 256, "width": 256} and saved["padding"] == 1.1 and saved["use_udp"] is True
    assert saved["flip_indices"] == hfpose.COCO_KEYPOINTS.flip_indices
    for loader in (TopDownPoseImageProcessor.from_pretrained, AutoImageProcessor.from_pretrained):
        loaded = loader(tmp_path)
        assert isinstance(loaded, TopDownPoseImageProcessor)
        assert loaded.to_dict() == processor.to_dict()
    image = np.random.default_rng(1).integers(0, 256, (120, 90, 3), dtype=np.uint8)
    np.testing.assert_array_equal(loaded(image)["pixel_values"], processor(image)["pixel_values"])


def test_defaults_saved_and_restored(tmp_path):
    processor = TopDownPoseImageProcessor()
    processor.save_pretrained(tmp_path)
    loaded = TopDownPoseImageProcessor.from_pretrained(tmp_path)
    assert loaded.input_size == (192, 256) and loaded.padding == 1.25 and loaded.use_udp is False
    assert loaded.flip_indices is None and loaded.keypoint_names is None and loaded.shift_coords is True
    np.testing.assert_allclose(loaded.image_mean, MEAN)
    np.testing.assert_allclose(loaded.image_std, STD)


def test_registration_resolves_through_the_model_config(tmp_path):
    """A preprocessor_config.json without `image_processor_type` resolves through config.json's model_type."""
    from transformers import AutoConfig, AutoImageProcessor, PreTrainedConfig

    from hfpose.image_processing_topdown import register

    class DummyTopDownConfig(PreTrainedConfig):
        model_type = "hfpose_test_dummy_topdown"

    AutoConfig.register(DummyTopDownConfig.model_type, DummyTopDownConfig, exist_ok=True)
    register([DummyTopDownConfig])
    register([DummyTopDownConfig])  # idempotent
    DummyTopDownConfig().save_pretrained(tmp_path)
    TopDownPoseImageProcessor(padding=1.5).save_pretrained(tmp_path)
    path = tmp_path / "preprocessor_config.json"
    saved = json.loads(path.read_text())
    del saved["image_processor_type"]
    path.write_text(json.dumps(saved))
    loaded = AutoImageProcessor.from_pretrained(tmp_path)
    assert isinstance(loaded, TopDownPoseImageProcessor) and loaded.padding == 1.5


# ---------------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "boxes, error, match",
    [
        ([[[0, 0, 10, 10]], [[0, 0, 5, 5]]], ValueError, "2 box lists for 1 images"),
        ([[[0, 0, 10]]], ValueError, r"boxes\[0\].*shape"),
        ([[0, 0, 10, 10]], None, None),  # a single image's (N, 4) boxes are accepted
        ([0, 0, 10, 10], ValueError, "wrap the box in a list"),
        ([[[0, 0, 0, 10]]], ValueError, r"boxes\[0\]\[0\].*non-positive"),
        ([[[0, 0, 10, -1]]], ValueError, r"boxes\[0\]\[0\].*non-positive"),
        ([[[0, 0, 10, 10], [np.nan, 0, 10, 10]]], ValueError, r"boxes\[0\]\[1\].*non-finite"),
        ([[[np.inf, 0, 10, 10]]], ValueError, r"boxes\[0\]\[0\].*non-finite"),
        ([[[200, 0, 10, 10]]], ValueError, r"boxes\[0\]\[0\].*wholly outside"),
        ([[[-20, 5, 20, 10]]], ValueError, r"boxes\[0\]\[0\].*wholly outside"),
        ("boxes", TypeError, "boxes must be a list"),
    ],
)
def test_bad_boxes(boxes, error, match):
    processor = TopDownPoseImageProcessor(size={"height": 8, "width": 6})
    image = np.zeros((50, 100, 3), dtype=np.uint8)
    if error is None:
        assert processor(image, boxes=boxes)["pixel_values"].shape == (1, 3, 8, 6)
        return
    with pytest.raises(error, match=match):
        processor(image, boxes=boxes)


def test_box_errors_name_the_image_index():
    processor = TopDownPoseImageProcessor(size={"height": 8, "width": 6})
    images = [np.zeros((50, 100, 3), np.uint8)] * 2
    with pytest.raises(ValueError, match=r"boxes\[1\]\[0\]"):
        processor(images, boxes=[[[0, 0, 10, 10]], [[0, 0, 10, 0]]])
    with pytest.raises(ValueError, match="1 box lists for 2 images"):
        processor(images, boxes=[[[0, 0, 10, 10]]])


def test_bad_images(tmp_path):
    processor = TopDownPoseImageProcessor(size={"height": 8, "width": 6})
    good = np.zeros((20, 20, 3), np.uint8)
    with pytest.raises(FileNotFoundError, match=r"images\[1\].*missing\.jpg"):
        processor([good, str(tmp_path / "missing.jpg")])
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match=r"images\[0\].*cannot decode"):
        processor(str(corrupt))
    with pytest.raises(ValueError, match=r"images\[0\].*\[0, 1\]"):
        processor(np.full((20, 20, 3), 2.0, np.float32))
    with pytest.raises(ValueError, match=r"images\[0\].*non-finite"):
        processor(np.full((20, 20, 3), np.nan, np.float32))
    with pytest.raises(ValueError, match=r"images\[0\].*outside \[0, 255\]"):
        processor(np.full((20, 20, 3), 300, np.int32))
    with pytest.raises(ValueError, match=r"images\[0\].*channels"):
        processor(np.zeros((20, 20, 5), np.uint8))
    with pytest.raises(TypeError, match=r"images\[1\].*unsupported type"):
        processor([good, 3.0])
    with pytest.raises(ValueError, match="images is empty"):
        processor([])


def test_bad_settings_and_post_process_input():
    with pytest.raises(ValueError, match="permutation"):
        TopDownPoseImageProcessor(flip_indices=[0, 0, 1])
    with pytest.raises(ValueError, match=r"pair joints.*joint 0 maps to 1, which maps to 2"):
        TopDownPoseImageProcessor(flip_indices=[1, 2, 0])  # a 3-cycle: mirroring twice would not be the identity
    assert TopDownPoseImageProcessor(flip_indices=[1, 0, 2]).flip_indices == [1, 0, 2]
    with pytest.raises(ValueError, match="keypoint_names"):
        TopDownPoseImageProcessor(flip_indices=[1, 0], keypoint_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="padding"):
        TopDownPoseImageProcessor(padding=-1.0)
    processor = TopDownPoseImageProcessor()
    outputs = {"keypoints": np.zeros((2, 3, 2), np.float32)}
    with pytest.raises(ValueError, match="2 persons"):
        processor.post_process_pose_estimation(outputs, boxes=[[[0, 0, 10, 10]]])
    with pytest.raises(ValueError, match="flip_indices"):
        processor.post_process_pose_estimation(outputs, [[[0, 0, 5, 5], [1, 1, 5, 5]]], outputs_flipped=outputs)
    with pytest.raises(ValueError, match=r"\(P, K, 2\)"):
        processor.post_process_pose_estimation({"keypoints": np.zeros((2, 3))}, boxes=[[[0, 0, 5, 5]]])
    with pytest.raises(ValueError, match="no `keypoints`"):
        processor.post_process_pose_estimation({"scores": np.zeros((2, 3))}, boxes=[[[0, 0, 5, 5]]])
    with pytest.raises(ValueError, match=r"boxes\[0\]\[1\].*non-positive"):
        processor.post_process_pose_estimation(outputs, [[[0, 0, 5, 5], [1, 1, 0, 5]]])
    with pytest.raises(ValueError, match=r"scores must have shape"):
        processor.post_process_pose_estimation(
            {"keypoints": outputs["keypoints"], "scores": np.zeros((2, 4))}, [[[0, 0, 5, 5], [1, 1, 5, 5]]]
        )


@pytest.mark.parametrize("use_udp", [False, True])
def test_four_channel_warp_gives_the_three_channel_bytes(coco_mini, use_udp):
    """The fast path warps a 4-channel copy of the region each image's crops read (OpenCV's SIMD bilinear path) in a
    reused scratch buffer; its pixels must equal the normalization table applied to the plain 3-channel
    ``cv2.warpAffine`` crop, bit for bit: small boxes, boxes over the border, one image passed twice, and a scratch
    buffer full of stale bytes (a crop reading outside its converted region would pick them up)."""
    from hfpose import image_processing_topdown as module

    paths = sorted((coco_mini / "val2017").glob("*.jpg"))[:3]
    images = [np.asarray(Image.open(path).convert("RGB")) for path in paths]
    images.append(images[0])  # the same array twice: each entry gets its own region
    rng = np.random.default_rng(0)
    processor = TopDownPoseImageProcessor(use_udp=use_udp)
    table = module._normalization_table(True, 1 / 255, True, processor.image_mean, processor.image_std)
    for trial in range(4):
        boxes = []
        for image in images:
            height, width = image.shape[:2]
            count = int(rng.integers(1, 12))
            xy = rng.uniform(-0.2, 0.9, (count, 2)) * [width, height]
            wh = rng.uniform(0.005, 0.6, (count, 2)) * [width, height]
            wh = np.maximum(wh, 2.0 - np.minimum(xy, 0))  # every box overlaps the image
            boxes.append(np.concatenate([xy, wh], 1).astype(np.float32))
        module._SCRATCH.buffer = rng.integers(0, 256, 2 * 640 * 640 * 4, dtype=np.uint8)  # stale bytes everywhere
        inputs = processor(images, boxes=boxes)
        assert inputs["pixel_values"].shape == (sum(map(len, boxes)), 3, 256, 192)
        for person, index in enumerate(inputs["image_index"]):
            crop = processor.affine_crop(images[index], inputs["center"][person], inputs["scale"][person])
            assert crop.shape == (256, 192, 3)
            expected = np.stack([table[c][crop[..., c]] for c in range(3)])
            np.testing.assert_array_equal(
                inputs["pixel_values"][person], expected, err_msg=f"trial {trial} crop {person}"
            )
