#!/usr/bin/env python
"""`make bench`: hfpose speed and memory side by side with its peers; see `benchmarks/pose_benchmark.py` and
docs/performance.md. Not part of the installed library (as timm's and transformers' benchmarks).

    python benchmarks/run.py --output-dir outputs/bench            # full run, 1 and 2 threads (< 15 min, 2 cores)
    python benchmarks/run.py --output-dir /tmp/b --quick --threads 1 # smoke run with tiny models
"""

import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch is imported anywhere (workers inherit it)
os.environ.setdefault("HF_HUB_OFFLINE", "1")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pose_benchmark import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
