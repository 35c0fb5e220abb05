"""COCO keypoint evaluation: equivalence with MMPose CocoMetric / pycocotools (golden), rescoring, bad input."""

import json
import pickle
import warnings

import numpy as np
import pytest
from golden_utils import load_golden

from hfpose.evaluation.coco import (
    COCO_STAT_NAMES,
    CocoKeypointEvaluator,
    format_markdown_table,
    gt_boxes,
    load_detection_boxes,
    rescore_instances,
)

STATS_ATOL = 1e-6
SCORE_RTOL = 1e-6


@pytest.fixture(scope="module")
def golden(golden_dir):
    return load_golden(golden_dir, "metrics/coco_keypoints.npz")


@pytest.fixture(scope="module")
def ann_file(coco_mini):
    return coco_mini / "annotations" / "person_keypoints_val2017.json"


def _records(z, with_id=True, with_bbox=True):
    """One record per golden prediction; bbox = MMPose's bbox_xyxy2xywh of the stored xyxy box (float32)."""
    xyxy = z["pred_bbox_xyxy"]
    xywh = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
    records = []
    for index in range(len(z["pred_id"])):
        record = {
            "image_id": int(z["pred_image_id"][index]),
            "keypoints": z["pred_keypoints"][index],
            "keypoint_scores": z["pred_keypoint_scores"][index],
            "bbox_score": z["pred_bbox_score"][index],
            "area": z["pred_area"][index],
        }
        if with_id:
            record["id"] = int(z["pred_id"][index])
        if with_bbox:
            record["bbox"] = xywh[index]
        records.append(record)
    return records


def _stats_array(stats):
    assert tuple(stats) == COCO_STAT_NAMES
    return np.array([stats[name] for name in COCO_STAT_NAMES])


@pytest.mark.golden
def test_stat_names_match_mmpose(golden):
    assert tuple(str(name) for name in golden["stat_names"]) == COCO_STAT_NAMES


@pytest.mark.golden
@pytest.mark.parametrize(
    "key, kwargs, with_id, with_bbox",
    [
        ("stats_mmpose_topdown", {}, True, True),
        ("stats_mmpose_topdown_rle", {"score_mode": "bbox_rle"}, True, True),
        ("stats_mmpose_topdown_nonms", {"nms_mode": "none"}, True, True),
        ("stats_mmpose_bottomup_ae", {"score_mode": "bbox", "nms_mode": "none"}, False, False),
        ("stats_pycocotools_plain", {"score_mode": "bbox", "nms_mode": "none"}, True, False),
    ],
)
def test_stats_match_golden(golden, ann_file, key, kwargs, with_id, with_bbox):
    evaluator = CocoKeypointEvaluator(ann_file, **kwargs)
    evaluator.add(_records(golden, with_id=with_id, with_bbox=with_bbox))
    stats = _stats_array(evaluator.compute())
    np.testing.assert_allclose(stats, golden[key], rtol=0, atol=STATS_ATOL)
    assert "Average Precision" in evaluator.summary  # pycocotools' print went to the summary, not stdout


@pytest.mark.golden
def test_kept_mask_and_rescored_scores_match_golden(golden, ann_file):
    evaluator = CocoKeypointEvaluator(ann_file)
    evaluator.add(_records(golden))
    kept = np.zeros(len(golden["pred_id"]), dtype=bool)
    scores = np.full(len(kept), np.nan)
    for instance in evaluator.select():
        kept[instance["position"]] = True
        scores[instance["position"]] = instance["score"]
    np.testing.assert_array_equal(kept, golden["mmpose_topdown_kept"])
    expected = golden["mmpose_topdown_final_score"]
    np.testing.assert_array_equal(np.isnan(scores), np.isnan(expected))
    np.testing.assert_allclose(scores[kept], expected[kept], rtol=SCORE_RTOL, atol=0)
    # the 6 near-duplicates (kind 1) are exactly the suppressed ones
    np.testing.assert_array_equal(~kept, golden["pred_kind"] == 1)


