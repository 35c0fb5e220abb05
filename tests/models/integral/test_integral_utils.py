"""Hand-computed checks of the integral-regression pure functions (`hfpose.models.integral_utils`)."""

import math

import pytest
import torch

from hfpose.models.integral_utils import (
    debias_coordinates,
    flat_softmax,
    heatmap_mse_loss,
    js_divergence_loss,
    smooth_l1_coordinate_loss,
    soft_argmax,
)


def one_hot(height, width, row, column):
    heatmap = torch.zeros(1, 1, height, width)
    heatmap[0, 0, row, column] = 1.0
    return heatmap


# ---------------------------------------------------------------- flat_softmax


def test_flat_softmax_hand_computed():
    logits = torch.tensor([[[[0.0, math.log(3.0)], [0.0, 0.0]]]])
    expected = torch.tensor([[[[1 / 6, 3 / 6], [1 / 6, 1 / 6]]]])
    torch.testing.assert_close(flat_softmax(logits), expected, atol=1e-7, rtol=0)


def test_flat_softmax_beta_multiplies_logits():
    logits = torch.randn(2, 3, 5, 4, generator=torch.Generator().manual_seed(0))
    heatmaps = flat_softmax(logits, beta=10.0)
    torch.testing.assert_close(heatmaps, flat_softmax(10.0 * logits), atol=1e-7, rtol=0)
    torch.testing.assert_close(heatmaps.sum(dim=(-2, -1)), torch.ones(2, 3), atol=1e-6, rtol=0)


# ---------------------------------------------------------------- soft_argmax


@pytest.mark.parametrize("row, column", [(0, 0), (2, 5), (3, 7)])
def test_soft_argmax_one_hot_gives_column_over_width(row, column):
    # column j <-> x = j / W, row i <-> y = i / H: no half-pixel offset (MMPose linspace = arange(W) / W).
    coords = soft_argmax(one_hot(4, 8, row, column))
    torch.testing.assert_close(coords, torch.tensor([[[column / 8, row / 4]]]), atol=0, rtol=0)


def test_soft_argmax_uniform_map_gives_mean_position():
    height, width = 4, 8
    uniform = torch.full((1, 1, height, width), 1.0 / (height * width))
    expected = torch.tensor([[[(width - 1) / (2 * width), (height - 1) / (2 * height)]]])
    torch.testing.assert_close(soft_argmax(uniform), expected, atol=1e-7, rtol=0)


def test_soft_argmax_is_linear_in_the_map():
    # 0.25 at column 1 and 0.75 at column 3 of a 1x4 map: x = 0.25 * 1/4 + 0.75 * 3/4 = 0.625.
    heatmap = torch.tensor([[[[0.0, 0.25, 0.0, 0.75]]]])
    torch.testing.assert_close(soft_argmax(heatmap), torch.tensor([[[0.625, 0.0]]]), atol=1e-7, rtol=0)


def test_soft_argmax_gradient_matches_finite_differences():
    logits = torch.randn(1, 2, 3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    logits.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: soft_argmax(flat_softmax(x, beta=2.0)), (logits,))


# ---------------------------------------------------------------- debias_coordinates


def test_debias_uniform_map_hand_computed():
    # 2x2 zero logits: C = sum exp(0) = 4, x = y = 1/4; debiased = 4/3 * (1/4 - 1/8) = 1/6.
    logits = torch.zeros(1, 1, 2, 2)
    coords = soft_argmax(flat_softmax(logits))
    torch.testing.assert_close(coords, torch.tensor([[[0.25, 0.25]]]), atol=1e-7, rtol=0)
    torch.testing.assert_close(debias_coordinates(coords, logits), torch.tensor([[[1 / 6, 1 / 6]]]), atol=1e-7, rtol=0)


def test_debias_peaked_map_removes_the_background_pull():
    # 1x2 map, logits [ln 3, 0]: C = 4, p = [3/4, 1/4], x = 1/4 * 1/2 = 1/8 -> 4/3 * (1/8 - 1/8) = 0 (the peak);
    # y = 0 -> 4/3 * (0 - 1/8) = -1/6.
    logits = torch.tensor([[[[math.log(3.0), 0.0]]]])
    coords = soft_argmax(flat_softmax(logits))
    torch.testing.assert_close(coords, torch.tensor([[[0.125, 0.0]]]), atol=1e-7, rtol=0)
    torch.testing.assert_close(debias_coordinates(coords, logits), torch.tensor([[[0.0, -1 / 6]]]), atol=1e-7, rtol=0)


def test_debias_uses_logits_without_beta():
    # The correction's C is sum exp(logits) even when the softmax used beta * logits (quirk 4 of the golden README).
    logits = torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(2))
    coords = soft_argmax(flat_softmax(logits, beta=10.0))
    total = logits.flatten(-2).exp().sum(-1, keepdim=True)
    expected = total / (total - 1) * (coords - 1 / (2 * total))
    torch.testing.assert_close(debias_coordinates(coords, logits), expected, atol=1e-6, rtol=0)


