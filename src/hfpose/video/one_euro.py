# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""The One-Euro filter: a first-order low-pass filter whose cutoff rises with the signal's speed.

Source: G. Casiez, N. Roussel and D. Vogel, "1 € Filter: A Simple Speed-based Low-pass Filter for Noisy Input in
Interactive Systems", CHI 2012 (Eqs. 1-5 and the algorithm of its appendix; the derivative is taken against the
previous *filtered* value, as in the appendix and the authors' 2019 reference code).

Glossary:
    T_e: sampling period in seconds (``1 / frequency``; for a video, one over its frame rate).
    cutoff f_c (Hz): ``tau = 1 / (2 pi f_c)`` is the time constant of the low-pass filter.
    alpha: smoothing factor of one step, ``alpha = 1 / (1 + tau / T_e)`` (Eq. 2), in ``(0, 1]``.

One step, for every element of the signal independently (x_i the raw value, X_i the filtered one):

    dx_i = (x_i - X_{i-1}) / T_e                          speed (units per second)
    dX_i = alpha(d_cutoff) dx_i + (1 - alpha(d_cutoff)) dX_{i-1}
    f_c  = min_cutoff + beta |dX_i|                        Eq. 5
    X_i  = alpha(f_c) x_i + (1 - alpha(f_c)) X_{i-1}       Eq. 1

with ``X_0 = x_0`` and ``dX_0 = 0``.

Lag bounds (derived here, tested in ``tests/video/test_one_euro.py``). Write ``tau_0 = 1 / (2 pi min_cutoff)`` and
``alpha_0 = alpha(min_cutoff) = T_e / (T_e + tau_0)``. Since ``f_c >= min_cutoff``, every step has
``alpha_i >= alpha_0``.

* Ramp ``x_i = v i T_e`` (speed ``v``): the lag ``e_i = x_i - X_i`` obeys ``e_i = (1 - alpha_i)(e_{i-1} + v T_e)``
  with ``e_0 = 0``. If ``0 <= e_{i-1} <= v tau_0`` then ``0 <= e_i <= (1 - alpha_0)(v tau_0 + v T_e) = v tau_0``, so
  **the lag never exceeds ``v tau_0 = v / (2 pi min_cutoff)``** for any ``beta >= 0`` (a delay of at most ``tau_0``
  seconds). With ``beta = 0`` it equals ``v tau_0 (1 - (1 - alpha_0)^i)`` exactly.
* Step of height ``H`` at sample ``k``: ``X`` stays between the two levels (each step is a convex combination) and
  ``|x_{k+n} - X_{k+n}| <= H (1 - alpha_0)^(n + 1)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["OneEuroFilter", "OneEuroParameters", "smoothing_factor"]


def smoothing_factor(cutoff, period: float):
    """Smoothing factor ``alpha = 1 / (1 + tau / T_e)`` with ``tau = 1 / (2 pi cutoff)`` (Casiez et al. 2012, Eq. 2).

    Args:
        cutoff (`float` or `np.ndarray`): cutoff frequency in Hz, > 0.
        period (`float`): sampling period ``T_e`` in seconds, > 0.

    Returns:
        `float` or `np.ndarray` (the shape of `cutoff`): alpha in ``(0, 1)``.
    """
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff, dtype=np.float64))
    alpha = 1.0 / (1.0 + tau / period)
    return float(alpha) if np.ndim(alpha) == 0 else alpha


@dataclass(frozen=True)
class OneEuroParameters:
    """Parameters of the One-Euro filter for keypoints in image pixels.

    Args:
        min_cutoff (`float`, Hz): cutoff at rest; lower means less jitter and more lag (at most
            ``speed / (2 pi min_cutoff)`` pixels behind). Default 1.0 Hz.
        beta (`float`, 1/pixel): cutoff increase per pixel/second of filtered speed. Default 0.05: a keypoint moving
            at 200 px/s is filtered at 11 Hz (lag under 3 px).
        d_cutoff (`float`, Hz): cutoff of the speed estimate; 1.0 Hz as recommended by Casiez et al. (Sec. 4).

    Raises:
        ValueError: if a cutoff is not positive or beta is negative (names the field).
    """

    min_cutoff: float = 1.0
    beta: float = 0.05
    d_cutoff: float = 1.0

    def __post_init__(self):
        for name in ("min_cutoff", "d_cutoff"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"OneEuroParameters.{name} must be a positive number of Hz; got {value!r}")
        if not (isinstance(self.beta, (int, float)) and math.isfinite(self.beta) and self.beta >= 0):
            raise ValueError(f"OneEuroParameters.beta must be >= 0; got {self.beta!r}")


class OneEuroFilter:
    """One-Euro filter of an array signal sampled at a fixed frequency (every element filtered independently).

    Args:
        frequency (`float`, Hz): samples per second (a video's frame rate).
        parameters (`OneEuroParameters`, *optional*): min_cutoff, beta, d_cutoff; the defaults when omitted.

    Call it with each new sample (`np.ndarray` of any fixed shape, e.g. keypoints ``(K, 2)`` in image pixels); it
    returns the filtered sample, float64, same shape. Non-finite entries pass through and leave that element's
    state unchanged.

    Raises:
        ValueError: if `frequency` is not positive, or a sample's shape differs from the first one.
    """

    def __init__(self, frequency: float, parameters: OneEuroParameters | None = None):
        if not (isinstance(frequency, (int, float)) and math.isfinite(frequency) and frequency > 0):
            raise ValueError(f"OneEuroFilter frequency must be a positive number of Hz; got {frequency!r}")
        self.parameters = parameters or OneEuroParameters()
        self.period = 1.0 / float(frequency)
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None

    def __call__(self, sample) -> np.ndarray:
        sample = np.array(sample, dtype=np.float64)
        finite = np.isfinite(sample)
        if self._value is None:
            self._value = np.where(finite, sample, np.nan)
            self._speed = np.zeros_like(sample)
            return sample
        if sample.shape != self._value.shape:
            raise ValueError(f"OneEuroFilter got a sample of shape {sample.shape} after {self._value.shape}")
        p = self.parameters
        fresh = finite & ~np.isfinite(self._value)  # first finite value of an element: starts its state
        update = finite & ~fresh
        previous = np.where(update, self._value, 0.0)
        speed = np.where(update, (np.where(finite, sample, 0.0) - previous) / self.period, 0.0)
        alpha_d = smoothing_factor(p.d_cutoff, self.period)
        speed = alpha_d * speed + (1.0 - alpha_d) * self._speed
        alpha = smoothing_factor(p.min_cutoff + p.beta * np.abs(speed), self.period)
        filtered = alpha * np.where(finite, sample, 0.0) + (1.0 - alpha) * previous
        self._speed = np.where(update, speed, np.where(fresh, 0.0, self._speed))
        self._value = np.where(update, filtered, np.where(fresh, sample, self._value))
        return np.where(update, filtered, sample)
