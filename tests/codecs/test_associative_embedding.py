"""Associative-embedding parser (MMPose 0.29 `HeatmapParser`, UDP, GPU semantics) vs hand-computed cases and the
`bottomup029` golden fixtures (README sections B, C, D)."""

import numpy as np
import pytest
import torch
from scipy.optimize import linear_sum_assignment

from hfpose.codecs.associative_embedding import (
    AssociativeEmbeddingDecoder,
    adjust_dark_udp,
    group_keypoints,
    heatmap_to_image,
    heatmap_to_image_matrix,
    min_cost_assignment,
    nms,
    person_scores,
    refine_keypoints,
    top_k,
)
from hfpose.keypoints import COCO_KEYPOINTS

ORDER = COCO_KEYPOINTS.grouping_order
MODELS = ("hrnet_w32", "higherhrnet_w32")
CASES = ("img0", "img1", "syn0", "syn1")


# ----------------------------------------------------------------------------------------------- golden helpers


@pytest.fixture(scope="module")
def golden(golden_dir):
    data = {name: np.load(golden_dir / "bottomup029" / f"{name}.npz") for name in MODELS}
    data["resize"] = np.load(golden_dir / "bottomup029" / "resize.npz")
    return data


def _upsample_tags(tags_lowres: np.ndarray, size) -> np.ndarray:
    """(1, K, h, w, L) → (K, H, W, L): each tag plane bilinear, align_corners=True (README section A, step 3)."""
    planes = torch.from_numpy(tags_lowres[0]).permute(3, 0, 1, 2)
    up = torch.nn.functional.interpolate(planes, size=tuple(size), mode="bilinear", align_corners=True)
    return up.permute(1, 2, 3, 0).contiguous().numpy()


def _parser_inputs(golden, model: str, case: str):
    """(heatmaps (K, H, W), tags (K, H, W, L), array prefix) of one stored parser run."""
    z = golden[model]
    if case.startswith("syn"):
        return z[f"{case}_heatmaps"][0], z[f"{case}_tags"][0], f"{case}_gpu_"
    heatmaps = z[f"{case}_agg_heatmaps"][0]
    # HRNet's tags are bit-identical to HigherHRNet's stage-0 tags (README `hrnet_w32.npz`), stored only there.
    lowres = golden["higherhrnet_w32"][f"{case}_agg_tags_lowres"]
    tags = _upsample_tags(lowres, heatmaps.shape[1:]) if model == "higherhrnet_w32" else lowres[0]
    return heatmaps, tags, f"{case}_test_gpu_"


def _case_scale(golden, model, case):
    z = golden[model]
    return z[f"{case}_scale"]


ALL = [(model, case) for model in MODELS for case in CASES]


# ---------------------------------------------------------------------------------------------------------- NMS


def test_nms_keeps_window_maxima_only():
    heatmap = np.zeros((1, 7, 7), dtype=np.float32)
    heatmap[0, 3, 3] = 0.9
    heatmap[0, 3, 5] = 0.5  # within 2 px of the 0.9 peak: suppressed
    heatmap[0, 0, 0] = 0.3  # 3 px away diagonally: survives (window of 5 reaches 2 px)
    heatmap[0, 6, 6] = -0.2  # only value around is 0: suppressed (0 > -0.2)
    out = nms(heatmap, kernel=5)
    expected = np.zeros_like(heatmap)
    expected[0, 3, 3], expected[0, 0, 0] = 0.9, 0.3
    np.testing.assert_array_equal(out, expected)


def test_nms_plateaus_and_negative_maxima_survive():
    heatmap = np.full((1, 3, 4), -1.0, dtype=np.float32)
    heatmap[0, 1, 1] = heatmap[0, 1, 2] = 0.4  # plateau: both equal the window maximum
    np.testing.assert_array_equal(nms(heatmap)[0, 1, 1:3], np.float32([0.4, 0.4]))
    negative = np.full((1, 2, 2), -0.5, dtype=np.float32)
    negative[0, 0, 0] = -0.1
    np.testing.assert_array_equal(nms(negative), np.array([[[-0.1, 0], [0, 0]]], dtype=np.float32))


def test_nms_matches_max_pool():
    rng = np.random.default_rng(0)
    heatmaps = rng.random((3, 20, 17)).astype(np.float32).round(1)  # many ties
    pooled = torch.nn.functional.max_pool2d(torch.from_numpy(heatmaps)[None], 5, 1, 2)[0].numpy()
    np.testing.assert_array_equal(nms(heatmaps), np.where(pooled == heatmaps, heatmaps, 0))


