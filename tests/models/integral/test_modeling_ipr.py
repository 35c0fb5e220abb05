"""IPR (`hfpose_ipr`): tiny-model behaviour, and MMPose equivalence of the head (`DSNTHead` with the released IPR
config's loss, and `IntegralRegressionHead` with its smooth-L1-only loss)."""

import pytest
import torch
from golden_utils import load_golden
from integral_testing import (
    build_golden_head_model,
    check_config_validation,
    check_forward_shapes_and_decoding,
    check_golden_head,
    check_loss_and_backward,
    check_loss_options_and_bad_inputs,
    check_save_load_and_auto,
    heatmap_mse_loss,
)

from hfpose.models.ipr import IPRConfig, IPRForPoseEstimation


def test_defaults_reproduce_ipr_res50_coco_256x256():
    config = IPRConfig()
    assert config.model_type == "hfpose_ipr"
    assert config.input_size == [256, 256] and config.heatmap_size == [64, 64]
    assert config.deconv_out_channels == [256, 256, 256] and config.deconv_kernel_sizes == [4, 4, 4]
    assert config.beta == 1.0 and config.coordinate_loss_weight == 1.0 and config.heatmap_loss_weight == 1.0
    assert list(config.backbone_config.depths) == [3, 4, 6, 3] and config.backbone_config.out_indices == [4]
    assert config.num_labels == 17 and config.id2label[0] == "nose"


def test_forward_shapes_and_decoding():
    check_forward_shapes_and_decoding(IPRConfig, IPRForPoseEstimation, debias=False)


def test_loss_is_smooth_l1_plus_heatmap_mse_and_backward():
    check_loss_and_backward(IPRConfig, IPRForPoseEstimation, heatmap_mse_loss)


def test_loss_options_and_bad_inputs():
    check_loss_options_and_bad_inputs(IPRConfig, IPRForPoseEstimation)


def test_config_validation():
    check_config_validation(IPRConfig)


def test_save_load_round_trip_and_auto_classes(tmp_path):
    check_save_load_and_auto(IPRConfig, IPRForPoseEstimation, "hfpose_ipr", tmp_path)


@pytest.mark.golden
def test_head_matches_mmpose_dsnt_head_with_ipr_config(golden_dir):
    fixture = load_golden(golden_dir, "heads/dsnt_head_ipr_cfg.npz")
    model = build_golden_head_model(IPRConfig, IPRForPoseEstimation, golden_dir)
    check_golden_head(model, fixture, debias=False, heatmap_loss_key="loss_term1_KeypointMSELoss")


@pytest.mark.golden
def test_head_matches_mmpose_integral_regression_head(golden_dir):
    # IntegralRegressionHead: same network and decoding; its loss is the smooth-L1 term alone.
    fixture = load_golden(golden_dir, "heads/integral_regression_head.npz")
    model = build_golden_head_model(IPRConfig, IPRForPoseEstimation, golden_dir, heatmap_loss_weight=0.0)
    check_golden_head(model, fixture, debias=False, heatmap_loss_key=None, coordinate_loss_key="loss_kpt")


@pytest.mark.slow
def test_full_size_forward():
    torch.manual_seed(0)
    model = IPRForPoseEstimation(IPRConfig()).eval()
    with torch.no_grad():
        outputs = model(torch.randn(1, 3, 256, 256))
    assert outputs.heatmaps.shape == (1, 17, 64, 64) and outputs.keypoints.shape == (1, 17, 2)
    assert torch.isfinite(outputs.keypoints).all()
    assert ((outputs.keypoints >= 0) & (outputs.keypoints <= 63 / 64)).all()