@pytest.mark.golden
def test_results_json_is_mmpose_layout(golden, ann_file, tmp_path):
    evaluator = CocoKeypointEvaluator(ann_file)
    evaluator.add(_records(golden))
    path = tmp_path / "out" / "results.keypoints.json"
    stats = evaluator.compute(output_json=path)
    written = json.loads(path.read_text())
    assert len(written) == int(golden["mmpose_topdown_kept"].sum())
    by_score = {round(r["score"], 12): r for r in written}
    for index in np.flatnonzero(golden["mmpose_topdown_kept"]):
        result = by_score[round(float(golden["mmpose_topdown_final_score"][index]), 12)]
        assert result["category_id"] == 1 and result["image_id"] == int(golden["pred_image_id"][index])
        np.testing.assert_array_equal(np.float32(result["keypoints"]), golden["pred_keypoints_kx3"][index].reshape(-1))
    # pycocotools on the written file gives the same numbers (as stats_pycocotools_on_mmpose_topdown_json)
    np.testing.assert_allclose(_stats_array(stats), golden["stats_pycocotools_on_mmpose_topdown_json"], atol=STATS_ATOL)


@pytest.mark.golden
def test_gathered_lists_with_duplicates_give_same_stats(golden, ann_file):
    """Records pickled as plain lists (accelerate gather_object), shuffled, split over 2 'processes', with the
    duplicated tail samples a DistributedSampler adds: duplicates are removed by id."""
    records = _records(golden)
    plain = [{key: (np.asarray(value).tolist()) for key, value in record.items()} for record in records]
    order = np.random.default_rng(0).permutation(len(plain))
    shards = [[plain[i] for i in order[0::2]], [plain[i] for i in order[1::2]] + [plain[order[0]], plain[order[1]]]]
    evaluator = CocoKeypointEvaluator(ann_file)
    for shard in pickle.loads(pickle.dumps(shards)):
        evaluator.add(shard)
    assert len(evaluator) == len(records) + 2
    np.testing.assert_allclose(_stats_array(evaluator.compute()), golden["stats_mmpose_topdown"], atol=STATS_ATOL)


@pytest.mark.golden
def test_update_with_arrays_and_tensors(golden, ann_file):
    torch = pytest.importorskip("torch")
    evaluator = CocoKeypointEvaluator(ann_file, score_mode="bbox", nms_mode="none")
    evaluator.update(
        torch.from_numpy(golden["pred_image_id"]),
        torch.from_numpy(golden["pred_keypoints"]),
        torch.from_numpy(golden["pred_keypoint_scores"]),
        torch.from_numpy(golden["pred_bbox_score"]),
        areas=golden["pred_area"],
        ids=golden["pred_id"],
    )
    np.testing.assert_allclose(_stats_array(evaluator.compute()), golden["stats_pycocotools_plain"], atol=STATS_ATOL)


@pytest.mark.golden
def test_use_area_false_normalizes_by_box(golden, ann_file, tmp_path):
    """xtcocotools use_area=False: OKS uses 0.53*w*h of the GT box. The all-area stats (AP, AP .5, AP .75, AR, AR .5,
    AR .75) must equal pycocotools on a GT file whose areas are replaced by that value."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    evaluator = CocoKeypointEvaluator(ann_file, score_mode="bbox", nms_mode="none", use_area=False)
    evaluator.add(_records(golden, with_bbox=False))
    stats = _stats_array(evaluator.compute())
    data = json.loads(ann_file.read_text())
    for annotation in data["annotations"]:
        annotation["area"] = annotation["bbox"][2] * annotation["bbox"][3] * 0.53
    modified = tmp_path / "gt.json"
    modified.write_text(json.dumps(data))
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(modified))
        reference = COCOeval(coco, coco.loadRes(evaluator.results()), iouType="keypoints")
        reference.evaluate()
        reference.accumulate()
        reference.summarize()
    all_area = [0, 1, 2, 5, 6, 7]
    np.testing.assert_allclose(stats[all_area], reference.stats[all_area], atol=STATS_ATOL)
    assert not np.allclose(stats, golden["stats_pycocotools_plain"])  # the normalization really changed


@pytest.mark.golden
def test_gt_boxes_are_mmpose_clipped_boxes(golden, ann_file):
    boxes = gt_boxes(ann_file)
    flat = {annotation_id: box for items in boxes.values() for box, annotation_id, _ in items}
    kind0 = np.flatnonzero(golden["pred_kind"] == 0)
    assert len(flat) == len(kind0)  # iscrowd 0 and num_keypoints > 0 instances
    for index in kind0:
        box = flat[int(golden["pred_id"][index])]
        assert box.dtype == np.float32
        xyxy = golden["pred_bbox_xyxy"][index]
        np.testing.assert_array_equal(box, np.float32([xyxy[0], xyxy[1], xyxy[2] - xyxy[0], xyxy[3] - xyxy[1]]))
    unclipped = {aid: box for items in gt_boxes(ann_file, clip=False).values() for box, aid, _ in items}
    data = json.loads(ann_file.read_text())
    for annotation in data["annotations"]:
        if annotation["id"] in unclipped:
            np.testing.assert_array_equal(unclipped[annotation["id"]], np.float32(annotation["bbox"]))


# ---------------------------------------------------------------------------------------------------- rescoring


def _mmpose_loop_score(keypoint_scores, bbox_score, thr):
    """MMPose's loop in its scalar dtypes, the oracle for the vectorized rescoring."""
    mean, valid = 0, 0
    for score in keypoint_scores:
        if score > thr:
            mean += score
            valid += 1
    if valid != 0:
        mean /= valid
    return bbox_score * mean