@pytest.mark.parametrize("kernel", [0, 4, 2.0])
def test_nms_rejects_bad_kernel(kernel):
    with pytest.raises(ValueError, match="kernel"):
        nms(np.zeros((1, 4, 4), np.float32), kernel=kernel)


# ------------------------------------------------------------------------------------------------------ top-k


def test_top_k_hand_computed():
    heatmaps = np.zeros((2, 6, 8), dtype=np.float32)
    heatmaps[0, 1, 2], heatmaps[0, 4, 6] = 0.7, 0.9
    heatmaps[1, 5, 0] = 0.2
    tags = np.zeros((2, 6, 8, 2), dtype=np.float32)
    tags[0, 1, 2] = (1.5, 1.6)
    tags[0, 4, 6] = (-2.0, -2.1)
    values, locations, candidate_tags = top_k(heatmaps, tags, k=2)
    np.testing.assert_array_equal(values[0], np.float32([0.9, 0.7]))
    np.testing.assert_array_equal(locations[0], [[6, 4], [2, 1]])  # (x, y)
    np.testing.assert_array_equal(candidate_tags[0], np.float32([[-2.0, -2.1], [1.5, 1.6]]))
    assert values[1, 0] == np.float32(0.2) and locations[1, 0].tolist() == [0, 5]


def test_top_k_rejects_mismatched_tags():
    with pytest.raises(ValueError, match="tags"):
        top_k(np.zeros((17, 8, 8), np.float32), np.zeros((17, 8, 9, 2), np.float32))
    with pytest.raises(ValueError, match="k must be"):
        top_k(np.zeros((1, 2, 2), np.float32), np.zeros((1, 2, 2, 1), np.float32), k=5)


@pytest.mark.golden
@pytest.mark.parametrize("model,case", ALL)
def test_top_k_matches_golden(golden, model, case):
    heatmaps, tags, prefix = _parser_inputs(golden, model, case)
    z = golden[model]
    values, locations, candidate_tags = top_k(heatmaps, tags, k=30, nms_kernel=5)
    np.testing.assert_array_equal(values, z[prefix + "topk_vals"])
    # Exact where a value is unique in its row; among equal values (the zeros NMS leaves on synthetic maps) the
    # order is torch.topk's, so check only that each tied location really carries that value after NMS.
    unique = np.array([[np.sum(row == v) == 1 for v in row] for row in values])
    np.testing.assert_array_equal(locations[unique], z[prefix + "topk_locs"][unique])
    np.testing.assert_array_equal(candidate_tags[unique], z[prefix + "topk_tags"][unique])
    suppressed = nms(heatmaps)
    k_index = np.arange(values.shape[0])[:, None]
    np.testing.assert_array_equal(suppressed[k_index, locations[..., 1], locations[..., 0]], values)


# ------------------------------------------------------------------------------------------------- assignment


def test_min_cost_assignment_is_optimal_on_random_costs():
    rng = np.random.default_rng(0)
    for _ in range(200):
        rows, cols = rng.integers(1, 9, size=2)
        cost = np.round(rng.random((rows, cols)) * 2) * 100 - rng.random((rows, 1))
        r, c = min_cost_assignment(cost)
        reference_rows, reference_cols = linear_sum_assignment(cost)
        assert len(r) == min(rows, cols) and len(set(c.tolist())) == len(c)
        assert np.all(np.diff(r) > 0)
        assert cost[r, c].sum() == pytest.approx(cost[reference_rows, reference_cols].sum(), abs=1e-9)


@pytest.mark.parametrize(
    "cost,expected",
    [
        # Ties broken as munkres 3.0.0 breaks them (its pure-Python solver below 16 cells, its C kernel from 16);
        # scipy returns [(0, 0), (1, 3), (2, 2)] and [(0, 3), (1, 2), (2, 0), (3, 1)] (same costs).
        (
            [[-0.04, -0.04, 99.96, -0.04], [0.0, 100.0, 0.0, 0.0], [99.96, 99.96, -0.04, 99.96]],
            [(0, 1), (1, 0), (2, 2)],
        ),
        (
            [
                [-0.06, 99.94, 99.94, -0.06],
                [99.93, 99.93, -0.07, 99.93],
                [-0.03, 99.97, 99.97, 99.97],
                [100, 100, 100, 0],
            ],
            [(0, 0), (1, 2), (2, 1), (3, 3)],
        ),
        (np.zeros((2, 2)), [(0, 0), (1, 1)]),
        (np.zeros((5, 4)), [(0, 0), (1, 1), (2, 2), (3, 3)]),
    ],
)
def test_min_cost_assignment_breaks_ties_like_munkres(cost, expected):
    rows, cols = min_cost_assignment(np.asarray(cost, dtype=np.float64))
    assert list(zip(rows.tolist(), cols.tolist())) == expected


