# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""MPII PCKh as an `evaluate` metric, computed by hfpose's `compute_pckh`."""

import datasets
import evaluate
import numpy as np

from hfpose.evaluation import compute_pckh

_DESCRIPTION = """\
MPII percentage of correct keypoints normalized by head size (PCKh): a joint is correct when its distance to the
ground truth is at most `threshold` x head size (head size = 0.6 x the diagonal of the annotated head box), as
MMPose's `MpiiPCKAccuracy(norm_item="head")` and the official MPII evaluation (pelvis and thorax excluded from the
total). Wraps `hfpose.evaluation.compute_pckh`.
"""

_KWARGS_DESCRIPTION = """\
Args:
    predictions: per person, (16, 2) predicted joints in image pixels, as the model maps them to the image.
    references: per person, (16, 2) ground-truth joints as stored in MMPose's MPII json.
    visible: per person, (16,) joint visibility (non-zero = visible).
    head_size: per person, the head size in pixels.
    thresholds: (0.5, 0.1) by default; the first gives the group stats and "PCK", each further one a "PCK@t" entry.
Returns:
    {"Head PCK", "Shoulder PCK", "Elbow PCK", "Wrist PCK", "Hip PCK", "Knee PCK", "Ankle PCK", "PCK", "PCK@0.1"}:
    floats in percent (hfpose's / MMPose's convention).
"""

_CITATION = """\
@inproceedings{andriluka20142d,
  title     = {2D Human Pose Estimation: New Benchmark and State of the Art Analysis},
  author    = {Andriluka, Mykhaylo and Pishchulin, Leonid and Gehler, Peter and Schiele, Bernt},
  booktitle = {IEEE Conference on Computer Vision and Pattern Recognition (CVPR)},
  year      = {2014}
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class PCKh(evaluate.Metric):
    """MPII PCKh@0.5 / @0.1 (hfpose `compute_pckh`)."""

    def _info(self):
        return evaluate.MetricInfo(
            module_type="metric",
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.List(datasets.List(datasets.Value("float64"))),
                    "references": datasets.List(datasets.List(datasets.Value("float64"))),
                    "visible": datasets.List(datasets.Value("float32")),
                    "head_size": datasets.Value("float64"),
                }
            ),
            reference_urls=["http://human-pose.mpi-inf.mpg.de/#evaluation"],
        )

    def _compute(self, predictions, references, visible, head_size, thresholds=(0.5, 0.1)):
        return compute_pckh(
            np.asarray(predictions, dtype=np.float64),
            np.asarray(references, dtype=np.float64),
            np.asarray(visible, dtype=np.float32),
            np.asarray(head_size, dtype=np.float64),
            thresholds=tuple(thresholds),
        )
