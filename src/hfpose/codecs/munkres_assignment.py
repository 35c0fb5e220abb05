# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Minimum-cost assignment that breaks ties as munkres 3.0.0 does, for associative-embedding grouping.

Why this exists: MMPose 0.29's bottom-up parser matches keypoint candidates to people with ``munkres.Munkres``, and the
golden fixtures were made with munkres 3.0.0. Associative-embedding costs (``round(d) * 100 - value``) often admit
several optimal assignments, and which one is picked decides which person a keypoint joins; scipy's
``linear_sum_assignment`` picks differently on the stored cases. munkres is a dev dependency only (the tests compare
with it), so `min_cost_assignment` re-creates its two solvers and their tie-breaking (see its docstring); the rest of
hfpose treats it as "a minimum-cost assignment".
"""

from __future__ import annotations

import numpy as np

__all__ = ["min_cost_assignment"]

# Below this many cells munkres 3.0.0 uses its pure-Python solver, from it on its C kernel.
_MUNKRES_NATIVE_MIN_CELLS = 16


def min_cost_assignment(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-cost assignment with the tie-breaking of ``munkres.Munkres().compute`` (munkres 3.0.0).

    Every row is matched when ``rows <= columns`` (every column otherwise; the problem is solved transposed).
    The reference fixtures were made with munkres 3.0.0, and associative-embedding costs
    (``round(d) * 100 - value``) often admit several optimal assignments, so the choice among equal-cost
    assignments changes which people keypoints join. scipy's ``linear_sum_assignment`` picks differently on the
    stored cases; this function reproduces munkres 3.0.0, which uses two solvers of the Hungarian method:

    * both start warm: row ``i`` in order gets potential ``u_i = min_j cost_ij`` and takes the first still-free
      column with ``cost_ij == u_i``;
    * fewer than 16 cells: each unmatched row is matched by the O(n^2 m) Dijkstra-like search over reduced costs
      ``(cost_ij - u_i) - v_j`` (the "e-maxx" formulation), extending to the first column of minimal reduced cost
      and keeping the earlier predecessor on equal reduced costs (:func:`_augment_dense_small`);
    * 16 cells or more: each unmatched row is matched by the shortest-augmenting-path search of Crouse (2016),
      scanning the unvisited columns in a list that starts reversed and shrinks by swap-removal, and preferring a
      free column among equally short ones (:func:`_augment_shortest_path`).

    Args:
        cost: float ``(R, C)`` finite costs.

    Returns:
        ``rows``, ``cols`` int64 arrays of the matched pairs, sorted by row.

    Raises:
        ValueError: if ``cost`` is not 2-D or has a non-finite value.

    Source: Kuhn, "The Hungarian method for the assignment problem", 1955; Jonker & Volgenant, Computing 38, 1987;
    Crouse, "On implementing 2D rectangular assignment algorithms", IEEE TAES 2016; munkres 3.0.0
    (``munkres/_core.py`` ``_solve_raw`` and ``munkres/_native/lap.c``, Apache-2.0), whose choices among
    equal-cost assignments this reproduces.
    """
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2:
        raise ValueError(f"cost must be a 2-D matrix; got shape {cost.shape}")
    if not np.all(np.isfinite(cost)):
        raise ValueError("cost must be finite")
    transposed = cost.shape[0] > cost.shape[1]
    if transposed:
        cost = np.ascontiguousarray(cost.T)
    n, m = cost.shape
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    # Warm start: row reduction, then greedy matching of each row to its first free zero-reduced column.
    u = np.zeros(n)
    row_of_col = np.full(m, -1, dtype=np.int64)
    col_of_row = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        u[i] = cost[i].min()
        free = np.flatnonzero((row_of_col == -1) & (cost[i] == u[i]))
        if free.size:
            row_of_col[free[0]] = i
            col_of_row[i] = free[0]
    augment = _augment_dense_small if n * m < _MUNKRES_NATIVE_MIN_CELLS else _augment_shortest_path
    augment(cost, u, row_of_col, col_of_row)
    rows = np.arange(n, dtype=np.int64)
    cols = col_of_row.astype(np.int64)
    if transposed:
        rows, cols = cols, rows
    order = np.argsort(rows, kind="stable")
    return rows[order], cols[order]


def _augment_dense_small(cost: np.ndarray, u: np.ndarray, row_of_col: np.ndarray, col_of_row: np.ndarray) -> None:
    """Match the unmatched rows in place: Hungarian search with potentials over a virtual start column ``m``."""
    n, m = cost.shape
    v = np.zeros(m + 1)
    owner = np.append(row_of_col, -1)  # owner[m] is the row being matched
    way = np.zeros(m + 1, dtype=np.int64)
    for i in np.flatnonzero(col_of_row < 0):
        owner[m] = i
        j0 = m
        min_reduced = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, dtype=bool)
        while True:
            used[j0] = True
            i0 = owner[j0]
            reduced = cost[i0] - u[i0] - v[:m]
            better = ~used[:m] & (reduced < min_reduced[:m])
            min_reduced[:m][better] = reduced[better]
            way[:m][better] = j0
            candidates = np.where(used[:m], np.inf, min_reduced[:m])
            j1 = int(np.argmin(candidates))  # first column of minimal reduced cost
            delta = candidates[j1]
            u[owner[used]] += delta
            v[used] -= delta
            min_reduced[~used] -= delta
            j0 = j1
            if owner[j0] == -1:
                break
        while j0 != m:  # flip the augmenting path
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    row_of_col[:] = owner[:m]
    for j in np.flatnonzero(row_of_col >= 0):
        col_of_row[row_of_col[j]] = j


def _augment_shortest_path(cost: np.ndarray, u: np.ndarray, row_of_col: np.ndarray, col_of_row: np.ndarray) -> None:
    """Match the unmatched rows in place: Crouse's shortest augmenting path with dual potentials ``u``, ``v``."""
    n, m = cost.shape
    v = np.zeros(m)
    shortest = np.empty(m)
    path = np.zeros(m, dtype=np.int64)
    for start in range(n):
        if col_of_row[start] >= 0:
            continue
        remaining = np.arange(m - 1, -1, -1, dtype=np.int64)  # unvisited columns, in scan order
        num_remaining = m
        shortest.fill(np.inf)
        visited_cols = []
        min_value = 0.0
        i = start
        sink = -1
        while sink < 0:
            columns = remaining[:num_remaining]
            reduced = ((min_value + cost[i, columns]) - u[i]) - v[columns]
            better = reduced < shortest[columns]
            path[columns[better]] = i
            shortest[columns[better]] = reduced[better]
            lengths = shortest[columns]
            lowest = lengths.min()
            ties = np.flatnonzero(lengths == lowest)
            free_ties = ties[row_of_col[columns[ties]] < 0]
            index = free_ties[-1] if free_ties.size else ties[0]  # the last free one scanned, else the first
            min_value = lowest
            j = remaining[index]
            if row_of_col[j] < 0:
                sink = j
            else:
                i = row_of_col[j]
                visited_cols.append(j)
                num_remaining -= 1
                remaining[index] = remaining[num_remaining]
        u[start] += min_value
        for j in visited_cols:
            u[row_of_col[j]] += min_value - shortest[j]
            v[j] -= min_value - shortest[j]
        j = sink
        while True:  # flip the augmenting path
            i = path[j]
            row_of_col[j] = i
            col_of_row[i], j = j, col_of_row[i]
            if i == start:
                break
