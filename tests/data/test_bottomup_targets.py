"""Bottom-up COCO view and the MMPose 0.29 UDP training targets vs `bottomup029/train_targets.npz`."""

import hashlib
import json

import cv2
import numpy as np
import pytest
from golden_utils import load_golden

from hfpose.data import default_collate
from hfpose.data.bottomup import (
    BottomUpAugmentation,
    BottomUpTrainTransform,
    bottomup_valid_mask,
    encode_joint_indices,
    fixed_point_warp_affine,
    generate_udp_heatmaps_029,
    load_coco_bottomup,
)


@pytest.fixture(scope="module")
def golden(golden_dir):
    return load_golden(golden_dir, "bottomup029/train_targets.npz")


@pytest.fixture(scope="module")
def bottomup_rows(coco_mini):
    return load_coco_bottomup(coco_mini, split="val2017")


def _row(rows, file_name):
    return rows[rows["file_name"].index(str(file_name))]


def _augmentation(golden, prefix):
    return BottomUpAugmentation(
        scale=float(golden[prefix + "aug_scale"]),
        rotation=float(golden[prefix + "aug_rot_deg"]),
        translate=tuple(int(v) for v in golden[prefix + "aug_translate_px"]),
        flip=bool(golden[prefix + "flipped"]),
    )


def _transform(golden, variant):
    params = json.loads(str(golden["params_json"]))
    data_cfg = params["data_cfg"]
    affine = next(step for step in params[f"pipeline_{variant}"] if step["type"] == "BottomUpRandomAffine")
    flip = next(step for step in params[f"pipeline_{variant}"] if step["type"] == "BottomUpRandomFlip")
    target = next(step for step in params[f"pipeline_{variant}"] if step["type"] == "BottomUpGenerateTarget")
    normalize = next(step for step in params[f"pipeline_{variant}"] if step["type"] == "NormalizeTensor")
    return BottomUpTrainTransform(
        input_size=data_cfg["image_size"],
        heatmap_sizes=data_cfg["heatmap_size"],
        sigma=target["sigma"],
        max_num_people=target["max_num_people"],
        rot_factor=affine["rot_factor"],
        scale_factor=tuple(affine["scale_factor"]),
        trans_factor=affine["trans_factor"],
        flip_prob=flip["flip_prob"],
        image_mean=normalize["mean"],
        image_std=normalize["std"],
    )


def test_dataset_view_matches_golden_joints_and_masks(golden, bottomup_rows, coco_mini):
    with open(coco_mini / "annotations" / "person_keypoints_val2017.json") as handle:
        data = json.load(handle)
    annotated = {ann["image_id"] for ann in data["annotations"]}
    assert bottomup_rows["image_id"] == [image["id"] for image in data["images"] if image["id"] in annotated]
    for i in range(2):
        row = _row(bottomup_rows, golden[f"img{i}_file_name"])
        np.testing.assert_array_equal(np.array(row["joints"], np.float32), golden[f"img{i}_joints_image"])
        mask = bottomup_valid_mask(row["height"], row["width"], row["ignore_segmentations"])
        assert mask.shape == tuple(golden[f"img{i}_source_hw"])
        np.testing.assert_array_equal(mask, golden[f"img{i}_mask_image"])


@pytest.mark.golden
@pytest.mark.parametrize("variant", ["noaug", "aug"])
@pytest.mark.parametrize("image", [0, 1])
def test_training_targets_match_mmpose_029(golden, bottomup_rows, variant, image):
    prefix = f"{variant}_img{image}_"
    transform = _transform(golden, variant)
    row = _row(bottomup_rows, golden[f"img{image}_file_name"])
    augmentation = _augmentation(golden, prefix)
    center, matrices = transform.warp_matrices(row["width"], row["height"], augmentation)
    np.testing.assert_allclose(center, golden[prefix + "center"], rtol=0, atol=1e-9)
    for side in (*transform.heatmap_sizes, transform.input_size):
        np.testing.assert_allclose(matrices[side], golden[prefix + f"warp_mat_image_to_{side}"], rtol=0, atol=1e-5)

    out = transform.transform_example(row, augmentation)
    assert out["pixel_values"].shape == tuple(golden[prefix + "input_shape"])
    assert hashlib.sha256(out["pixel_values"].tobytes()).hexdigest() == str(golden[prefix + "input_sha256"])
    for level, side in enumerate(transform.heatmap_sizes):
        np.testing.assert_allclose(
            out["target_heatmaps"][level], golden[prefix + f"target_heatmaps_{side}"], rtol=0, atol=1e-6
        )
        np.testing.assert_array_equal(out["target_masks"][level], golden[prefix + f"target_mask_{side}"])
        np.testing.assert_array_equal(out["joints"][level], golden[prefix + f"target_joints_{side}"])
        assert out["joints"][level].dtype == np.int64


