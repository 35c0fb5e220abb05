# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""RLE as the rest of hfpose sees it (read through `hfpose.models.pose_methods()`)."""

import torch

from ..pose_method import PoseMethod, topdown_reference
from .configuration_rle import RLEConfig
from .convert_mmpose_rle import build_rle_config, convert_mmpose_rle
from .modeling_rle import RLEForPoseEstimation, RLEPoseEstimatorOutput

_COCO = "configs/body_2d_keypoint/topdown_regression/coco"
_MPII = "configs/body_2d_keypoint/topdown_regression/mpii"

METHOD = PoseMethod(
    name="rle",
    config_class=RLEConfig,
    model_class=RLEForPoseEstimation,
    output_class=RLEPoseEstimatorOutput,
    codec="hfpose.codecs.RegressionLabel",
    convert_state_dict=convert_mmpose_rle,
    build_config=build_rle_config,
    title="RLE (residual log-likelihood estimation)",
    tags=("rle", "regression"),
    recipe_folder="rle",
    # MMPose's RLEHead returns (x, y, sigma logits) per keypoint
    head_output=lambda outputs: torch.cat([outputs.keypoints, outputs.sigma_raw], dim=-1),
    onnx_output_names=("keypoints", "scores", "sigma"),
    score_mode="bbox_rle",
    # RLE (Li et al. 2021)
    reference_results=(
        topdown_reference(
            "td-reg_res50_rle-8xb64-210e_coco-256x192", "rle", "resnet50", "coco", (192, 256), "AP", 0.706, _COCO
        ),
        topdown_reference(
            "td-reg_res101_rle-8xb64-210e_coco-256x192", "rle", "resnet101", "coco", (192, 256), "AP", 0.722, _COCO
        ),
        topdown_reference(
            "td-reg_res152_rle-8xb64-210e_coco-256x192", "rle", "resnet152", "coco", (192, 256), "AP", 0.731, _COCO
        ),
        topdown_reference(
            "td-reg_mobilenetv2_rle-pretrained-8xb64-210e_coco-256x192",
            "rle",
            "mobilenetv2",
            "coco",
            (192, 256),
            "AP",
            0.593,
            _COCO,
        ),
        topdown_reference(
            "td-reg_res50_rle-8xb64-210e_mpii-256x256", "rle", "resnet50", "mpii", (256, 256), "PCKh@0.5", 0.861, _MPII
        ),
    ),
)