def test_min_cost_assignment_agrees_with_munkres_package():
    import munkres  # the reference solver of MMPose 0.29 (dev extra)

    rng = np.random.default_rng(1)
    for trial in range(300):
        rows, cols = int(rng.integers(1, 10)), int(rng.integers(1, 30))
        cost = np.round(rng.random((rows, cols)) * 3) * 100 - rng.random((rows, 1)) * 0.3
        if rows > cols:
            cost = np.concatenate([cost, np.full((rows, rows - cols), 1e10)], axis=1)
        expected = [tuple(pair) for pair in munkres.Munkres().compute(cost)]
        r, c = min_cost_assignment(cost)
        assert list(zip(r.tolist(), c.tolist())) == expected, trial


def test_min_cost_assignment_rejects_bad_costs():
    with pytest.raises(ValueError, match="2-D"):
        min_cost_assignment(np.zeros(3))
    with pytest.raises(ValueError, match="finite"):
        min_cost_assignment(np.array([[0.0, np.inf]]))
    rows, cols = min_cost_assignment(np.zeros((0, 3)))
    assert rows.size == cols.size == 0


# --------------------------------------------------------------------------------------------------- grouping


def _candidates(entries, num_keypoints=3, k=3, tag_dim=1):
    """entries: {keypoint: [(value, x, y, tag), ...]} → top-k arrays (missing slots get value 0)."""
    values = np.zeros((num_keypoints, k), np.float32)
    locations = np.zeros((num_keypoints, k, 2), np.int64)
    tags = np.zeros((num_keypoints, k, tag_dim), np.float32)
    for keypoint, rows in entries.items():
        for slot, (value, x, y, tag) in enumerate(rows):
            values[keypoint, slot] = value
            locations[keypoint, slot] = (x, y)
            tags[keypoint, slot] = tag
    return values, locations, tags


def test_grouping_hand_computed():
    values, locations, tags = _candidates(
        {
            0: [(0.9, 10, 10, 0.0), (0.8, 50, 10, 5.0)],
            1: [(0.7, 52, 20, 5.3), (0.6, 12, 20, 0.2), (0.05, 30, 30, 2.5)],  # 0.05 below the threshold
            2: [(0.5, 90, 90, 9.0)],  # far from both tags: a new person
        }
    )
    grouped = group_keypoints(values, locations, tags, grouping_order=[0, 1, 2])
    assert grouped.shape == (3, 3, 4)
    np.testing.assert_array_equal(grouped[0, :2], np.array([[10, 10, 0.9, 0.0], [12, 20, 0.6, 0.2]], np.float32))
    np.testing.assert_array_equal(grouped[1, :2], np.array([[50, 10, 0.8, 5.0], [52, 20, 0.7, 5.3]], np.float32))
    np.testing.assert_array_equal(grouped[2], np.array([[0, 0, 0, 0], [0, 0, 0, 0], [90, 90, 0.5, 9.0]], np.float32))


def test_grouping_tag_threshold_uses_unrounded_distance():
    # distance 0.6 rounds to 1 but is < 1: joins; distance 1.2 rounds to 1 as well but is >= 1: new person.
    values, locations, tags = _candidates({0: [(0.9, 1, 1, 0.0)], 1: [(0.9, 2, 2, 0.6)], 2: [(0.9, 3, 3, 1.8)]})
    grouped = group_keypoints(values, locations, tags, grouping_order=[0, 1, 2])
    assert grouped.shape[0] == 2  # person tag after keypoint 1 is mean(0, 0.6) = 0.3; 1.8 - 0.3 = 1.5 >= 1
    assert grouped[0, 1, 2] == np.float32(0.9) and grouped[1, 2, 2] == np.float32(0.9)


