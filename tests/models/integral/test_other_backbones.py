"""Every integral head (IPR, DSNT, Debias-IPR) works on another AutoBackbone (a tiny ConvNeXt) and round-trips."""

import pytest
import torch
from transformers import AutoModelForPoseEstimation, ConvNextConfig

from hfpose.models.debias_ipr import DebiasIPRConfig, DebiasIPRForPoseEstimation
from hfpose.models.dsnt import DSNTConfig, DSNTForPoseEstimation
from hfpose.models.ipr import IPRConfig, IPRForPoseEstimation

MODELS = {
    "ipr": (IPRConfig, IPRForPoseEstimation),
    "dsnt": (DSNTConfig, DSNTForPoseEstimation),
    "debias_ipr": (DebiasIPRConfig, DebiasIPRForPoseEstimation),
}


@pytest.mark.parametrize("method", sorted(MODELS))
def test_convnext_backbone_trains_and_round_trips(method, tmp_path):
    config_class, model_class = MODELS[method]
    backbone = ConvNextConfig(depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 24, 32], out_features=["stage4"])
    config = config_class(backbone_config=backbone, input_size=[64, 64], deconv_out_channels=[8, 8, 8])
    torch.manual_seed(0)
    model = model_class(config)
    pixel_values = torch.randn(2, 3, 64, 64)
    labels = torch.rand(2, config.num_labels, 2)
    weights = torch.ones(2, config.num_labels)
    heatmaps = torch.softmax(torch.randn(2, config.num_labels, 16 * 16), -1).reshape(2, config.num_labels, 16, 16)
    outputs = model(pixel_values, labels=labels, label_weights=weights, target_heatmaps=heatmaps)
    assert outputs.heatmaps.shape == (2, config.num_labels, 16, 16) and outputs.keypoints.shape == (
        2,
        config.num_labels,
        2,
    )
    assert torch.isfinite(outputs.loss)
    outputs.loss.backward()
    model.eval().save_pretrained(tmp_path)
    reloaded = AutoModelForPoseEstimation.from_pretrained(tmp_path).eval()
    assert isinstance(reloaded.config.backbone_config, ConvNextConfig)
    with torch.no_grad():
        torch.testing.assert_close(reloaded(pixel_values).keypoints, model(pixel_values).keypoints, rtol=0, atol=0)
