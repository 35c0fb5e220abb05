"""Counts of the generated cases each reliability property ran, and how each ended.

Every property body calls :func:`call` (or :func:`record`); the counts are printed at the end of the pytest run by
``tests/reliability/conftest.py`` and, when ``$HFPOSE_RELIABILITY_REPORT`` names a file, written there as JSON.

Outcomes: ``ok`` (returned a result that passed the property's invariant checks), ``ValueError`` / ``TypeError``
(rejected with a message naming the argument and index, also checked). Anything else is a test failure.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict

EXAMPLES = int(os.environ.get("HFPOSE_RELIABILITY_EXAMPLES", "200"))  # Hypothesis max_examples per property

STATS: dict[str, Counter] = defaultdict(Counter)
CORPUS: dict[str, str] = {}  # malformed-file case -> outcome
KILLS: dict[str, str] = {}  # kill point -> outcome


def record(name: str, outcome: str) -> None:
    STATS[name][outcome] += 1


def call(name: str, function, *args, names: str | None = None, **kwargs):
    """Run ``function(*args, **kwargs)``; return ``(result, None)`` or ``(None, error)`` for ValueError/TypeError.

    Args:
        name: the property's name in the report.
        names: regular expression the error message must match (the argument and index it has to name).
    """
    try:
        result = function(*args, **kwargs)
    except (ValueError, TypeError) as error:
        record(name, type(error).__name__)
        message = str(error)
        assert message, f"{name}: {type(error).__name__} without a message"
        if names is not None:
            assert re.search(names, message), f"{name}: error message {message!r} does not name {names!r}"
        return None, error
    record(name, "ok")
    return result, None