def test_grouping_collision_on_identical_starting_tag_merges_and_resets():
    # Two people; a keypoint-1 candidate far from both whose tag0 equals person B's key starts a "new" person under
    # that key: it is written into B (overwriting nothing here) and B's tag list is reset to this candidate's tag.
    values, locations, tags = _candidates(
        {0: [(0.9, 1, 1, (0.0, 0.0)), (0.9, 9, 9, (3.0, 0.0))], 1: [(0.8, 5, 5, (3.0, 7.0))]}, tag_dim=2
    )
    grouped = group_keypoints(values, locations, tags, grouping_order=[0, 1, 2])
    assert grouped.shape == (2, 3, 5)
    np.testing.assert_array_equal(grouped[1, 1], np.array([5, 5, 0.8, 3.0, 7.0], np.float32))


def test_grouping_has_no_cap_on_people_and_empty_input():
    values, locations, tags = _candidates({0: [(0.9, i, 0, 10.0 * i) for i in range(3)]}, k=3)
    values2, locations2, tags2 = _candidates({1: [(0.9, i, 5, 10.0 * i + 5) for i in range(3)]}, k=3)
    grouped = group_keypoints(values + values2, locations + locations2, tags + tags2, [0, 1, 2], max_num_people=2)
    assert grouped.shape[0] == 6  # ignore_too_much=False: more people than max_num_people
    nothing = np.zeros((3, 2), np.float32)
    empty = group_keypoints(nothing, np.zeros((3, 2, 2), np.int64), np.zeros((3, 2, 2), np.float32), [0, 1, 2])
    assert empty.shape == (0, 3, 5)


def test_grouping_rejects_bad_order():
    values, locations, tags = _candidates({})
    with pytest.raises(ValueError, match="grouping_order"):
        group_keypoints(values, locations, tags, grouping_order=[0, 1, 1])


@pytest.mark.golden
@pytest.mark.parametrize("model,case", ALL)
def test_grouping_matches_golden(golden, model, case):
    z = golden[model]
    _, _, prefix = _parser_inputs(golden, model, case)
    grouped = group_keypoints(z[prefix + "topk_vals"], z[prefix + "topk_locs"], z[prefix + "topk_tags"], ORDER)
    np.testing.assert_array_equal(grouped, z[prefix + "grouped"])  # same people, same order, bit for bit


# ------------------------------------------------------------------------------------------- adjust / refine


