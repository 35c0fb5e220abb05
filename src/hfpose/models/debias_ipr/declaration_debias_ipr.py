# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Debias-IPR as the rest of hfpose sees it (read through `hfpose.models.pose_methods()`)."""

from ..pose_method import PoseMethod, topdown_reference
from .configuration_debias_ipr import DebiasIPRConfig
from .convert_mmpose_debias_ipr import build_debias_ipr_config, convert_mmpose_debias_ipr
from .modeling_debias_ipr import DebiasIPRForPoseEstimation, DebiasIPRPoseEstimatorOutput

METHOD = PoseMethod(
    name="debias_ipr",
    config_class=DebiasIPRConfig,
    model_class=DebiasIPRForPoseEstimation,
    output_class=DebiasIPRPoseEstimatorOutput,
    codec="hfpose.codecs.IntegralRegressionLabel",
    convert_state_dict=convert_mmpose_debias_ipr,
    build_config=build_debias_ipr_config,
    title="Debias-IPR (debiased integral pose regression)",
    tags=("debias-ipr", "integral-regression"),
    recipe_folder="debias_ipr",
    # Integral regression family (MMPose 1.x, 256x256)
    reference_results=(
        topdown_reference(
            "ipr_res50_debias-8xb64-210e_coco-256x256",
            "debias_ipr",
            "resnet50",
            "coco",
            (256, 256),
            "AP",
            0.675,
            "configs/body_2d_keypoint/integral_regression/coco",
        ),
    ),
)
