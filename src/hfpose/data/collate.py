# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Collate per-example dicts from the hfpose transforms into a batch of `torch` tensors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Number

import numpy as np

__all__ = ["default_collate", "collate_fn"]


def _stack(key: str, values: list):
    import torch

    first = values[0]
    if isinstance(first, tuple) and first and all(isinstance(v, (np.ndarray, torch.Tensor)) for v in first):
        # per-resolution targets (bottom-up): collate each position on its own -> tuple of tensors
        if any(not isinstance(value, tuple) or len(value) != len(first) for value in values):
            raise ValueError(f"field {key!r} holds tuples of different lengths across the batch")
        return tuple(_stack(f"{key}[{i}]", [value[i] for value in values]) for i in range(len(first)))
    if isinstance(first, torch.Tensor):
        return torch.stack(values)
    if isinstance(first, (np.ndarray, np.generic, Number)) or (
        isinstance(first, Sequence) and not isinstance(first, (str, bytes))
    ):
        try:
            array = np.stack([np.asarray(value) for value in values])
        except ValueError as error:
            shapes = sorted({np.asarray(value).shape for value in values})
            raise ValueError(f"cannot stack field {key!r}: shapes differ across the batch ({shapes})") from error
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        if array.dtype.kind in "US":
            return array.tolist()
        return torch.from_numpy(np.ascontiguousarray(array))
    return list(values)


def default_collate(samples) -> dict:
    """Stack a list of example dicts (or one dict of per-example lists, as the batched transforms return) into
    a dict of `torch.Tensor`.

    Arrays and numbers are stacked along a new first axis (float64 is cast to float32; integers keep their width,
    bools stay bool); a field holding a tuple of arrays (the per-resolution bottom-up targets) becomes a tuple of
    stacked tensors; strings and other objects are returned as lists. Every example must have the same fields.

    Raises:
        ValueError: if a field's shapes differ across examples (names the field) or the examples' fields differ.
        TypeError: if ``samples`` is neither a list of dicts nor a dict of lists.
    """
    if isinstance(samples, Mapping):
        columns = {key: list(value) for key, value in samples.items()}
    elif isinstance(samples, Sequence) and samples and all(isinstance(s, Mapping) for s in samples):
        keys = list(samples[0].keys())
        for index, sample in enumerate(samples):
            if set(sample.keys()) != set(keys):
                raise ValueError(f"sample {index} has fields {sorted(sample.keys())} but sample 0 has {sorted(keys)}")
        columns = {key: [sample[key] for sample in samples] for key in keys}
    else:
        raise TypeError("default_collate expects a non-empty list of dicts or a dict of lists")
    return {key: _stack(key, values) for key, values in columns.items()}


collate_fn = default_collate