def test_debias_large_logits_stay_finite():
    # exp(100) overflows float32; the logsumexp form gives C/(C-1) -> 1 and 1/(2C) -> 0 instead of NaN.
    logits = torch.zeros(1, 1, 4, 4)
    logits[0, 0, 1, 2] = 100.0
    coords = soft_argmax(flat_softmax(logits))
    debiased = debias_coordinates(coords, logits)
    torch.testing.assert_close(debiased, coords, atol=1e-7, rtol=0)
    torch.testing.assert_close(debiased, torch.tensor([[[2 / 4, 1 / 4]]]), atol=1e-7, rtol=0)


def test_debias_gradient_matches_finite_differences():
    logits = torch.randn(1, 2, 3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    logits.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: debias_coordinates(soft_argmax(flat_softmax(x, 10.0)), x), (logits,))


# ---------------------------------------------------------------- losses


def test_js_of_identical_maps_is_zero():
    heatmaps = flat_softmax(torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(4)))
    assert js_divergence_loss(heatmaps, heatmaps.clone(), torch.ones(2, 3)).item() == pytest.approx(0.0, abs=1e-7)


def test_js_of_disjoint_one_hot_maps_is_log_two():
    # p = delta_a, t = delta_b, m = (p + t) / 2: JS = 1/2 [1 * ln 2] + 1/2 [1 * ln 2] = ln 2 per map.
    pred = torch.cat([one_hot(3, 3, 0, 0), one_hot(3, 3, 1, 1)], dim=0)  # B = 2
    target = torch.cat([one_hot(3, 3, 2, 2), one_hot(3, 3, 0, 1)], dim=0)
    # summed over B = 2 maps (2 ln 2), divided by B.
    assert js_divergence_loss(pred, target).item() == pytest.approx(math.log(2.0), rel=1e-6)
    weights = torch.tensor([[1.0], [0.0]])
    assert js_divergence_loss(pred, target, weights).item() == pytest.approx(math.log(2.0) / 2, rel=1e-6)


def test_js_gradients_are_finite_with_zero_weights_and_zero_targets():
    logits = torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(5), requires_grad=True)
    target = torch.zeros(2, 3, 4, 4)
    target[:, :, 1, 1] = 1.0
    weights = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    loss = js_divergence_loss(flat_softmax(logits), target, weights)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()
    assert logits.grad[0, 1].abs().max().item() == 0.0  # a weight-0 keypoint gets no gradient


def test_heatmap_mse_hand_computed():
    pred = torch.zeros(1, 2, 2, 2)
    target = torch.zeros(1, 2, 2, 2)
    target[0, :, 0, 1] = 1.0
    # weight 2 on keypoint 0, 0 on keypoint 1: mean over 1*2*2*2 = 8 elements of w*(p-t)^2 = 2 / 8.
    loss = heatmap_mse_loss(pred, target, torch.tensor([[2.0, 0.0]]))
    assert loss.item() == pytest.approx(0.25, abs=1e-7)
    assert heatmap_mse_loss(pred, target).item() == pytest.approx(2 / 8, abs=1e-7)


def test_smooth_l1_hand_computed():
    pred = torch.tensor([[[0.0, 0.0], [0.3, 0.3]]])
    target = torch.tensor([[[0.5, 2.0], [0.9, 0.9]]])
    # keypoint 0: 0.5 * 0.5^2 = 0.125 and 2 - 0.5 = 1.5; keypoint 1 weight 0; mean over 1*2*2 = 4 terms.
    loss = smooth_l1_coordinate_loss(pred, target, torch.tensor([[1.0, 0.0]]))
    assert loss.item() == pytest.approx((0.125 + 1.5) / 4, abs=1e-7)


# ---------------------------------------------------------------- bad input


def test_bad_inputs_raise_clear_errors():
    maps = torch.zeros(2, 3, 4, 4)
    with pytest.raises(ValueError, match="target_heatmaps"):
        js_divergence_loss(maps, torch.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match="weights must have shape"):
        heatmap_mse_loss(maps, maps, torch.ones(2, 4))
    with pytest.raises(ValueError, match="target_coords"):
        smooth_l1_coordinate_loss(torch.zeros(2, 3, 2), torch.zeros(2, 4, 2))
    with pytest.raises(ValueError, match="coords must have shape"):
        debias_coordinates(torch.zeros(2, 4, 2), maps)
    with pytest.raises(ValueError, match="logits"):
        flat_softmax(torch.zeros(5))
    with pytest.raises(TypeError, match="heatmaps must be a torch.Tensor"):
        soft_argmax([[0.0]])