def test_rescore_hand_computed():
    scores = np.array([[0.5, 0.1, 0.3], [0.1, 0.2, 0.15], [0.2, 0.6, 0.0]], dtype=np.float32)
    bbox = np.array([0.5, 0.9, 1.0], dtype=np.float32)
    rescored = rescore_instances(scores, bbox, "bbox_keypoint", 0.2)
    assert rescored.dtype == np.float32
    # mean(0.5, 0.3) * 0.5; nothing above 0.2 -> 0 (MMPose); 0.2 itself is not counted (strict >)
    np.testing.assert_allclose(rescored, [0.2, 0.0, 0.6], rtol=1e-6)
    np.testing.assert_allclose(rescore_instances(scores, bbox, "bbox_rle"), [0.5 + 0.3 + 0.5, 0.9 + 0.15 + 0.2,
                               1.0 + 0.8 / 3 + 0.6], rtol=1e-6)  # fmt: skip
    np.testing.assert_array_equal(rescore_instances(scores, bbox, "bbox"), bbox)


def test_rescore_matches_mmpose_loop_bitwise():
    rng = np.random.default_rng(0)
    scores = rng.uniform(0, 1, size=(200, 17)).astype(np.float32)
    bbox = rng.uniform(0.3, 1, size=200).astype(np.float32)
    vectorized = rescore_instances(scores, bbox, "bbox_keypoint", 0.2)
    loop = np.array([_mmpose_loop_score(scores[i], bbox[i], 0.2) for i in range(200)], dtype=np.float32)
    np.testing.assert_array_equal(vectorized, loop)
    rle = rescore_instances(scores, bbox, "bbox_rle")
    loop_rle = [float(bbox[i] + np.mean(scores[i]) + np.max(scores[i])) for i in range(200)]
    np.testing.assert_array_equal(rle, loop_rle)


def test_format_markdown_table():
    stats = dict(zip(COCO_STAT_NAMES, np.linspace(0.1, 1.0, 10)))
    table = format_markdown_table(stats)
    lines = table.splitlines()
    assert lines[0] == "| " + " | ".join(COCO_STAT_NAMES) + " |"
    assert lines[2] == "| 0.100 | 0.200 | 0.300 | 0.400 | 0.500 | 0.600 | 0.700 | 0.800 | 0.900 | 1.000 |"
    named = format_markdown_table({"rle_res50": stats}, digits=1).splitlines()
    assert named[0].startswith("| model | AP |") and named[2].startswith("| rle_res50 | 0.1 |")
    with pytest.raises(ValueError, match="lacks"):
        format_markdown_table({"AP": 0.5})


# ---------------------------------------------------------------------------------------------------- bad input


@pytest.fixture(scope="module")
def evaluator_factory(ann_file):
    return lambda **kwargs: CocoKeypointEvaluator(ann_file, **kwargs)


def _good_record(ann_file):
    image_id = json.loads(ann_file.read_text())["images"][0]["id"]
    return {"image_id": image_id, "id": 7, "keypoints": np.zeros((17, 2)), "keypoint_scores": np.ones(17),
            "bbox_score": 1.0}  # fmt: skip


