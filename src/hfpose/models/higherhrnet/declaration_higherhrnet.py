# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""HigherHRNet + associative embedding (UDP) as the rest of hfpose sees it (read through
`hfpose.models.pose_methods()`)."""

from ..pose_method import PoseMethod, bottomup_reference
from .configuration_higherhrnet import HigherHRNetConfig
from .convert_mmpose_higherhrnet import build_ae_higherhrnet_config, convert_mmpose_higherhrnet
from .modeling_higherhrnet import HigherHRNetForPoseEstimation, HigherHRNetPoseEstimatorOutput

METHOD = PoseMethod(
    name="ae_higherhrnet",
    config_class=HigherHRNetConfig,
    model_class=HigherHRNetForPoseEstimation,
    output_class=HigherHRNetPoseEstimatorOutput,
    codec="hfpose.codecs.associative_embedding",
    convert_state_dict=convert_mmpose_higherhrnet,
    build_config=build_ae_higherhrnet_config,
    title="HigherHRNet + associative embedding (UDP)",
    tags=("associative-embedding", "higherhrnet", "udp"),
    recipe_folder="higherhrnet",
    onnx_output_names=None,
    score_mode="bbox",
    # released MMPose checkpoints (0.x UDP rows; HRNet-AE also MMPose 1.x's AE config) → HRNet variant
    mmpose_checkpoints={
        "higherhrnet_w32_coco_512x512_udp": "w32",
        "higherhrnet_w48_coco_512x512_udp": "w48",
    },
    reference_results=(
        bottomup_reference(
            "associative_embedding_higherhrnet_w32_coco_512x512_udp",
            "ae_higherhrnet",
            "w32",
            0.674,
            0.868,
            0.722,
            0.716,
            0.890,
        ),
        bottomup_reference(
            "associative_embedding_higherhrnet_w48_coco_512x512_udp",
            "ae_higherhrnet",
            "w48",
            0.688,
            0.871,
            0.742,
            0.731,
            0.891,
        ),
    ),
)
