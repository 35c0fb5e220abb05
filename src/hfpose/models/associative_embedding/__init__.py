# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Bottom-up associative embedding with an HRNet backbone (HRNet-AE) and its training loss."""

from .configuration_associative_embedding import AssociativeEmbeddingConfig
from .loss import associative_embedding_loss, masked_heatmap_loss, multi_resolution_ae_loss
from .modeling_associative_embedding import (
    AssociativeEmbeddingForPoseEstimation,
    AssociativeEmbeddingPoseEstimatorOutput,
    AssociativeEmbeddingPreTrainedModel,
    compute_bottomup_loss,
)

__all__ = [
    "AssociativeEmbeddingConfig",
    "AssociativeEmbeddingForPoseEstimation",
    "AssociativeEmbeddingPoseEstimatorOutput",
    "AssociativeEmbeddingPreTrainedModel",
    "associative_embedding_loss",
    "compute_bottomup_loss",
    "masked_heatmap_loss",
    "multi_resolution_ae_loss",
]
