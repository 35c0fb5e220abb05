#!/usr/bin/env python
"""Train a top-down hfpose model from a flat YAML recipe.

    accelerate launch scripts/train.py configs/rle/td-reg_res50_rle-8xb64-210e_coco-256x192.yaml [key=value ...]

Overrides use the recipe's keys (`epochs=2 batch_size=8 data_root=/data/coco model.num_keypoints=...`). Training
resumes from the newest complete checkpoint in `<output_dir>/checkpoints` unless `--no-resume` is given.
"""

import argparse
import sys

from hfpose.training import RecipeError, TrainingRecipe, train


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipe", help="path to a recipe YAML under configs/")
    parser.add_argument("overrides", nargs="*", help="key=value overrides of recipe keys")
    parser.add_argument("--no-resume", action="store_true", help="ignore existing checkpoints")
    args = parser.parse_args(argv)
    try:
        recipe = TrainingRecipe.from_yaml(args.recipe, args.overrides)
    except RecipeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    result = train(recipe, resume=not args.no_resume)
    print(f"model saved to {result.model_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