@pytest.mark.parametrize(
    "change, error, match",
    [
        ({"image_id": 123456789}, ValueError, r"record 0 \(image_id 123456789, id 7\): image_id is not in"),
        ({"keypoints": np.zeros((16, 2))}, ValueError, r"record 0 .*keypoints must have shape \(17, 2\)"),
        ({"keypoint_scores": np.ones(16)}, ValueError, r"keypoint_scores must have shape \(17,\)"),
        ({"keypoints": np.full((17, 2), np.nan)}, ValueError, "keypoints contain NaN"),
        ({"bbox_score": float("nan")}, ValueError, "bbox_score must be one finite number"),
        ({"area": -1.0}, ValueError, "area must be one finite non-negative"),
        ({"bbox": [0, 0, -1, 5]}, ValueError, "bbox must be a finite"),
        ({"image_id": 1.5}, ValueError, "image_id must be one integer"),
    ],
)
def test_add_rejects_bad_records(ann_file, evaluator_factory, change, error, match):
    evaluator = evaluator_factory()
    with pytest.raises(error, match=match):
        evaluator.add({**_good_record(ann_file), **change})
    assert len(evaluator) == 0  # nothing half-added


def test_add_names_the_record_position(ann_file, evaluator_factory):
    evaluator = evaluator_factory()
    good = _good_record(ann_file)
    evaluator.add([good, good])
    bad = {**good, "keypoints": np.ones((17, 2))}
    bad["keypoints"][3, 0] = np.nan
    with pytest.raises(ValueError, match=r"prediction record 3 "):
        evaluator.add([good, bad])
    with pytest.raises(ValueError, match=r"missing \['bbox_score'\]"):
        evaluator.add({k: v for k, v in good.items() if k != "bbox_score"})
    with pytest.raises(TypeError, match="must be a dict"):
        evaluator.add([good["keypoints"]])


def test_compute_errors(ann_file, evaluator_factory):
    with pytest.raises(ValueError, match="no predictions"):
        evaluator_factory().compute()
    evaluator = evaluator_factory()
    good = _good_record(ann_file)
    evaluator.add([good, {k: v for k, v in good.items() if k != "id"}])
    with pytest.raises(ValueError, match="mix records with and without an 'id'"):
        evaluator.compute()
    with pytest.raises(ValueError, match="score_mode"):
        evaluator_factory(score_mode="keypoint_mean")
    with pytest.raises(ValueError, match="nms_mode"):
        evaluator_factory(nms_mode="soft_oks_nms")
    with pytest.raises(FileNotFoundError):
        CocoKeypointEvaluator(ann_file.parent / "missing.json")


# ---------------------------------------------------------------------------------------------------- detections


def test_load_detection_boxes(tmp_path):
    detections = [
        {"image_id": 1, "category_id": 1, "bbox": [10.1, 20.2, 30.3, 40.4], "score": 0.9},
        {"image_id": 1, "category_id": 2, "bbox": [0, 0, 5, 5], "score": 0.99},  # not a person
        {"image_id": 2, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.3},
        {"image_id": 2, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.2999},  # below threshold
        {"image_id": 3, "category_id": 1, "bbox": [1, 2, 0, 4], "score": 0.8},  # zero width: skipped
    ]
    path = tmp_path / "det.json"
    path.write_text(json.dumps(detections))
    with pytest.warns(UserWarning, match="skipped 1 detection"):
        boxes = load_detection_boxes(path, score_thr=0.3)
    assert sorted(boxes) == [1, 2]
    box, score = boxes[1][0]
    assert box.dtype == np.float32
    np.testing.assert_array_equal(box, np.float32([10.1, 20.2, 30.3, 40.4]))
    assert score == float(np.float32(0.9))
    assert len(boxes[2]) == 1  # score 0.3 >= 0.3 is kept (inclusive), 0.2999 is not
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert len(load_detection_boxes(path)[2]) == 2