@pytest.mark.golden
def test_fixed_point_warp_reproduces_opencv4(golden, bottomup_rows):
    from hfpose.data import load_image

    for variant in ("noaug", "aug"):
        for i in range(2):
            prefix = f"{variant}_img{i}_"
            row = _row(bottomup_rows, golden[f"img{i}_file_name"])
            warped = fixed_point_warp_affine(
                load_image(row["image_path"]), golden[prefix + "warp_mat_image_to_512"], (512, 512)
            )
            np.testing.assert_array_equal(warped, golden[prefix + "affine_rgb"])
            mask = (golden[f"img{i}_mask_image"] * 255).astype(np.uint8)
            for side in (128, 256):
                warped_mask = fixed_point_warp_affine(mask, golden[prefix + f"warp_mat_image_to_{side}"], (side, side))
                np.testing.assert_array_equal(
                    (warped_mask / 255 > 0.5).astype(np.float32), golden[prefix + f"affine_mask_{side}"]
                )


def test_fixed_point_warp_is_close_to_any_opencv():
    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8), (5, 5), 0)
    matrix = np.array([[0.9, -0.2, 12.3], [0.25, 1.1, -4.7]], np.float32)
    ours = fixed_point_warp_affine(image, matrix, (70, 50)).astype(int)
    reference = cv2.warpAffine(image, matrix, (70, 50), flags=cv2.INTER_LINEAR).astype(int)
    assert np.abs(ours - reference).max() <= 4  # 1/32-px position quantization vs any exact bilinear kernel
    assert np.abs(ours - reference).mean() < 0.5


@pytest.mark.golden
def test_sampling_follows_the_reference_draws(golden, bottomup_rows):
    """Replay numpy's recorded draws through `sample_augmentation`: same scale, rotation, randint bounds, flip."""

    class Replay:
        def __init__(self, draws):
            self.draws = list(draws)

        def random(self):
            kind, _, value = self.draws.pop(0)
            assert kind == "random"
            return value

        def integers(self, low, high):
            kind, bounds, value = self.draws.pop(0)
            assert kind == "randint" and (low, high) == (int(bounds[0]), int(bounds[1]))
            return value

    for variant in ("noaug", "aug"):
        transform = _transform(golden, variant)
        for i in range(2):
            prefix = f"{variant}_img{i}_"
            height, width = (int(v) for v in golden[f"img{i}_source_hw"])
            replay = Replay(json.loads(str(golden[prefix + "rng_draws_json"])))
            augmentation = transform.sample_augmentation(width, height, rng=replay)
            assert not replay.draws
            assert augmentation == _augmentation(golden, prefix)