def test_adjust_dark_udp_recovers_gaussian_centre():
    height, width = 32, 40
    ys, xs = np.mgrid[0:height, 0:width]
    centre = (17.3, 12.6)
    heatmaps = np.exp(-((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (2 * 2.0**2)).astype(np.float32)[None]
    out = adjust_dark_udp(np.array([[[17, 13]]], np.float32), heatmaps)
    np.testing.assert_allclose(out[0, 0], centre, atol=0.02)
    assert out.dtype == np.float32


def test_adjust_dark_udp_does_not_modify_inputs_and_validates():
    heatmaps = np.random.default_rng(0).random((2, 8, 8)).astype(np.float32)
    copy = heatmaps.copy()
    adjust_dark_udp(np.zeros((3, 2, 2), np.float32), heatmaps)
    np.testing.assert_array_equal(heatmaps, copy)
    with pytest.raises(ValueError, match="keypoints must have shape"):
        adjust_dark_udp(np.zeros((3, 5, 2), np.float32), heatmaps)
    with pytest.raises(ValueError, match="inside"):
        adjust_dark_udp(np.full((1, 2, 2), 9, np.float32), heatmaps)


def test_refine_fills_missing_keypoint_from_tag_matched_peak():
    heatmaps = np.zeros((2, 10, 12), np.float32)
    heatmaps[0, 2, 3] = 0.8
    heatmaps[1, 7, 9], heatmaps[1, 7, 10] = 0.3, 0.1  # right neighbour higher than left (0): x + 0.25
    heatmaps[1, 1, 1] = 0.9  # higher, but its tag is 3 away from the person: 0.9 - 3 < 0.3
    tags = np.zeros((2, 10, 12, 1), np.float32)
    tags[1, 1, 1] = 3.0
    grouped = np.zeros((1, 2, 4), np.float32)
    grouped[0, 0] = (3, 2, 0.8, 0.0)
    refined = refine_keypoints(grouped, heatmaps, tags)
    np.testing.assert_array_equal(refined[0, 0], grouped[0, 0])  # detected keypoints are kept
    np.testing.assert_allclose(refined[0, 1, :3], (9.25, 6.75, 0.3))  # y: above (0) vs below (0): equal → -0.25
    assert refined[0, 1, 3] == 0  # tag columns untouched
    np.testing.assert_array_equal(grouped[0, 1], 0)  # input not modified


def test_refine_does_not_fill_non_positive_values():
    heatmaps = np.full((2, 6, 6), -0.1, np.float32)
    heatmaps[0, 3, 3] = 0.5
    grouped = np.zeros((1, 2, 4), np.float32)
    grouped[0, 0] = (3, 3, 0.5, 0)
    refined = refine_keypoints(grouped, heatmaps, np.zeros((2, 6, 6, 1), np.float32))
    np.testing.assert_array_equal(refined[0, 1], 0)


@pytest.mark.golden
@pytest.mark.parametrize("model,case", ALL)
def test_adjust_scores_refine_match_golden(golden, model, case):
    z = golden[model]
    heatmaps, tags, prefix = _parser_inputs(golden, model, case)
    grouped = z[prefix + "grouped"]
    adjusted_xy = adjust_dark_udp(grouped[..., :2], heatmaps)
    assert np.abs(adjusted_xy - z[prefix + "dark_xy_out"]).max() <= 1e-4
    adjusted = z[prefix + "adjusted"]
    np.testing.assert_array_equal(person_scores(adjusted), z[prefix + "person_scores"])
    refined = refine_keypoints(adjusted, heatmaps, tags)
    assert np.abs(refined - z[prefix + "refined"]).max() <= 1e-4


@pytest.mark.golden
@pytest.mark.parametrize("model,case", ALL)
def test_decoder_end_to_end_matches_golden_gpu_semantics(golden, model, case):
    z = golden[model]
    heatmaps, tags, prefix = _parser_inputs(golden, model, case)
    heatmaps_before = heatmaps.copy()
    result = AssociativeEmbeddingDecoder(grouping_order=ORDER).decode(heatmaps, tags)
    np.testing.assert_array_equal(heatmaps, heatmaps_before)  # GPU semantics: the caller's maps are not overwritten
    np.testing.assert_array_equal(result["grouped"], z[prefix + "grouped"])
    np.testing.assert_array_equal(result["person_scores"], z[prefix + "person_scores"])
    assert np.abs(result["adjusted"] - z[prefix + "adjusted"]).max() <= 1e-4
    assert np.abs(result["keypoints"] - z[prefix + "refined"]).max() <= 1e-4
    preds = heatmap_to_image(result["keypoints"], _case_scale(golden, model, case), heatmaps.shape[:0:-1])
    assert np.abs(preds - z[prefix + "preds"]).max() <= 1e-3
    # The CPU arrays (0.29 run on a CPU tensor) fill no keypoints; wherever they differ, we must match the GPU ones.
    cpu_refined = z[prefix.replace("gpu", "cpu") + "refined"]
    filled = (z[prefix + "adjusted"][..., 2] == 0) & (z[prefix + "refined"][..., 2] > 0)
    assert np.count_nonzero((result["keypoints"][..., 2] > 0) & (z[prefix + "adjusted"][..., 2] == 0)) == filled.sum()
    if filled.any():
        assert not np.allclose(result["keypoints"], cpu_refined, atol=1e-4)


def test_decoder_on_empty_heatmaps_finds_nobody():
    decoder = AssociativeEmbeddingDecoder(grouping_order=ORDER)
    result = decoder.decode(np.zeros((17, 16, 20), np.float32), np.zeros((17, 16, 20, 2), np.float32))
    assert result["keypoints"].shape == (0, 17, 5) and result["person_scores"].shape == (0,)
    assert heatmap_to_image(result["keypoints"], (100.0, 80.0), (20, 16)).shape == (0, 17, 5)


def test_decoder_finds_two_synthetic_people():
    height, width = 40, 48
    ys, xs = np.mgrid[0:height, 0:width]
    heatmaps = np.zeros((17, height, width), np.float32)
    tags = np.zeros((17, height, width, 1), np.float32)
    people = {0.0: (10, 10), 2.0: (35, 25)}
    for tag, (x0, y0) in people.items():
        for k in range(17):
            x, y = x0 + k % 4, y0 + k // 4
            heatmaps[k] = np.maximum(heatmaps[k], 0.8 * np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / 8))
            near = (np.abs(xs - x) <= 3) & (np.abs(ys - y) <= 3)
            tags[k][near] = tag
    result = AssociativeEmbeddingDecoder(grouping_order=ORDER).decode(heatmaps, tags)
    keypoints = result["keypoints"]
    assert keypoints.shape == (2, 17, 4)
    for person, (x0, y0) in zip(keypoints, people.values()):
        expected = np.array([(x0 + k % 4, y0 + k // 4) for k in range(17)], np.float32)
        np.testing.assert_allclose(person[:, :2], expected, atol=0.05)
    np.testing.assert_allclose(result["person_scores"], 0.8, atol=1e-6)


def test_decoder_rejects_bad_settings_and_inputs():
    with pytest.raises(ValueError, match="use_udp"):
        AssociativeEmbeddingDecoder(use_udp=False)
    with pytest.raises(ValueError, match="grouping_order"):
        AssociativeEmbeddingDecoder(grouping_order=[0, 1])
    decoder = AssociativeEmbeddingDecoder()
    with pytest.raises(ValueError, match="17 channels"):
        decoder.decode(np.zeros((16, 8, 8), np.float32), np.zeros((16, 8, 8, 2), np.float32))
    with pytest.raises(ValueError, match="dimensions"):
        decoder.decode(np.zeros((17, 8, 8), np.float32), np.zeros((17, 8, 8), np.float32))
    with pytest.raises(TypeError, match="floating"):
        decoder.decode(np.zeros((17, 8, 8), np.int64), np.zeros((17, 8, 8, 2), np.float32))


# ------------------------------------------------------------------------------------------ back to the image


@pytest.mark.golden
@pytest.mark.parametrize("image", [0, 1, 2])
def test_heatmap_to_image_matches_get_group_preds(golden, image):
    z = golden["resize"]
    scale = z[f"img{image}_scale"]
    start = f"img{image}_hm"
    sizes = [
        key[len(start) :].split("_")[0] for key in z.files if key.startswith(start) and key.endswith("_heatmap_size")
    ]
    assert len(sizes) == 2  # stride 4 and stride 2
    for size in sizes:
        prefix = f"img{image}_hm{size}_"
        heatmap_size = tuple(int(v) for v in z[prefix + "heatmap_size"])
        matrix = heatmap_to_image_matrix(scale, heatmap_size)
        np.testing.assert_allclose(matrix, z[prefix + "warp_mat_heatmap_to_image"], atol=1e-6, rtol=0)
        mapped = heatmap_to_image(z[prefix + "grid_points_heatmap"], scale, heatmap_size)
        np.testing.assert_allclose(mapped, z[prefix + "grid_points_image"], atol=1e-4, rtol=0)
        roundtrip = heatmap_to_image(z[prefix + "gt_keypoints_heatmap"], scale, heatmap_size)
        np.testing.assert_allclose(roundtrip, z[prefix + "gt_keypoints_roundtrip_image"], atol=1e-4, rtol=0)


def test_heatmap_to_image_copies_extra_columns_and_validates():
    points = np.array([[[1.0, 2.0, 0.7, 0.1, -0.2]]], np.float32)
    mapped = heatmap_to_image(points, (10.0, 20.0), (11, 11))
    np.testing.assert_allclose(mapped[0, 0], [1.0, 4.0, 0.7, 0.1, -0.2])
    with pytest.raises(ValueError, match="heatmap_size"):
        heatmap_to_image(points, (10.0, 20.0), (1, 11))


def test_dark_inverse_of_a_singular_hessian_is_zero_and_the_others_exact():
    """The reference's `np.linalg.inv` of the whole stack raises on one singular Hessian (met on the real bottom-up
    workload); hfpose gives that keypoint no DARK step and every other keypoint the reference's inverse."""
    from hfpose.codecs.associative_embedding import _inverse_or_zero

    regular = np.array([[-2.0, 0.5], [0.5, -3.0]])
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    stack = np.stack([regular, singular, regular * 2]).reshape(1, 3, 2, 2)
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.inv(stack)
    inverse = _inverse_or_zero(stack)
    assert inverse.shape == (1, 3, 2, 2)
    np.testing.assert_array_equal(inverse[0, 0], np.linalg.inv(regular))
    np.testing.assert_array_equal(inverse[0, 1], np.zeros((2, 2)))
    np.testing.assert_array_equal(inverse[0, 2], np.linalg.inv(regular * 2))
    np.testing.assert_array_equal(_inverse_or_zero(stack[:, ::2]), np.linalg.inv(stack[:, ::2]))
