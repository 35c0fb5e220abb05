"""`evaluate` metric modules wrapping hfpose's evaluation (optional extra `hfpose[evaluate]`).

import evaluate
from hfpose.evaluation.metrics import metric_path

coco = evaluate.load(metric_path("coco_keypoint_ap"))  # or the folder src/hfpose/evaluation/metrics/coco_keypoint_ap
pckh = evaluate.load(metric_path("pckh"))
"""

from pathlib import Path

__all__ = ["METRIC_NAMES", "metric_path"]

METRIC_NAMES = ("coco_keypoint_ap", "pckh")


def metric_path(name: str) -> str:
    """Directory of the metric module `name` (pass it to `evaluate.load`).

    Raises:
        ValueError: if `name` is not one of `METRIC_NAMES`.
    """
    if name not in METRIC_NAMES:
        raise ValueError(f"unknown hfpose metric {name!r}; expected one of {list(METRIC_NAMES)}")
    return str(Path(__file__).resolve().parent / name)
