# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Evaluation: COCO OKS AP/AR (pycocotools + MMPose rescoring and OKS-NMS) and MPII PCKh."""

from .coco import (
    COCO_STAT_NAMES,
    CocoKeypointEvaluator,
    format_markdown_table,
    format_stats_table,
    gt_boxes,
    load_detection_boxes,
    rescore_instances,
)
from .nms import oks_iou, oks_matrix, oks_nms
from .pckh import (
    PCKH_STAT_NAMES,
    compute_pckh,
    head_sizes_from_headboxes,
    load_mpii_ground_truth,
    load_mpii_headboxes,
    pckh_per_joint,
    synthetic_head_boxes,
)

__all__ = [
    "COCO_STAT_NAMES",
    "PCKH_STAT_NAMES",
    "CocoKeypointEvaluator",
    "compute_pckh",
    "format_markdown_table",
    "format_stats_table",
    "gt_boxes",
    "head_sizes_from_headboxes",
    "load_detection_boxes",
    "load_mpii_ground_truth",
    "load_mpii_headboxes",
    "oks_iou",
    "oks_matrix",
    "oks_nms",
    "pckh_per_joint",
    "rescore_instances",
    "synthetic_head_boxes",
]
