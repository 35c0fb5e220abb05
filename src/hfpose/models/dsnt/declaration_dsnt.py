# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""DSNT as the rest of hfpose sees it (read through `hfpose.models.pose_methods()`)."""

from ..pose_method import PoseMethod, topdown_reference
from .configuration_dsnt import DSNTConfig
from .convert_mmpose_dsnt import build_dsnt_config, convert_mmpose_dsnt
from .modeling_dsnt import DSNTForPoseEstimation, DSNTPoseEstimatorOutput

METHOD = PoseMethod(
    name="dsnt",
    config_class=DSNTConfig,
    model_class=DSNTForPoseEstimation,
    output_class=DSNTPoseEstimatorOutput,
    codec="hfpose.codecs.IntegralRegressionLabel",
    convert_state_dict=convert_mmpose_dsnt,
    build_config=build_dsnt_config,
    title="DSNT (differentiable spatial to numerical transform)",
    tags=("dsnt", "integral-regression"),
    recipe_folder="dsnt",
    # Integral regression family (MMPose 1.x, 256x256)
    reference_results=(
        topdown_reference(
            "ipr_res50_dsnt-8xb64-210e_coco-256x256",
            "dsnt",
            "resnet50",
            "coco",
            (256, 256),
            "AP",
            0.674,
            "configs/body_2d_keypoint/integral_regression/coco",
        ),
    ),
)
