"""The One-Euro filter on hand-computed inputs, and its lag bounds (derived in `hfpose.video.one_euro`)."""

import math

import numpy as np
import pytest

from hfpose.video.one_euro import OneEuroFilter, OneEuroParameters, smoothing_factor

# 10 Hz sampling and a cutoff of 1/(2 pi) Hz give tau = 1 s, T_e = 0.1 s, alpha = 1 / (1 + 10) = 1/11.
SLOW = 1.0 / (2.0 * math.pi)


def test_smoothing_factor_by_hand():
    assert smoothing_factor(SLOW, 0.1) == pytest.approx(1.0 / 11.0, rel=1e-12)
    assert smoothing_factor(1.0, 1.0 / 30.0) == pytest.approx(1.0 / (1.0 + 30.0 / (2.0 * math.pi)), rel=1e-12)
    np.testing.assert_allclose(smoothing_factor(np.array([SLOW, 10 * SLOW]), 0.1), [1 / 11, 1 / 2], rtol=1e-12)


def test_fixed_cutoff_steps_by_hand():
    smoother = OneEuroFilter(10.0, OneEuroParameters(min_cutoff=SLOW, beta=0.0, d_cutoff=SLOW))
    assert smoother(0.0) == 0.0
    assert smoother(11.0) == pytest.approx(1.0, rel=1e-12)  # 11/11 + 10/11 * 0
    assert smoother(11.0) == pytest.approx(1.0 + 10.0 / 11.0, rel=1e-12)  # 11/11 + 10/11 * 1


def test_speed_raises_the_cutoff_by_hand():
    smoother = OneEuroFilter(10.0, OneEuroParameters(min_cutoff=SLOW, beta=1.0, d_cutoff=SLOW))
    smoother(0.0)
    # speed (11 - 0) / 0.1 = 110, filtered 110/11 = 10; cutoff 1/(2 pi) + 10, tau = 1 / (1 + 20 pi)
    alpha = 1.0 / (1.0 + (1.0 / (1.0 + 20.0 * math.pi)) / 0.1)
    assert smoother(11.0) == pytest.approx(11.0 * alpha, rel=1e-12)


def test_elements_are_independent_and_nan_passes_through():
    smoother = OneEuroFilter(10.0, OneEuroParameters(min_cutoff=SLOW, beta=0.0, d_cutoff=SLOW))
    smoother(np.array([[0.0, 5.0], [np.nan, 1.0]]))
    out = smoother(np.array([[11.0, 5.0], [22.0, np.nan]]))
    # element (1, 0) starts its state at 22; element (1, 1) keeps its state (1) and passes NaN through
    np.testing.assert_allclose(out[0], [1.0, 5.0], rtol=1e-12)
    assert out[1, 0] == 22.0 and np.isnan(out[1, 1])
    out = smoother(np.array([[11.0, 5.0], [22.0, 12.0]]))
    np.testing.assert_allclose(out, [[1.0 + 10.0 / 11.0, 5.0], [22.0, 2.0]], rtol=1e-12)


@pytest.mark.parametrize("beta", [0.0, 0.01, 0.05, 1.0])
def test_ramp_lag_never_exceeds_speed_times_tau(beta):
    """On x_i = v i T_e the lag e_i = x_i - X_i stays in [0, v tau_0], tau_0 = 1 / (2 pi min_cutoff), for any
    beta >= 0; with beta = 0 it is exactly v tau_0 (1 - (1 - alpha_0)^i) and tends to the bound."""
    frame_rate, speed, min_cutoff = 30.0, 300.0, 1.0  # 300 px/s, 10 px per frame
    smoother = OneEuroFilter(frame_rate, OneEuroParameters(min_cutoff=min_cutoff, beta=beta, d_cutoff=1.0))
    steps = np.arange(150)
    ramp = speed * steps / frame_rate
    lag = ramp - np.array([smoother(x) for x in ramp])
    bound = speed / (2.0 * math.pi * min_cutoff)  # 47.75 px
    assert lag.min() >= -1e-9 and lag.max() <= bound + 1e-9
    if beta == 0.0:
        alpha = smoothing_factor(min_cutoff, 1.0 / frame_rate)
        np.testing.assert_allclose(lag, bound * (1.0 - (1.0 - alpha) ** steps), rtol=1e-9, atol=1e-9)
        assert lag[-1] > 0.99 * bound  # the bound is reached, not loose
    else:
        # at steady state the filtered speed is at least v, so the cutoff is at least min_cutoff + beta v and the
        # lag at most v / (2 pi (min_cutoff + beta v))
        assert lag[-1] <= speed / (2.0 * math.pi * (min_cutoff + beta * speed)) + 1e-6


def test_step_decays_geometrically_without_overshoot():
    frame_rate, height, min_cutoff = 30.0, 100.0, 1.0
    alpha = smoothing_factor(min_cutoff, 1.0 / frame_rate)
    for beta in (0.0, 0.05):
        smoother = OneEuroFilter(frame_rate, OneEuroParameters(min_cutoff=min_cutoff, beta=beta))
        signal = np.r_[np.zeros(10), np.full(60, height)]
        filtered = np.array([smoother(x) for x in signal])
        assert filtered.min() >= 0.0 and filtered.max() <= height
        error = height - filtered[10:]
        n = np.arange(len(error))
        assert np.all(error <= height * (1.0 - alpha) ** (n + 1) + 1e-9)
        if beta == 0.0:
            np.testing.assert_allclose(error, height * (1.0 - alpha) ** (n + 1), rtol=1e-9)


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match="min_cutoff must be a positive"):
        OneEuroParameters(min_cutoff=0.0)
    with pytest.raises(ValueError, match="beta must be >= 0"):
        OneEuroParameters(beta=-1.0)
    with pytest.raises(ValueError, match="frequency must be a positive"):
        OneEuroFilter(0.0)
    smoother = OneEuroFilter(30.0)
    smoother(np.zeros((17, 2)))
    with pytest.raises(ValueError, match=r"shape \(16, 2\) after \(17, 2\)"):
        smoother(np.zeros((16, 2)))
