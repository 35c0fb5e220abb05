# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""COCO keypoint OKS AP/AR as an `evaluate` metric, computed by hfpose's `CocoKeypointEvaluator`."""

import datasets
import evaluate
import numpy as np

from hfpose.evaluation import CocoKeypointEvaluator

_DESCRIPTION = """\
COCO person-keypoint average precision and recall over object keypoint similarity (OKS) thresholds 0.50:0.95, as
MMPose's `CocoMetric` computes it: per-instance rescoring (`score_mode`), greedy OKS-NMS per image (`nms_mode`),
then pycocotools `COCOeval(iouType="keypoints")` against the ground truth of `ann_file`. The numbers are those of
`scripts/evaluate.py` / `hfpose.evaluation.CocoKeypointEvaluator` (this module wraps it).
"""

_KWARGS_DESCRIPTION = """\
Args:
    predictions: one dict per predicted person, as `hfpose.training.evaluation_loop.predict_topdown` returns them:
        `image_id` (int, an image of `ann_file`), `keypoints` ((K, 2) image pixels, pixel centres at integers),
        `keypoint_scores` ((K,)), `bbox_score` (float), `id` (int instance id, -1 if unknown), `area` (float, the
        OKS-NMS area, NaN to use the keypoints' extent), `bbox` (COCO [x, y, w, h] image pixels, [] if unknown).
    ann_file: COCO person-keypoints annotation json (e.g. person_keypoints_val2017.json).
    score_mode: "bbox_keypoint" (top-down default), "bbox_rle" (RLE) or "bbox" (bottom-up).
    nms_mode: "oks_nms" (default) or "none".
    nms_thr: OKS threshold of the NMS (0.9).
Returns:
    {"AP", "AP .5", "AP .75", "AP (M)", "AP (L)", "AR", "AR .5", "AR .75", "AR (M)", "AR (L)"}: floats in [0, 1].
Example:
    >>> import evaluate
    >>> from hfpose.evaluation.metrics import metric_path
    >>> metric = evaluate.load(metric_path("coco_keypoint_ap"))
    >>> metric.compute(predictions=persons, ann_file="person_keypoints_val2017.json", score_mode="bbox_rle")
"""

_CITATION = """\
@inproceedings{lin2014microsoft,
  title     = {Microsoft COCO: Common Objects in Context},
  author    = {Lin, Tsung-Yi and Maire, Michael and Belongie, Serge and Hays, James and Perona, Pietro and
               Ramanan, Deva and Doll{\\'a}r, Piotr and Zitnick, C. Lawrence},
  booktitle = {European Conference on Computer Vision (ECCV)},
  year      = {2014}
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class CocoKeypointAP(evaluate.Metric):
    """COCO OKS AP/AR of person keypoints (hfpose `CocoKeypointEvaluator`)."""

    def _info(self):
        return evaluate.MetricInfo(
            module_type="metric",
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": {
                        "image_id": datasets.Value("int64"),
                        "id": datasets.Value("int64"),
                        "keypoints": datasets.List(datasets.List(datasets.Value("float64"))),
                        "keypoint_scores": datasets.List(datasets.Value("float32")),
                        "bbox_score": datasets.Value("float32"),
                        "area": datasets.Value("float64"),
                        "bbox": datasets.List(datasets.Value("float32")),
                    },
                }
            ),
            reference_urls=[
                "https://cocodataset.org/#keypoints-eval",
                "https://github.com/open-mmlab/mmpose/blob/main/mmpose/evaluation/metrics/coco_metric.py",
            ],
        )

    def _compute(self, predictions, ann_file=None, score_mode="bbox_keypoint", nms_mode="oks_nms", nms_thr=0.9):
        if ann_file is None:
            raise ValueError("coco_keypoint_ap needs ann_file= (the COCO person-keypoints annotation json)")
        evaluator = CocoKeypointEvaluator(ann_file, score_mode=score_mode, nms_mode=nms_mode, nms_thr=nms_thr)
        records = []
        for prediction in predictions:
            record = {
                "image_id": int(prediction["image_id"]),
                "keypoints": np.asarray(prediction["keypoints"], dtype=np.float64),
                "keypoint_scores": np.asarray(prediction["keypoint_scores"], dtype=np.float32),
                "bbox_score": float(prediction["bbox_score"]),
            }
            if prediction.get("id") is not None and int(prediction["id"]) >= 0:
                record["id"] = int(prediction["id"])
            if prediction.get("area") is not None and np.isfinite(prediction["area"]):
                record["area"] = float(prediction["area"])
            if prediction.get("bbox") is not None and len(prediction["bbox"]) == 4:
                record["bbox"] = np.asarray(prediction["bbox"], dtype=np.float32)
            records.append(record)
        evaluator.add(records)
        return evaluator.compute()
