"""Debias-IPR (`hfpose_debias_ipr`): tiny-model behaviour and MMPose equivalence of the head
(`DSNTHead(debias=True, beta=10)`, JS loss)."""

import numpy as np
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
    js_divergence_loss,
    tiny_config,
)

from hfpose.models.debias_ipr import DebiasIPRConfig, DebiasIPRForPoseEstimation
from hfpose.models.dsnt import DSNTConfig, DSNTForPoseEstimation
from hfpose.models.integral_utils import debias_coordinates


def test_defaults_reproduce_ipr_res50_debias_coco_256x256():
    config = DebiasIPRConfig()
    assert config.model_type == "hfpose_debias_ipr"
    assert config.input_size == [256, 256] and config.heatmap_size == [64, 64]
    assert config.deconv_out_channels == [256, 256, 256] and config.deconv_kernel_sizes == [4, 4, 4]
    assert config.beta == 10.0 and config.coordinate_loss_weight == 1.0 and config.heatmap_loss_weight == 1.0
    assert list(config.backbone_config.depths) == [3, 4, 6, 3] and config.backbone_config.out_indices == [4]


def test_forward_shapes_and_decoding():
    check_forward_shapes_and_decoding(DebiasIPRConfig, DebiasIPRForPoseEstimation, debias=True)


def test_debias_is_the_only_difference_from_dsnt():
    # Same weights and beta: identical heatmaps; keypoints = debias(DSNT keypoints) with C from the logits (no beta).
    torch.manual_seed(0)
    debias = DebiasIPRForPoseEstimation(tiny_config(DebiasIPRConfig)).eval()
    dsnt = DSNTForPoseEstimation(tiny_config(DSNTConfig, beta=10.0)).eval()
    dsnt.load_state_dict(debias.state_dict(), strict=True)
    pixel_values = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        out, reference = debias(pixel_values), dsnt(pixel_values)
    torch.testing.assert_close(out.heatmaps, reference.heatmaps, atol=0, rtol=0)
    torch.testing.assert_close(out.keypoints, debias_coordinates(reference.keypoints, reference.logits), atol=0, rtol=0)
    assert (out.keypoints - reference.keypoints).abs().max() > 1e-4


def test_loss_is_smooth_l1_plus_js_divergence_and_backward():
    check_loss_and_backward(DebiasIPRConfig, DebiasIPRForPoseEstimation, js_divergence_loss)


def test_loss_options_and_bad_inputs():
    check_loss_options_and_bad_inputs(DebiasIPRConfig, DebiasIPRForPoseEstimation)


def test_config_validation():
    check_config_validation(DebiasIPRConfig)


def test_save_load_round_trip_and_auto_classes(tmp_path):
    check_save_load_and_auto(DebiasIPRConfig, DebiasIPRForPoseEstimation, "hfpose_debias_ipr", tmp_path)


@pytest.mark.golden
def test_head_matches_mmpose_dsnt_head_debias(golden_dir):
    fixture = load_golden(golden_dir, "heads/dsnt_head_debias.npz")
    model = build_golden_head_model(DebiasIPRConfig, DebiasIPRForPoseEstimation, golden_dir)
    # predict keypoints from this network's own forward pass: see the xfail test below. beta = 10 amplifies the
    # logits' float32 noise (2e-5 with oneDNN limited to AVX2 or SSE4.1 or off, 4e-6 by default): measured heatmaps up
    # to 2.3e-5 and coordinates up to 9.1e-6 across kernels and threads (docs/portability.md); bounds 2.1x / 2.2x that.
    check_golden_head(
        model,
        fixture,
        debias=True,
        heatmap_loss_key="loss_term1_JSDiscretLoss",
        check_network_predict=False,
        heatmap_atol=5e-5,
        coordinate_atol=2e-5,
    )


@pytest.mark.golden
@pytest.mark.xfail(
    strict=False,
    reason="at the float32 noise floor: the deconvolutions' logits differ from MMPose's by ~4e-6 to 8e-6 depending on "
    "thread count / oneDNN kernels, beta=10 amplifies it, and 1e-3 input px is 3.9e-6 in normalized units (tighter "
    "than the 1e-5 coordinate tolerance). Measured max error 1.02e-3 px (1 thread), 4.4e-4 px (2 threads); decoding "
    "MMPose's own logits gives 1.5e-5 px (checked above).",
)
def test_head_predict_keypoints_from_network_within_1e3_px(golden_dir):
    fixture = load_golden(golden_dir, "heads/dsnt_head_debias.npz")
    model = build_golden_head_model(DebiasIPRConfig, DebiasIPRForPoseEstimation, golden_dir)
    with torch.no_grad():
        coords = model.forward_head(torch.from_numpy(fixture["feats"]).float()).keypoints.double().numpy()
    np.testing.assert_allclose(coords * 256.0, fixture["predict_noflip_keypoints"], atol=1e-3, rtol=0)


@pytest.mark.slow
def test_full_size_forward():
    torch.manual_seed(0)
    model = DebiasIPRForPoseEstimation(DebiasIPRConfig()).eval()
    with torch.no_grad():
        outputs = model(torch.randn(1, 3, 256, 256))
    assert outputs.heatmaps.shape == (1, 17, 64, 64) and outputs.keypoints.shape == (1, 17, 2)
    assert torch.isfinite(outputs.keypoints).all()
