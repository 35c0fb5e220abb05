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

    from accelerate import Accelerator
    from transformers import AutoImageProcessor, AutoModelForPoseEstimation

    import hfpose  # noqa: F401
    from hfpose.evaluation import format_stats_table
    from hfpose.training.evaluation_loop import (
        coco_eval_images,
        coco_images,
        evaluate_coco,
        predict_bottomup,
        predict_topdown,
    )

    model_dir = Path(args.model_dir)
    if not (model_dir / "config.json").is_file():
        print(f"error: {model_dir} has no config.json (not a saved model directory)", file=sys.stderr)
        return 2
    accelerator = Accelerator()
    model = AutoModelForPoseEstimation.from_pretrained(model_dir).to(accelerator.device)
    processor = AutoImageProcessor.from_pretrained(model_dir)
    data_root = Path(args.data_root)
    ann_file = Path(args.ann_file or data_root / "annotations" / f"person_keypoints_{args.split}.json")
    bottom_up = type(processor).__name__ == "BottomUpPoseImageProcessor"
    if bottom_up:
        if args.bbox_file:
            print("error: --bbox-file is for top-down models; bottom-up models find people themselves", file=sys.stderr)
            return 2
        records = coco_images(ann_file, data_root / args.split)
        predictions = predict_bottomup(model, processor, records, flip_test=not args.no_flip_test,
                                       accelerator=accelerator, progress=True)
    else:
        records = coco_eval_images(ann_file, data_root / args.split, bbox_file=args.bbox_file)
        predictions = predict_topdown(model, processor, records, flip_test=not args.no_flip_test,
                                      batch_size=args.batch_size, accelerator=accelerator, progress=True)
    if not accelerator.is_main_process:
        return 0
    default_mode = {"hfpose_rle": "bbox_rle"}.get(model.config.model_type, "bbox" if bottom_up else "bbox_keypoint")
    score_mode = args.score_mode or default_mode
    stats = evaluate_coco(predictions, ann_file, score_mode=score_mode, nms_mode=args.nms_mode)
    print(format_stats_table(stats))
    output = Path(args.output or model_dir / f"eval_{args.split}.json")
    output.write_text(json.dumps({"model_dir": str(model_dir), "split": args.split, "bbox_file": args.bbox_file,
                                  "flip_test": not args.no_flip_test, "score_mode": score_mode,
                                  "num_predictions": len(predictions), "stats": stats}, indent=2))
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
