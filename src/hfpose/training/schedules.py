# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Learning-rate schedules of the MMPose recipes, as a per-optimizer-step multiplier for `LambdaLR`.

MMPose recipes use ``LinearLR(start_factor=0.001, by_epoch=False, begin=0, end=500)`` followed by
``MultiStepLR(milestones=[170, 200], gamma=0.1, by_epoch=True)``; mmengine multiplies the two factors.
"""

from __future__ import annotations

import bisect

__all__ = ["warmup_multistep_factor"]


def warmup_multistep_factor(
    step: int, warmup_steps: int, warmup_ratio: float, milestone_steps: list[int], gamma: float
) -> float:
    """lr multiplier at optimizer step ``step`` (0-based).

    Warm-up: linear from ``warmup_ratio`` at step 0 to 1 at ``warmup_steps`` (mmengine ``LinearLR``:
    ``ratio + (1 - ratio) * step / warmup_steps``). Decay: ``gamma ** (number of milestones <= step)``, milestones
    given in optimizer steps (epoch milestones × steps per epoch).
    """
    factor = gamma ** bisect.bisect_right(sorted(milestone_steps), step)
    if warmup_steps > 0 and step < warmup_steps:
        factor *= warmup_ratio + (1.0 - warmup_ratio) * step / warmup_steps
    return factor
