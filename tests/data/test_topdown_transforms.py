"""Top-down transforms: decoding, the eval crop vs MMPose (golden), training augmentation rules, targets, seeding."""

import hashlib
import json
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from golden_utils import load_golden

from hfpose.codecs import IntegralRegressionLabel, RegressionLabel, flip_keypoints
from hfpose.data import (
    TopDownEvalTransform,
    TopDownTrainTransform,
    default_collate,
    load_coco_keypoints,
    load_image,
    load_mpii,
    normalize_image,
)
from hfpose.geometry import fix_aspect_ratio, get_udp_warp_matrix, get_warp_matrix, warp_points
from hfpose.keypoints import COCO_KEYPOINTS

NO_AUGMENTATION = dict(flip_prob=0.0, half_body_prob=0.0, shift_prob=0.0, scale_prob=0.0, rotate_prob=0.0)
VARIANTS = ["in192x256_noudp", "in192x256_udp", "in256x256_noudp", "in256x256_udp"]


@pytest.fixture(scope="module")
def coco_rows(coco_mini):
    return load_coco_keypoints(coco_mini)


@pytest.fixture(scope="module")
def affine_golden(golden_dir):
    return load_golden(golden_dir, "transforms/topdown_affine.npz")


def _row(dataset, ann_id):
    return dataset[dataset["ann_id"].index(int(ann_id))]


def _assert_crops_close(actual, expected):
    """Normalized crops equal up to one grey level on at most 0.1 % of the values (the golden README's tolerance for
    warps whose matrices agree to atol 1e-5 but not bit for bit)."""
    one_level = 1.0 / np.asarray([58.395, 57.12, 57.375], np.float32)[:, None, None] + 1e-5
    difference = np.abs(actual - expected)
    assert np.all(difference <= one_level)
    assert np.count_nonzero(difference > 1e-5) <= 1e-3 * difference.size


def _variant(golden, variant):
    params = json.loads(str(golden["params_json"]))["variants"][variant]
    return tuple(params["input_size"]), params["use_udp"]


# --------------------------------------------------------------------------------------------------- load_image
@pytest.mark.golden
def test_load_image_gives_mmpose_pixels(affine_golden, coco_mini):
    for i in range(int(affine_golden["num_images"])):
        rgb = load_image(coco_mini / "val2017" / str(affine_golden[f"img{i}_file_name"]))
        bgr = np.ascontiguousarray(rgb[..., ::-1])
        assert rgb.dtype == np.uint8 and rgb.shape == affine_golden[f"img{i}_source_bgr"].shape
        assert hashlib.sha256(bgr.tobytes()).hexdigest() == str(affine_golden[f"img{i}_source_bgr_sha256"])


def test_load_image_conversions(tmp_path):
    gray = np.arange(12 * 10, dtype=np.uint8).reshape(12, 10)
    cv2.imwrite(str(tmp_path / "gray.png"), gray)
    out = load_image(tmp_path / "gray.png")
    assert out.shape == (12, 10, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, np.repeat(gray[..., None], 3, axis=2))

    rgba = np.zeros((5, 6, 4), np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2], rgba[..., 3] = 10, 20, 30, 0  # BGRA on disk
    cv2.imwrite(str(tmp_path / "rgba.png"), rgba)
    out = load_image(tmp_path / "rgba.png")
    assert out.shape == (5, 6, 3)
    np.testing.assert_array_equal(out[0, 0], [30, 20, 10])  # RGB order, alpha dropped (not composited)

    deep = np.full((4, 4, 3), 51400, np.uint16)  # 16 bit -> 8 bit by value / 256
    cv2.imwrite(str(tmp_path / "deep.png"), deep)
    out = load_image(tmp_path / "deep.png")
    assert out.dtype == np.uint8 and int(out[0, 0, 0]) == 51400 // 256


def test_load_image_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.jpg"):
        load_image(tmp_path / "nothing.jpg")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(ValueError, match="empty.jpg' is empty"):
        load_image(tmp_path / "empty.jpg")
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8 this is not a jpeg")
    with pytest.raises(ValueError, match="bad.jpg' is corrupt"):
        load_image(tmp_path / "bad.jpg")


