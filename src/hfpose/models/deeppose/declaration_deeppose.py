# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""DeepPose as the rest of hfpose sees it (read through `hfpose.models.pose_methods()`)."""

from ..pose_method import PoseMethod, topdown_reference
from .configuration_deeppose import DeepPoseConfig
from .convert_mmpose_deeppose import build_deeppose_config, convert_mmpose_deeppose
from .modeling_deeppose import DeepPoseForPoseEstimation, DeepPosePoseEstimatorOutput

_COCO = "configs/body_2d_keypoint/topdown_regression/coco"
_MPII = "configs/body_2d_keypoint/topdown_regression/mpii"

METHOD = PoseMethod(
    name="deeppose",
    config_class=DeepPoseConfig,
    model_class=DeepPoseForPoseEstimation,
    output_class=DeepPosePoseEstimatorOutput,
    codec="hfpose.codecs.RegressionLabel",
    convert_state_dict=convert_mmpose_deeppose,
    build_config=build_deeppose_config,
    title="DeepPose (regression)",
    tags=("deeppose", "regression"),
    recipe_folder="deeppose",
    head_output=lambda outputs: outputs.keypoints,
    # DeepPose (Toshev & Szegedy 2014) as MMPose's RegressionHead
    reference_results=(
        topdown_reference(
            "td-reg_res50_8xb64-210e_coco-256x192", "deeppose", "resnet50", "coco", (192, 256), "AP", 0.528, _COCO
        ),
        topdown_reference(
            "td-reg_res101_8xb64-210e_coco-256x192", "deeppose", "resnet101", "coco", (192, 256), "AP", 0.562, _COCO
        ),
        topdown_reference(
            "td-reg_res152_8xb64-210e_coco-256x192", "deeppose", "resnet152", "coco", (192, 256), "AP", 0.584, _COCO
        ),
        topdown_reference(
            "td-reg_res50_8xb64-210e_mpii-256x256", "deeppose", "resnet50", "mpii", (256, 256), "PCKh@0.5", 0.826, _MPII
        ),
        topdown_reference(
            "td-reg_res101_8xb64-210e_mpii-256x256",
            "deeppose",
            "resnet101",
            "mpii",
            (256, 256),
            "PCKh@0.5",
            0.841,
            _MPII,
        ),
        topdown_reference(
            "td-reg_res152_8xb64-210e_mpii-256x256",
            "deeppose",
            "resnet152",
            "mpii",
            (256, 256),
            "PCKh@0.5",
            0.850,
            _MPII,
        ),
    ),
)
