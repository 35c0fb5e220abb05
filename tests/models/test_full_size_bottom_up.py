"""The four full-size bottom-up rows build and run one forward pass (slow: w48 at 512x512 on CPU)."""

import pytest
import torch

from hfpose.hub.convert_mmpose import build_bottomup_config
from hfpose.models.associative_embedding import AssociativeEmbeddingForPoseEstimation
from hfpose.models.higherhrnet import HigherHRNetForPoseEstimation


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["w32", "w48"])
@pytest.mark.parametrize("method", ["ae_hrnet", "ae_higherhrnet"])
def test_full_size_forward(method, variant):
    config = build_bottomup_config(method, variant)
    model_class = HigherHRNetForPoseEstimation if method == "ae_higherhrnet" else AssociativeEmbeddingForPoseEstimation
    model = model_class(config).eval()
    with torch.inference_mode():
        outputs = model(torch.randn(1, 3, 512, 512))
    shapes = [tuple(h.shape) for h in outputs.heatmaps]
    expected = [(1, 17, 128, 128)] + ([(1, 17, 256, 256)] if method == "ae_higherhrnet" else [])
    assert shapes == expected and tuple(outputs.tags.shape) == (1, 17, 128, 128)
    assert all(torch.isfinite(h).all() for h in outputs.heatmaps)