@pytest.mark.parametrize(
    "record, match",
    [
        ({"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}, r"detection 1 is missing \['score'\]"),
        ({"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "score": 1}, "detection 1: bbox must be 4 finite"),
        ({"image_id": 1, "category_id": 1, "bbox": [0, 0, float("nan"), 1], "score": 1}, "bbox must be 4 finite"),
        ({"image_id": 1, "category_id": 1, "bbox": [0, 0, -2, 1], "score": 1}, "negative width or height"),
        ({"image_id": "a", "category_id": 1, "bbox": [0, 0, 2, 1], "score": 1}, "image_id must be an integer"),
        ({"image_id": 99, "category_id": 1, "bbox": [0, 0, 2, 1], "score": 1}, "image_id 99 is not in"),
    ],
)
def test_load_detection_boxes_bad_records(tmp_path, record, match):
    good = {"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}
    path = tmp_path / "det.json"
    path.write_text(json.dumps([good, record]))
    with pytest.raises(ValueError, match=match):
        load_detection_boxes(path, image_ids=[1, 2])


def test_load_detection_boxes_not_a_list(tmp_path):
    path = tmp_path / "det.json"
    path.write_text(json.dumps({"annotations": []}))
    with pytest.raises(ValueError, match="expected a json list"):
        load_detection_boxes(path)
    with pytest.raises(FileNotFoundError):
        load_detection_boxes(tmp_path / "missing.json")


def test_update_and_bbox_layout_errors(ann_file, evaluator_factory):
    good = _good_record(ann_file)
    evaluator = evaluator_factory()
    with pytest.raises(ValueError, match=r"keypoint_scores has leading length \(1,\) but image_ids has 2"):
        evaluator.update([good["image_id"]] * 2, np.zeros((2, 17, 2)), np.ones((1, 17)), [1.0, 1.0])
    evaluator = evaluator_factory(nms_mode="none")  # identical keypoints would be suppressed by OKS-NMS
    evaluator.add([{**good, "bbox": [0, 0, 10, 10]}, {**good, "id": 8}])
    with pytest.raises(ValueError, match="every prediction record or none must have a 'bbox'"):
        evaluator.compute()


# ------------------------------------------------------------------------------ against xtcocotools (MMPose's COCOeval)
def _xtcocotools_stats(ann_file, results, use_area=True):
    """MMPose CocoMetric's evaluation call: xtcocotools' COCOeval(gt, loadRes(results), 'keypoints', sigmas,
    use_area). xtcocotools is a dev-only reference (setup.cfg extra `dev`); hfpose runs on pycocotools."""
    import contextlib
    import copy
    import io

    try:
        from xtcocotools.coco import COCO
        from xtcocotools.cocoeval import COCOeval
    except ValueError as error:  # "numpy.dtype size changed": a wheel built against numpy 1.x
        pytest.fail(
            f"xtcocotools does not load with numpy {np.__version__} ({error}); it has no numpy-2 wheels: "
            "reinstall it from source (pip install --no-binary xtcocotools --no-build-isolation xtcocotools)"
        )

    from hfpose.keypoints import COCO_KEYPOINTS

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(ann_file))
        coco_eval = COCOeval(
            coco,
            coco.loadRes(copy.deepcopy(results)),
            "keypoints",
            np.asarray(COCO_KEYPOINTS.sigmas),
            use_area=use_area,
        )
        coco_eval.params.useSegm = None
        coco_eval.evaluate()
        coco_eval.accumulate()
        coco_eval.summarize()
    return np.asarray(coco_eval.stats)


def _ground_truth_as_predictions(ann_file):
    """MMPose's own CocoMetric unit-test case: every annotation as a prediction, keypoint scores = visibility,
    bbox score 1, NMS area = the annotation's area."""
    data = json.loads(ann_file.read_text())
    records = []
    for annotation in data["annotations"]:
        keypoints = np.asarray(annotation["keypoints"], np.float32).reshape(-1, 3)
        records.append(
            {
                "image_id": annotation["image_id"],
                "id": annotation["id"],
                "keypoints": keypoints[:, :2],
                "keypoint_scores": keypoints[:, 2],
                "bbox_score": 1.0,
                "area": annotation["area"],
                "bbox": annotation["bbox"],
            }
        )
    return records


@pytest.mark.parametrize(
    "score_mode, nms_mode",
    [("bbox", "none"), ("bbox_keypoint", "oks_nms"), ("bbox_rle", "none"), ("bbox_rle", "oks_nms")],
)
def test_ground_truth_as_predictions_scores_one(ann_file, score_mode, nms_mode):
    """MMPose's unit test (CocoMetric, GT as predictions): 1.0 on every stat. With pycocotools alone the people
    without keypoints (all scores 0) stay as tied false positives: AP 0.894 with `bbox`/`bbox_rle` on coco-mini."""
    evaluator = CocoKeypointEvaluator(ann_file, score_mode=score_mode, nms_mode=nms_mode)
    evaluator.add(_ground_truth_as_predictions(ann_file))
    stats = _stats_array(evaluator.compute())
    np.testing.assert_array_equal(stats, np.ones(len(COCO_STAT_NAMES)))
    np.testing.assert_allclose(stats, _xtcocotools_stats(ann_file, evaluator.results()), rtol=0, atol=STATS_ATOL)


@pytest.fixture(scope="module")
def awkward_ann_file(ann_file, tmp_path_factory):
    """coco-mini's annotations with what pycocotools and xtcocotools read differently: an annotation id 0, a wrong
    `num_keypoints` both ways, annotations without `iscrowd`."""
    data = json.loads(ann_file.read_text())
    annotations = data["annotations"]
    with_keypoints = [a for a in annotations if a["num_keypoints"] > 0]
    without = [a for a in annotations if a["num_keypoints"] == 0]
    with_keypoints[0]["id"] = 0
    with_keypoints[1]["num_keypoints"] = 0  # pycocotools would ignore this visible person
    without[0]["num_keypoints"] = 3  # and count this one without keypoints
    for annotation in with_keypoints[2:6]:
        del annotation["iscrowd"]
    path = tmp_path_factory.mktemp("awkward_gt") / "gt.json"
    path.write_text(json.dumps(data))
    return path


def _noisy_predictions(ann_file, seed=0):
    """GT-derived predictions moved by a few px, random scores; a third of the people without keypoints keep
    all-zero scores, the others get random ones (so they are evaluated, as false positives)."""
    rng = np.random.default_rng(seed)
    records = _ground_truth_as_predictions(ann_file)
    for index, record in enumerate(records):
        record["keypoints"] = record["keypoints"] + rng.normal(0, 4, record["keypoints"].shape).astype(np.float32)
        visible = record["keypoint_scores"] > 0
        if visible.any() or index % 3:
            record["keypoint_scores"] = rng.uniform(0.05, 1, visible.shape).astype(np.float32)
        record["bbox_score"] = float(rng.uniform(0.3, 1))
    return records


@pytest.mark.parametrize(
    "score_mode, nms_mode", [("bbox", "none"), ("bbox_rle", "oks_nms"), ("bbox_keypoint", "oks_nms")]
)
@pytest.mark.parametrize("use_area", [True, False])
def test_stats_equal_xtcocotools_on_awkward_ground_truth(awkward_ann_file, score_mode, nms_mode, use_area):
    evaluator = CocoKeypointEvaluator(awkward_ann_file, score_mode=score_mode, nms_mode=nms_mode, use_area=use_area)
    evaluator.add(_noisy_predictions(awkward_ann_file))
    stats = _stats_array(evaluator.compute())
    results = evaluator.results()
    assert any(max(r["keypoints"][2::3]) == 0 for r in results)  # the case xtcocotools drops is present
    np.testing.assert_allclose(stats, _xtcocotools_stats(awkward_ann_file, results, use_area), rtol=0, atol=STATS_ATOL)


def _plain_pycocotools(ann_file, results):
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(ann_file))
        plain = COCOeval(coco, coco.loadRes(results), iouType="keypoints")
        plain.evaluate()
        plain.accumulate()
        plain.summarize()
    return plain.stats


def test_plain_pycocotools_differs_on_the_awkward_case(awkward_ann_file, tmp_path):
    """The rules matter: pycocotools fails on annotations without `iscrowd`, and with it restored gives other
    numbers than xtcocotools (and hfpose) on the same results."""
    evaluator = CocoKeypointEvaluator(awkward_ann_file, score_mode="bbox", nms_mode="none")
    evaluator.add(_noisy_predictions(awkward_ann_file))
    stats = _stats_array(evaluator.compute())
    with pytest.raises(KeyError, match="iscrowd"):
        _plain_pycocotools(awkward_ann_file, evaluator.results())
    data = json.loads(awkward_ann_file.read_text())
    for annotation in data["annotations"]:
        annotation.setdefault("iscrowd", 0)
    restored = tmp_path / "gt.json"
    restored.write_text(json.dumps(data))
    assert np.abs(stats - _plain_pycocotools(restored, evaluator.results())).max() > 0.01


def test_only_zero_score_results_evaluate_to_zero(ann_file):
    evaluator = CocoKeypointEvaluator(ann_file, score_mode="bbox", nms_mode="none")
    records = _ground_truth_as_predictions(ann_file)
    for record in records:
        record["keypoint_scores"] = np.zeros_like(record["keypoint_scores"])
    evaluator.add(records)
    stats = _stats_array(evaluator.compute())
    np.testing.assert_array_equal(stats, _xtcocotools_stats(ann_file, evaluator.results()))
    assert stats.max() <= 0 and len(evaluator.results()) == len(records)  # written, not evaluated
