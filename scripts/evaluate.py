#!/usr/bin/env python
"""`hfpose evaluate` (see `hfpose evaluate --help`): COCO OKS AP/AR of a saved model.

    python scripts/evaluate.py MODEL_DIR --data-root ../shared/data/coco-mini [--bbox-file dets.json] [--output r.json]

Multi-process: `accelerate launch scripts/evaluate.py ...` shards the images and gathers the predictions.
"""

import sys

from hfpose.cli import main as cli_main


def main(argv=None) -> int:
    return cli_main(["evaluate", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
