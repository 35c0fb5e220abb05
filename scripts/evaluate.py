#!/usr/bin/env python
"""Evaluate a saved hfpose model: COCO OKS AP/AR (top-down on GT boxes or a detection `--bbox-file`; bottom-up on
whole images, with OKS-NMS as MMPose).

    python scripts/evaluate.py MODEL_DIR --data-root ../shared/data/coco-mini [--bbox-file dets.json] [--output r.json]

Prints the AP table (MMPose's stat names) and writes it as JSON (default `MODEL_DIR/eval_<split>.json`).
Multi-process: `accelerate launch scripts/evaluate.py ...` shards the images and gathers the predictions.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", help="directory written by save_pretrained (weights + preprocessor_config.json)")
    parser.add_argument("--data-root", required=True, help="COCO layout: annotations/person_keypoints_<split>.json, <split>/")
    parser.add_argument("--split", default="val2017")
    parser.add_argument("--ann-file", default=None)
    parser.add_argument("--bbox-file", default=None, help="COCO detection results json (MMPose's val bbox_file)")
    parser.add_argument("--no-flip-test", action="store_true")
    parser.add_argument("--score-mode", default=None, help="bbox_keypoint (default), bbox_rle (RLE models) or bbox")
    parser.add_argument("--nms-mode", default="oks_nms", choices=["oks_nms", "none"])
    parser.add_argument("--batch-size", type=int, default=8, help="images per forward pass")
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)

    from hfpose.evaluation import format_stats_table
    from hfpose.training.evaluation_loop import evaluate_saved_model

    try:
        report = evaluate_saved_model(
            args.model_dir, args.data_root, split=args.split, ann_file=args.ann_file, bbox_file=args.bbox_file,
            flip_test=not args.no_flip_test, score_mode=args.score_mode, nms_mode=args.nms_mode,
            batch_size=args.batch_size,
        )
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if report is None:  # not the main process
        return 0
    print(format_stats_table(report["stats"]))
    output = Path(args.output or Path(args.model_dir) / f"eval_{args.split}.json")
    output.write_text(json.dumps(report, indent=2))
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
