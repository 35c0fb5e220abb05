# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""HRNet + associative embedding (UDP) as the rest of hfpose sees it (read through `hfpose.models.pose_methods()`)."""

from ..pose_method import PoseMethod, bottomup_reference
from .configuration_associative_embedding import AssociativeEmbeddingConfig
from .convert_mmpose_associative_embedding import build_ae_hrnet_config, convert_mmpose_associative_embedding
from .modeling_associative_embedding import (
    AssociativeEmbeddingForPoseEstimation,
    AssociativeEmbeddingPoseEstimatorOutput,
)

METHOD = PoseMethod(
    name="ae_hrnet",
    config_class=AssociativeEmbeddingConfig,
    model_class=AssociativeEmbeddingForPoseEstimation,
    output_class=AssociativeEmbeddingPoseEstimatorOutput,
    codec="hfpose.codecs.associative_embedding",
    convert_state_dict=convert_mmpose_associative_embedding,
    build_config=build_ae_hrnet_config,
    title="HRNet + associative embedding (UDP)",
    tags=("associative-embedding", "hrnet", "udp"),
    recipe_folder="associative_embedding",
    onnx_output_names=None,
    score_mode="bbox",
    # released MMPose checkpoints (0.x UDP rows; HRNet-AE also MMPose 1.x's AE config) → HRNet variant
    mmpose_checkpoints={
        "hrnet_w32_coco_512x512_udp": "w32",
        "hrnet_w48_coco_512x512_udp": "w48",
        "ae_hrnet-w32_8xb24-300e_coco-512x512": "w32",
    },
    # Bottom-up, associative embedding + UDP (MMPose 0.x)
    reference_results=(
        bottomup_reference(
            "associative_embedding_hrnet_w32_coco_512x512_udp", "ae_hrnet", "w32", 0.667, 0.861, 0.719, 0.713, 0.887
        ),
        bottomup_reference(
            "associative_embedding_hrnet_w48_coco_512x512_udp", "ae_hrnet", "w48", 0.680, 0.870, 0.731, 0.725, 0.892
        ),
    ),
)
