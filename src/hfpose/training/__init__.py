"""Recipes, schedules, checkpoints and the `accelerate` training loop."""

from .recipe import RecipeError, TrainingRecipe

__all__ = ["RecipeError", "TrainingRecipe", "train"]


def train(*args, **kwargs):
    """See `hfpose.training.loop.train` (imported lazily to keep `import hfpose.training` light)."""
    from .loop import train as _train

    return _train(*args, **kwargs)