# ------------------------------------------------------------------------------------------- eval vs MMPose golden
@pytest.mark.golden
@pytest.mark.fixture_pixels
@pytest.mark.parametrize("variant", VARIANTS)
def test_eval_crop_matches_golden_pixels(affine_golden, coco_rows, variant):
    """The fixture's bytes: holds only on the OpenCV release that made them (marker `fixture_pixels`)."""
    _check_eval_crop(affine_golden, coco_rows, variant, portable=False)


@pytest.mark.golden
@pytest.mark.parametrize("variant", VARIANTS)
def test_eval_crop_equals_cv2_warp_of_mmpose_matrix(affine_golden, coco_rows, variant):
    """Portable twin: on any OpenCV, the crop is the installed `cv2.warpAffine` of MMPose's stored warp matrix."""
    _check_eval_crop(affine_golden, coco_rows, variant, portable=True)


def _check_eval_crop(affine_golden, coco_rows, variant, portable):
    input_size, use_udp = _variant(affine_golden, variant)
    transform = TopDownEvalTransform(input_size=input_size, use_udp=use_udp)
    for i in range(int(affine_golden["num_images"])):
        row = _row(coco_rows, affine_golden[f"img{i}_ann_id"])
        out = transform.transform_example(row)
        prefix = f"img{i}_{variant}_"
        np.testing.assert_allclose(out["center"], affine_golden[prefix + "input_center"], rtol=1e-6)
        np.testing.assert_allclose(out["scale"], affine_golden[prefix + "input_scale"], rtol=1e-6)
        if portable:
            source = np.ascontiguousarray(affine_golden[f"img{i}_source_bgr"][..., ::-1])
            crop = cv2.warpAffine(
                source,
                affine_golden[prefix + "warp_mat"],
                tuple(int(v) for v in input_size),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=0,
            )
            expected = normalize_image(crop)
        else:
            expected = normalize_image(affine_golden[prefix + "warped_bgr"][..., ::-1])
        if use_udp:
            # hfpose.geometry's UDP matrix is float64 maths, MMPose's float32: translations can differ by 1 ulp
            _assert_crops_close(out["pixel_values"], expected)
        else:
            np.testing.assert_array_equal(out["pixel_values"], expected)  # identical crop, identical normalization


@pytest.mark.golden
@pytest.mark.fixture_pixels
@pytest.mark.parametrize("method", ["deeppose", "ipr"])
def test_eval_transform_reproduces_mmpose_network_input_golden_pixels(golden_dir, coco_rows, method):
    """The fixture's bytes: holds only on the OpenCV release that made them (marker `fixture_pixels`)."""
    _check_eval_network_input(golden_dir, coco_rows, method, portable=False)


@pytest.mark.golden
@pytest.mark.parametrize("method", ["deeppose", "ipr"])
def test_eval_transform_network_input_equals_cv2_warp_of_mmpose_formula(golden_dir, coco_rows, method):
    """Portable twin: on any OpenCV the input is the installed `cv2.warpAffine` of the decoded file with MMPose's
    matrix formula, normalized as MMPose; and within one grey level of MMPose's on at most 0.1 % of the values."""
    _check_eval_network_input(golden_dir, coco_rows, method, portable=True)


