#!/usr/bin/env python
"""`make demo`: the same as `hfpose demo` (see `hfpose.demo`): train a tiny RLE model on coco-mini, evaluate COCO AP,
draw a prediction into ``--output-dir`` (default ``outputs/demo``).

    python scripts/demo.py --data-root ../shared/data/coco-mini [--output-dir outputs/demo] [key=value ...]
"""

import sys

from hfpose.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", *sys.argv[1:]]))
