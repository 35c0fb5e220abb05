#!/usr/bin/env python
"""The main job (`make demo`): train a tiny RLE model on coco-mini, evaluate COCO AP, run the pipeline on a photo.

Writes to ``--output-dir`` (default ``outputs/demo``):
    metrics.json     COCO OKS AP/AR on the val split (ground-truth boxes, flip test), plus timing;
    prediction.png   the pipeline's skeletons drawn on a val image;
    loss_curve.png   training loss per optimizer step;
    model/           the trained model + image processor (`pipeline("keypoint-detection", model=...)` loads it).

Eighty training images are far too few to learn pose: expect a COCO AP near 0 (see README). The point is that
every stage of the real recipe runs end to end on real images in a few minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = os.environ.get("HFPOSE_DATA", str(REPO / ".." / "shared" / "data"))


def plot_loss(history_file: Path, output: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = [json.loads(line) for line in history_file.read_text().splitlines() if line.strip()]
    steps = [r["step"] for r in records]
    losses = [r["loss"] for r in records]
    figure, axis = plt.subplots(figsize=(6, 3.5), dpi=120)
    axis.plot(steps, losses, lw=1)
    axis.set_xlabel("optimizer step")
    axis.set_ylabel("RLE loss")
    axis.set_title("hfpose demo: RLE (tiny ResNet) on coco-mini")
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(output)
    plt.close(figure)


def draw_prediction(model_dir: Path, data_root: Path, output: Path) -> dict:
    import cv2
    import numpy as np
    from transformers import pipeline

    import hfpose  # noqa: F401  (registers the task)
    from hfpose.training.evaluation_loop import coco_eval_images
    from hfpose.visualization import draw_keypoints

    records = coco_eval_images(data_root / "annotations" / "person_keypoints_val2017.json", data_root / "val2017")
    # The val image with the most people among those whose people are large enough to see.
    record = max(records, key=lambda r: (sum(b[3] > 150 for b in r["boxes"]), len(r["boxes"])))
    estimator = pipeline("keypoint-detection", model=str(model_dir))
    persons = estimator(str(record["path"]), boxes=[list(map(float, b)) for b in record["boxes"]])
    image = cv2.cvtColor(cv2.imread(str(record["path"])), cv2.COLOR_BGR2RGB)
    skeleton = estimator.model.config.skeleton
    as_arrays = [  # the pipeline's per-keypoint dicts -> (K, 2) keypoints and (K,) scores
        {"keypoints": np.array([[k["x"], k["y"]] for k in p["keypoints"]]), "scores": np.array([k["score"] for k in p["keypoints"]])}
        for p in persons
    ]
    drawn = draw_keypoints(image, as_arrays, skeleton=skeleton, keypoint_threshold=0.0)
    cv2.imwrite(str(output), cv2.cvtColor(np.asarray(drawn), cv2.COLOR_RGB2BGR))
    return {"image": record["path"].name, "num_persons": len(persons)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=str(Path(DEFAULT_DATA) / "coco-mini"), help="COCO-layout root")
    parser.add_argument("--output-dir", default="outputs/demo")
    parser.add_argument("--recipe", default=str(REPO / "configs" / "demo" / "rle_tiny_coco-mini.yaml"))
    parser.add_argument("overrides", nargs="*", help="key=value recipe overrides")
    args = parser.parse_args(argv)

    from hfpose.training import TrainingRecipe, train

    data_root = Path(args.data_root)
    if not (data_root / "annotations" / "person_keypoints_train2017.json").is_file():
        print(f"error: no COCO annotations under {data_root} (set --data-root or HFPOSE_DATA)", file=sys.stderr)
        return 2
    output_dir = Path(args.output_dir)
    recipe = TrainingRecipe.from_yaml(
        args.recipe, [f"data_root={data_root}", f"output_dir={output_dir}", *args.overrides]
    )
    start = time.time()
    result = train(recipe)  # resumes from outputs/demo/checkpoints if an earlier run was interrupted
    train_seconds = time.time() - start
    plot_loss(output_dir / "history.jsonl", output_dir / "loss_curve.png")
    shown = draw_prediction(result.model_dir, data_root, output_dir / "prediction.png")
    metrics = {**result.metrics, "train_seconds": round(train_seconds, 1), "optimizer_steps": result.global_step,
               "prediction_image": shown}
    (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(json.dumps(metrics, indent=2))
    print(f"wrote {output_dir}/metrics.json, prediction.png, loss_curve.png and model/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