def test_heatmap_and_index_rules_by_hand():
    joints = np.zeros((2, 3, 3), np.float32)
    joints[0, 0] = (-0.5, 3.25, 1)  # -1 < x < 0: truncates to 0 and is kept
    joints[0, 1] = (5.0, 5.0, 0)  # invisible
    joints[0, 2] = (9.75, 0.0, 2)
    joints[1, 1] = (10.0, 2.0, 1)  # x = r: outside
    heatmaps = generate_udp_heatmaps_029(joints, output_size=10, sigma=2.0)
    grid_y, grid_x = np.mgrid[0:10, 0:10].astype(np.float32)
    # window anchored at int(-0.5) = 0: columns 0..7 (x 0 +/- 7, clipped), rows 0..9
    expected0 = np.where(grid_x <= 7, np.exp(-((grid_x + 0.5) ** 2 + (grid_y - 3.25) ** 2) / 8), 0)
    np.testing.assert_allclose(heatmaps[0], expected0, atol=1e-6)
    assert heatmaps[1].max() == 0
    # window anchored at int(9.75) = 9 reaches x = 9 only (clipped), rows 0..7 (15x15 around y = 0)
    expected2 = np.where(grid_y <= 7, np.exp(-((grid_x - 9.75) ** 2 + grid_y**2) / 8), 0)
    np.testing.assert_allclose(heatmaps[2], np.where(grid_x >= 2, expected2, 0), atol=1e-6)
    indices = encode_joint_indices(joints, output_size=10, max_num_people=4)
    assert indices.shape == (4, 3, 2)
    np.testing.assert_array_equal(indices[0, 0], [0 * 100 + 3 * 10 + 0, 1])
    np.testing.assert_array_equal(indices[0, 1], [2 * 100 + 0 * 10 + 9, 1])  # packed into slot 1
    np.testing.assert_array_equal(indices[0, 2], [0, 0])
    assert indices[1:].sum() == 0
    with pytest.raises(ValueError, match="exceed max_num_people=1"):
        encode_joint_indices(joints, output_size=10, max_num_people=1)


def test_random_augmentation_shapes_and_collate(bottomup_rows):
    transform = BottomUpTrainTransform(heatmap_sizes=(128,), seed=0)
    dataset = bottomup_rows.select(range(2)).with_transform(transform)
    batch = default_collate([dataset[0], dataset[1]])
    assert batch["pixel_values"].shape == (2, 3, 512, 512)
    assert isinstance(batch["target_heatmaps"], tuple) and batch["target_heatmaps"][0].shape == (2, 17, 128, 128)
    assert batch["target_masks"][0].shape == (2, 128, 128)
    assert batch["joints"][0].shape == (2, 30, 17, 2) and str(batch["joints"][0].dtype) == "torch.int64"
    heatmaps = batch["target_heatmaps"][0].numpy()
    assert heatmaps.min() >= 0 and heatmaps.max() <= 1
    augmentation = transform.sample_augmentation(500, 375, rng=np.random.default_rng(3))
    assert 0.75 <= augmentation.scale <= 1.5 and abs(augmentation.rotation) <= 30
    assert abs(augmentation.translate[0]) <= 40 * 500 * 1.5 / 200


def test_flip_mirrors_targets(bottomup_rows):
    row = next(r for r in bottomup_rows if np.array(r["joints"]).size and np.array(r["joints"])[..., 2].sum() > 0)
    transform = BottomUpTrainTransform(heatmap_sizes=(128,))
    plain = transform.transform_example(row, BottomUpAugmentation())
    flipped = transform.transform_example(row, BottomUpAugmentation(flip=True))
    np.testing.assert_array_equal(flipped["pixel_values"], plain["pixel_values"][:, :, ::-1])
    np.testing.assert_array_equal(flipped["target_masks"][0], plain["target_masks"][0][:, ::-1])
    from hfpose.keypoints import COCO_KEYPOINTS

    mirrored = plain["target_heatmaps"][0][COCO_KEYPOINTS.flip_indices][:, :, ::-1]
    # x -> r - 1 - x mirrors every Gaussian; windows anchored at int(x) differ only where a window edge is clipped
    assert np.abs(flipped["target_heatmaps"][0] - mirrored).max() < 1.2e-2
    assert np.argmax(flipped["target_heatmaps"][0].sum(0)) == np.argmax(mirrored.sum(0))


def test_bad_inputs(tmp_path, bottomup_rows):
    with pytest.raises(ValueError, match="warp must be"):
        BottomUpTrainTransform(warp="pil")
    with pytest.raises(ValueError, match="scale_factor"):
        BottomUpTrainTransform(scale_factor=(1.5, 0.75))
    row = dict(bottomup_rows[0])
    row["joints"] = np.zeros((31, 17, 3), np.float32).tolist()
    with pytest.raises(ValueError, match=r"image id \d+ has 31 people; max_num_people is 30"):
        BottomUpTrainTransform().transform_example(row)
    with pytest.raises(ValueError, match="segmentation 0 cannot be decoded"):
        bottomup_valid_mask(10, 10, ['{"counts": "not rle", "size": [3]}'])
