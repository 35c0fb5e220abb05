# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""IPR as the rest of hfpose sees it (read through `hfpose.models.pose_methods()`)."""

from ..pose_method import PoseMethod, topdown_reference
from .configuration_ipr import IPRConfig
from .convert_mmpose_ipr import build_ipr_config, convert_mmpose_ipr
from .modeling_ipr import IPRForPoseEstimation, IPRPoseEstimatorOutput

METHOD = PoseMethod(
    name="ipr",
    config_class=IPRConfig,
    model_class=IPRForPoseEstimation,
    output_class=IPRPoseEstimatorOutput,
    codec="hfpose.codecs.IntegralRegressionLabel",
    convert_state_dict=convert_mmpose_ipr,
    build_config=build_ipr_config,
    title="IPR (integral pose regression)",
    tags=("ipr", "integral-regression"),
    recipe_folder="ipr",
    # Integral regression family (MMPose 1.x, 256x256)
    reference_results=(
        topdown_reference(
            "ipr_res50_8xb64-210e_coco-256x256",
            "ipr",
            "resnet50",
            "coco",
            (256, 256),
            "AP",
            0.633,
            "configs/body_2d_keypoint/integral_regression/coco",
        ),
    ),
)