def _check_eval_network_input(golden_dir, coco_rows, method, portable):
    golden = load_golden(golden_dir, f"models/{method}_outputs.npz")
    input_size = tuple(json.loads(str(golden["meta_json"]))["input_size_wh"])
    transform = TopDownEvalTransform(input_size=input_size)
    for person, image_index in enumerate(golden["image_index"]):
        image_id = int(golden["image_ids"][image_index])
        candidates = [
            i
            for i, (iid, box) in enumerate(zip(coco_rows["image_id"], coco_rows["bbox"]))
            if iid == image_id and np.allclose(box, golden["bboxes_xywh"][person], atol=1e-3)
        ]
        assert len(candidates) == 1
        row = coco_rows[candidates[0]]
        # the fixture fed MMPose the unclipped xyxy of the GT box (x + w in float32); crop exactly that box
        out = transform.transform_example({**row, "bbox_center": None, "bbox_xyxy": golden["bboxes_xyxy"][person]})
        np.testing.assert_allclose(out["center"], golden["input_center"][person], rtol=1e-6)
        np.testing.assert_allclose(out["scale"], golden["input_scale"][person], rtol=1e-6)
        if not portable:
            np.testing.assert_allclose(out["pixel_values"], golden["inputs"][person], rtol=0, atol=1e-6)
            continue
        matrix = get_warp_matrix(out["center"], out["scale"], 0.0, input_size)
        crop = cv2.warpAffine(
            load_image(row["image_path"]),
            matrix,
            input_size,
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
        np.testing.assert_array_equal(out["pixel_values"], normalize_image(crop))
        _assert_crops_close(out["pixel_values"], golden["inputs"][person])


def test_eval_transform_equals_image_processor(coco_rows):
    module = pytest.importorskip("hfpose.image_processing_topdown")
    from hfpose.geometry import bbox_xyxy_to_xywh

    processor = module.TopDownPoseImageProcessor()
    transform = TopDownEvalTransform(input_size=processor.input_size)
    for row in coco_rows.select(range(0, 60, 12)):
        out = transform.transform_example(row)
        # The processor takes xywh boxes; give it the clipped box the dataset uses, and the same decoded pixels.
        box = bbox_xyxy_to_xywh(np.asarray(row["bbox_xyxy"], np.float32)[None])
        features = processor(load_image(row["image_path"]), boxes=[box], return_tensors="np")
        np.testing.assert_allclose(features["center"][0], out["center"], rtol=1e-6)
        np.testing.assert_allclose(features["scale"][0], out["scale"], rtol=1e-6)
        # xyxy -> xywh -> xyxy in float32 moves the centre by an ulp: allow one grey level on a few pixels
        _assert_crops_close(features["pixel_values"][0], out["pixel_values"])


# ---------------------------------------------------------------------------------------------- training transform
@pytest.mark.golden
@pytest.mark.parametrize("variant", ["in192x256_noudp", "in192x256_udp"])
def test_train_without_augmentation_matches_golden(affine_golden, coco_rows, variant):
    input_size, use_udp = _variant(affine_golden, variant)
    train = TopDownTrainTransform(input_size=input_size, use_udp=use_udp, seed=0, **NO_AUGMENTATION)
    evaluate = TopDownEvalTransform(input_size=input_size, use_udp=use_udp)
    for i in range(int(affine_golden["num_images"])):
        row = _row(coco_rows, affine_golden[f"img{i}_ann_id"])
        out = train.transform_example(row)
        expected = affine_golden[f"img{i}_{variant}_transformed_keypoints"][0]
        np.testing.assert_allclose(out["keypoints"], expected, rtol=0, atol=1e-3)
        np.testing.assert_allclose(out["labels"], expected / np.array(input_size, np.float32), rtol=1e-6, atol=1e-6)
        visible = affine_golden[f"img{i}_keypoints_visible"][0]
        w, h = input_size
        inside = (expected[:, 0] >= 0) & (expected[:, 0] <= w - 1) & (expected[:, 1] >= 0) & (expected[:, 1] <= h - 1)
        np.testing.assert_array_equal(out["label_weights"], (inside & (visible > 0.5)).astype(np.float32))
        np.testing.assert_array_equal(out["pixel_values"], evaluate.transform_example(row)["pixel_values"])
        assert out["rotation"] == 0 and not out["flipped"]


def _row_with_weights(coco_rows):
    for row in coco_rows:
        keypoints = np.array(row["keypoints"])
        if (keypoints[:, 2] == 0).any() and (keypoints[:, 2] > 0).sum() >= 9:
            return row
    raise AssertionError("coco-mini has no suitable person")


def test_flip_swaps_left_and_right(coco_rows):
    row = _row_with_weights(coco_rows)
    width = row["width"]
    plain = TopDownTrainTransform(seed=0, **NO_AUGMENTATION).transform_example(row)
    flipped = TopDownTrainTransform(seed=0, **{**NO_AUGMENTATION, "flip_prob": 1.0}).transform_example(row)
    assert flipped["flipped"]
    keypoints = np.array(row["keypoints"], np.float32)
    visible = np.minimum(1, keypoints[:, 2])
    indices = COCO_KEYPOINTS.flip_indices
    # the transform's keypoints are the image-space flip (x -> W-1-x, left/right swapped) warped around the
    # flipped centre
    expected_image, _ = flip_keypoints(keypoints[None, :, :2], visible[None], (width, row["height"]), indices)
    center = np.array([width - 1 - row["bbox_center"][0], row["bbox_center"][1]], np.float32)
    np.testing.assert_allclose(flipped["center"], center, rtol=1e-6)
    matrix = get_warp_matrix(center, flipped["scale"], 0.0, (192, 256))
    np.testing.assert_allclose(flipped["keypoints"], warp_points(expected_image[0], matrix), atol=1e-3)
    np.testing.assert_array_equal(flipped["label_weights"] > 0, (plain["label_weights"] > 0)[indices])
    # mirror symmetry: flipped keypoint k sits where the original flip_indices[k] was, mirrored about the crop centre
    # (standard warp: x_flip = w - x, exact up to float32 rounding of the matrices)
    np.testing.assert_allclose(flipped["keypoints"][:, 0], 192 - plain["keypoints"][indices, 0], atol=1e-3)
    np.testing.assert_allclose(flipped["keypoints"][:, 1], plain["keypoints"][indices, 1], atol=1e-3)
    # the image is mirrored too: the flipped crop is the crop of the mirrored photo
    mirrored = cv2.flip(load_image(row["image_path"]), 1)
    crop = cv2.warpAffine(mirrored, matrix, (192, 256), flags=cv2.INTER_LINEAR)
    np.testing.assert_array_equal(flipped["pixel_values"], normalize_image(crop))
    # flipping twice is the identity
    twice, twice_visible = flip_keypoints(
        *flip_keypoints(keypoints[None, :, :2], visible[None], (width, 10), indices), (width, 10), indices
    )
    np.testing.assert_array_equal(twice[0], keypoints[:, :2])
    np.testing.assert_array_equal(twice_visible[0], visible)


def test_label_weight_rules(coco_rows):
    row = dict(_row_with_weights(coco_rows))
    keypoints = np.array(row["keypoints"], np.float32)
    keypoints[1, 2] = 1.0  # labelled but occluded -> visible min(1, v) = 1 -> weight 1 (if inside)
    keypoints[0, :2] = (-500.0, -500.0)  # far outside the crop -> weight 0
    keypoints[0, 2] = 2.0
    row["keypoints"] = keypoints
    out = TopDownTrainTransform(seed=0, **NO_AUGMENTATION).transform_example(row)
    assert out["label_weights"][0] == 0
    unlabelled = keypoints[:, 2] == 0
    assert np.all(out["label_weights"][unlabelled] == 0)
    x, y = out["keypoints"][:, 0], out["keypoints"][:, 1]
    inside = (x >= 0) & (x <= 191) & (y >= 0) & (y <= 255)
    np.testing.assert_array_equal(out["label_weights"], (inside & ~unlabelled).astype(np.float32))
    assert out["label_weights"][1] == float(inside[1])


def test_half_body_box_rule():
    transform = TopDownTrainTransform(
        seed=0, half_body_prob=1.0, upper_prioritized_prob=1.0, half_body_min_total_keypoints=5
    )
    keypoints = np.random.default_rng(0).uniform(0, 100, (17, 2)).astype(np.float32)
    visible = np.ones(17, np.float32)
    center0, scale0 = np.array([50, 50], np.float32), np.array([10, 10], np.float32)
    rng = np.random.default_rng(0)
    center, scale = transform._half_body(rng, keypoints, visible, center0, scale0)
    upper = keypoints[:11]
    np.testing.assert_allclose(center, upper.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(scale, (upper.max(axis=0) - upper.min(axis=0)) * 1.5, rtol=1e-6)
    lower_only = visible.copy()
    lower_only[:10] = 0  # 1 upper keypoint < min_upper (2): the lower body is used
    center, scale = transform._half_body(rng, keypoints, lower_only, center0, scale0)
    np.testing.assert_allclose(center, keypoints[11:].mean(axis=0), rtol=1e-6)
    too_few = np.zeros(17, np.float32)
    too_few[:4] = 1  # 4 < min_total (5): unchanged
    center, scale = transform._half_body(rng, keypoints, too_few, center0, scale0)
    np.testing.assert_array_equal(center, center0)


def test_bbox_transform_distribution():
    transform = TopDownTrainTransform(seed=0)
    rng = np.random.default_rng(1)
    center, scale = np.array([100, 100], np.float32), np.array([40, 80], np.float32)
    draws = [transform._bbox_transform(rng, center, scale) for _ in range(1500)]
    shifts = np.array([c - center for c, _, _ in draws]) / scale
    factors = np.array([s[0] / scale[0] for _, s, _ in draws])
    rotations = np.array([r for _, _, r in draws])
    assert np.abs(shifts).max() <= 0.16 + 1e-6
    assert 0.25 < np.mean(np.any(shifts != 0, axis=1)) < 0.35  # shift_prob 0.3
    assert factors.min() >= 0.5 - 1e-6 and factors.max() <= 1.5 + 1e-6 and abs(factors.mean() - 1.0) < 0.03
    assert np.abs(rotations).max() <= 80.0 + 1e-4
    assert 0.55 < np.mean(rotations != 0) < 0.65  # rotate_prob 0.6
    # truncated normal on [-1, 1]: std = sqrt(1 - 2 phi(1) / (Phi(1) - Phi(-1))) ~ 0.5376
    assert abs(np.std(rotations[rotations != 0]) / 80.0 - 0.5376) < 0.04


def test_augmented_outputs_are_consistent(coco_rows):
    transform = TopDownTrainTransform(seed=3, flip_prob=0.5, rotate_prob=1.0, half_body_prob=0.3)
    for row in coco_rows.select(range(6)):
        out = transform.transform_example(row)
        assert out["pixel_values"].shape == (3, 256, 192) and out["pixel_values"].dtype == np.float32
        pixels = out["pixel_values"]
        assert np.isfinite(pixels).all() and pixels.min() >= -2.2 and pixels.max() <= 2.7
        assert out["scale"][0] / out["scale"][1] == pytest.approx(192 / 256, rel=1e-5)
        # keypoints are the image keypoints (flipped if needed) warped by the matrix of (center, scale, rotation)
        keypoints = np.array(row["keypoints"], np.float32)[:, :2]
        if out["flipped"]:
            image_size = (row["width"], row["height"])
            keypoints = flip_keypoints(keypoints[None], None, image_size, COCO_KEYPOINTS.flip_indices)[0][0]
        matrix = get_warp_matrix(out["center"], out["scale"], float(out["rotation"]), (192, 256))
        np.testing.assert_allclose(out["keypoints"], warp_points(keypoints, matrix), atol=1e-3)
        np.testing.assert_allclose(out["labels"], out["keypoints"] / np.array([192, 256], np.float32), rtol=1e-6)


def test_udp_training_uses_udp_matrix(coco_rows):
    row = coco_rows[0]
    out = TopDownTrainTransform(seed=0, use_udp=True, **{**NO_AUGMENTATION, "rotate_prob": 1.0}).transform_example(row)
    matrix = get_udp_warp_matrix(out["center"], out["scale"], float(out["rotation"]), (192, 256))
    np.testing.assert_allclose(out["keypoints"], warp_points(np.array(row["keypoints"])[:, :2], matrix), atol=1e-3)


def test_seed_determinism_and_worker_reseeding(coco_rows, monkeypatch):
    rows = coco_rows.select(range(3))
    first_transform = TopDownTrainTransform(seed=5)
    first = [first_transform.transform_example(r) for r in rows]
    again_transform = TopDownTrainTransform(seed=5)
    again = [again_transform.transform_example(r) for r in rows]
    other_transform = TopDownTrainTransform(seed=6)
    other = [other_transform.transform_example(r) for r in rows]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a["pixel_values"], b["pixel_values"])
        np.testing.assert_array_equal(a["labels"], b["labels"])
    assert any(
        not np.array_equal(a["center"], c["center"]) or a["rotation"] != c["rotation"] for a, c in zip(first, other)
    )

    import torch.utils.data

    transform = TopDownTrainTransform(seed=5)
    draws = {}
    for worker, seed in [(0, 100), (1, 101), (0, 200)]:  # two workers, then worker 0 in a new epoch
        monkeypatch.setattr(torch.utils.data, "get_worker_info", lambda w=worker, s=seed: SimpleNamespace(id=w, seed=s))
        draws[(worker, seed)] = (transform._generator().random(), transform._generator().random())
    assert len({values[0] for values in draws.values()}) == 3  # workers and epochs draw differently
    assert all(a != b for a, b in draws.values())  # within a worker the stream continues
    fresh = TopDownTrainTransform(seed=5)
    monkeypatch.setattr(torch.utils.data, "get_worker_info", lambda: SimpleNamespace(id=1, seed=101))
    assert fresh._generator().random() == draws[(1, 101)][0]  # reproducible from (seed, worker seed)


def test_integral_codec_targets(coco_rows):
    codec = IntegralRegressionLabel(input_size=(256, 256), heatmap_size=(64, 64), sigma=2.0)
    transform = TopDownTrainTransform(input_size=(256, 256), codec=codec, seed=0, **NO_AUGMENTATION)
    out = transform.transform_example(coco_rows[0])
    heatmaps = out["target_heatmaps"]
    assert heatmaps.shape == (17, 64, 64) and heatmaps.dtype == np.float32
    drawn = heatmaps.reshape(17, -1).sum(axis=1)
    assert np.all((np.abs(drawn - 1) < 1e-5) | (drawn == 0))
    expected = RegressionLabel((256, 256)).encode(out["keypoints"][None])["keypoint_labels"][0]
    np.testing.assert_allclose(out["labels"], expected, rtol=1e-6)


def test_mpii_rows_work(mpii_mini):
    dataset = load_mpii(mpii_mini, ann_file="annotations/mpii_sample.json")
    row = dataset[0]
    out = TopDownTrainTransform(input_size=(256, 256), dataset="mpii", seed=0, **NO_AUGMENTATION).transform_example(row)
    assert out["labels"].shape == (16, 2)
    # MMPose: existing bbox_scale x padding 1.25, square input -> square crop of 1.25 * 200 * s
    np.testing.assert_allclose(out["scale"], np.float32(row["bbox_scale"]) * np.float32(1.25), rtol=1e-6)
    np.testing.assert_allclose(out["center"], row["bbox_center"], rtol=1e-6)
    with pytest.raises(ValueError, match="has 16 keypoints but flip_indices has 17"):
        TopDownTrainTransform(seed=0).transform_example(row)


def test_with_transform_dataloader_and_collate(coco_rows):
    import torch

    dataset = coco_rows.select(range(4)).with_transform(TopDownTrainTransform(seed=0))
    loader = torch.utils.data.DataLoader(dataset, batch_size=2, collate_fn=default_collate)
    batch = next(iter(loader))
    assert batch["pixel_values"].shape == (2, 3, 256, 192) and batch["pixel_values"].dtype == torch.float32
    assert batch["labels"].shape == (2, 17, 2) and batch["label_weights"].shape == (2, 17)
    assert batch["image_id"].dtype == torch.int64 and batch["flipped"].dtype == torch.bool
    evaluation = coco_rows.select(range(2)).with_transform(TopDownEvalTransform())
    batch = default_collate([evaluation[0], evaluation[1]])
    assert set(batch) == {"pixel_values", "center", "scale", "image_id", "ann_id", "bbox"}
    np.testing.assert_allclose(batch["bbox"].numpy(), np.array(coco_rows["bbox"][:2]), rtol=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="input_size"):
        TopDownTrainTransform(input_size=(192,))
    with pytest.raises(ValueError, match="flip_prob"):
        TopDownTrainTransform(flip_prob=1.5)
    with pytest.raises(ValueError, match="scale_factor"):
        TopDownTrainTransform(scale_factor=(1.5, 0.5))
    with pytest.raises(ValueError, match="flip_indices must be a permutation"):
        TopDownTrainTransform(flip_indices=[0, 0, 1])
    with pytest.raises(ValueError, match="unknown keypoint set"):
        TopDownTrainTransform(dataset="horses")
    with pytest.raises(TypeError, match="dict of lists"):
        TopDownEvalTransform()([])
    with pytest.raises(ValueError, match="different lengths"):
        TopDownEvalTransform()({"image_path": ["a", "b"], "bbox": [[0, 0, 1, 1]]})
    with pytest.raises(ValueError, match="degenerate box"):
        TopDownEvalTransform().transform_example({"image_path": "x", "bbox": [0, 0, 0, 5], "ann_id": 3})


def test_collate_errors():
    with pytest.raises(ValueError, match="field 'labels'"):
        default_collate([{"labels": np.zeros((17, 2))}, {"labels": np.zeros((16, 2))}])
    with pytest.raises(ValueError, match="sample 1 has fields"):
        default_collate([{"a": 1}, {"b": 2}])
    with pytest.raises(TypeError):
        default_collate([])
    batch = default_collate({"x": [np.zeros(2), np.ones(2)], "name": ["a", "b"]})
    assert batch["x"].shape == (2, 2) and batch["name"] == ["a", "b"]


def test_fix_aspect_ratio_is_applied_once(coco_rows):
    row = coco_rows[1]
    out = TopDownEvalTransform().transform_example(row)
    expected = fix_aspect_ratio(np.float32(row["bbox_scale"]) * np.float32(1.25), 192 / 256)
    np.testing.assert_array_equal(out["scale"], expected)
