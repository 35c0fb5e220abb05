#!/usr/bin/env python
"""`make bench`: hfpose speed and memory side by side with its peers; see `hfpose.benchmark` and docs/performance.md.

    python scripts/benchmark.py --output-dir outputs/bench            # full run, 1 and 2 threads (< 15 min, 2 cores)
    python scripts/benchmark.py --output-dir /tmp/b --quick --threads 1 # smoke run with tiny models
"""

import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch is imported anywhere (workers inherit it)
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from hfpose.benchmark import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
