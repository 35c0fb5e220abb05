# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""The `accelerate` training loop (top-down and bottom-up methods).

Run it with ``accelerate launch scripts/train.py configs/<method>/<recipe>.yaml [key=value ...]``; the same code runs
single-process, multi-GPU (DDP) and 2-process CPU data parallel. Per epoch: shuffled training batches with the
recipe's augmentation, Adam with MMPose's warm-up + multi-step schedule, tensorboard logs and a ``history.jsonl`` on
the main process, an atomic checkpoint every ``checkpoint_interval`` epochs and, with ``checkpoint_steps``, every N
optimizer steps mid-epoch (resumed from the newest complete one, skipping the batches already seen, with per-example
augmentation streams so that the resumed run is bit-identical; see docs/reliability.md), a non-finite loss that stops
the run naming its step and images (or is skipped with ``skip_nonfinite``), and COCO AP / PCKh every
``val_interval`` epochs. At the end the model and its image processor
are saved with ``save_pretrained`` to ``<output_dir>/model``, which `pipeline("keypoint-detection", ...)` loads.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from ..file_modes import honour_umask
from ..progress import EpochReporter
from .checkpoints import TrainingState, latest_checkpoint, load_checkpoint, prune_checkpoints, save_checkpoint
from .distributed import check_process_group, lock_output_dir
from .recipe import RecipeError, TrainingRecipe
from .schedules import warmup_multistep_factor

__all__ = ["train", "TrainResult", "build_model", "build_image_processor"]

logger = logging.getLogger(__name__)


def is_bottom_up(recipe: TrainingRecipe) -> bool:
    """Whether the recipe's method is bottom-up (its declaration, `hfpose.models.get_method`).

    Raises:
        ValueError: if ``recipe.method`` is not a declared method.
    """
    from ..models import get_method

    return get_method(recipe.method).bottom_up


@dataclass
class TrainResult:
    output_dir: Path
    model_dir: Path
    global_step: int
    history: list[dict] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)


def build_model(recipe: TrainingRecipe):
    """The method's model with random weights (``init_from`` / ``pretrained_backbone`` applied by `train`).

    Raises:
        ValueError: if ``recipe.method`` is not a declared method (`hfpose.models.pose_methods()`).
    """
    from ..models import get_method
    from .keypoint_data import recipe_keypoint_set

    method = get_method(recipe.method)
    kwargs = {
        "input_size": list(recipe.input_size),
        **recipe_keypoint_set(recipe).config_kwargs(),
        "dataset": recipe.dataset,
    }
    kwargs["backbone_config"] = backbone_config_for(recipe.backbone)
    kwargs.update(recipe.model)
    from transformers import AutoModelForPoseEstimation

    return AutoModelForPoseEstimation.from_config(method.config_class(**kwargs))


def backbone_config_for(name: str):
    """Backbone config of a recipe's ``backbone`` name (None for "custom": then ``model.backbone_config`` is used).

    Raises:
        ValueError: for an unknown backbone name.
    """
    from ..models.backbones import resnet_backbone_config

    if name == "custom":
        return None
    if name.startswith("resnet") and name[len("resnet") :].isdigit():
        return resnet_backbone_config(int(name[len("resnet") :]))
    if name.startswith("hrnet_"):
        from ..models.hrnet import HRNetConfig

        return HRNetConfig.from_variant(name[len("hrnet_") :])
    if name in ("mobilenet_v2", "mobilenetv2"):
        from ..models.mobilenet_v2 import PoseMobileNetV2Config

        return PoseMobileNetV2Config()
    raise ValueError(f"unknown backbone {name!r}; expected resnet50/101/152, mobilenet_v2, hrnet_w32/w48 or custom")


def load_pretrained_backbone(model, name_or_path: str) -> None:
    """Copy the weights of a transformers backbone checkpoint (e.g. ``microsoft/resnet-50``, or a local directory)
    into ``model.backbone``; the stage layout must match.

    Raises:
        ValueError: if the checkpoint's tensors do not match the model's backbone (names the first differences), or
            it cannot be loaded (offline, no network, no such repo): one line saying what to set instead.
    """
    from transformers import AutoBackbone

    backbone = model.backbone
    try:
        pretrained = AutoBackbone.from_pretrained(name_or_path, out_features=list(backbone.config.out_features))
    except Exception as error:  # OfflineModeIsEnabled, httpx / OSError "couldn't connect", RepositoryNotFound ...
        reason = (str(error).strip().splitlines() or [""])[0][:200]
        raise RecipeError(
            f"pretrained_backbone {name_or_path!r} cannot be loaded ({type(error).__name__}: {reason}); offline or "
            "without the Hub set pretrained_backbone=null (random initialisation), a local folder of a saved "
            "transformers backbone, or init_from=<MMPose .pth or hfpose model directory>"
        ) from None
    own, theirs = backbone.state_dict(), pretrained.state_dict()
    differ = sorted(set(own) ^ set(theirs)) + [k for k in own if k in theirs and own[k].shape != theirs[k].shape]
    if differ:
        raise ValueError(f"pretrained_backbone {name_or_path} does not match the model's backbone: {differ[:5]}")
    backbone.load_state_dict(theirs)


def build_image_processor(recipe: TrainingRecipe, config):
    """The image processor matching the recipe: top-down (input size, UDP flag, flip test settings) or bottom-up
    (0.29 UDP resize to the recipe's input side, flip test, associative-embedding parser; grouping order from the
    recipe's ``keypoint_set`` when it gives one, see `keypoint_data.grouping_order_for`)."""
    from ..image_processing_topdown import TopDownPoseImageProcessor

    names = [config.id2label[index] for index in range(len(config.id2label))]
    if is_bottom_up(recipe):
        from ..image_processing_bottomup import BottomUpPoseImageProcessor
        from .keypoint_data import grouping_order_for, recipe_keypoint_set

        # only a keypoint-set file (recipe key `keypoint_set`) can give its own order; COCO-format categories cannot
        keypoint_set = recipe_keypoint_set(recipe) if recipe.keypoint_set else None
        return BottomUpPoseImageProcessor(
            input_size=int(min(recipe.input_size)),
            flip_indices=list(config.flip_indices),
            flip_test=recipe.flip_test,
            keypoint_names=names,
            grouping_order=grouping_order_for(config, keypoint_set),
        )

    width, height = recipe.input_size
    return TopDownPoseImageProcessor(
        size={"height": int(height), "width": int(width)},
        padding=recipe.padding,
        use_udp=recipe.use_udp,
        flip_indices=list(config.flip_indices),
        shift_coords=recipe.shift_coords,
        keypoint_names=[config.id2label[index] for index in range(len(config.id2label))],
    )


def _build_train_dataset(recipe: TrainingRecipe, config, return_transform: bool = False):
    """The training `datasets.Dataset` with its augmentation (and, with ``return_transform``, the transform, whose
    ``set_epoch`` the loop calls)."""
    dataset, transform = _train_dataset_and_transform(recipe, config)
    return (dataset, transform) if return_transform else dataset


def _train_dataset_and_transform(recipe: TrainingRecipe, config):
    from ..data import TopDownTrainTransform, load_coco_keypoints, load_mpii
    from ..data.cache import load_coco_cached
    from .keypoint_data import half_body_ids, resolve_data_path

    root = Path(recipe.data_root)
    if is_bottom_up(recipe):
        from ..data.bottomup import BottomUpTrainTransform, load_coco_bottomup

        if recipe.dataset != "coco":
            raise ValueError(f"bottom-up training supports COCO only, not {recipe.dataset!r}")
        dataset = load_coco_cached(
            load_coco_bottomup,
            root,
            recipe.train_split,
            ann_file=resolve_data_path(recipe, recipe.train_ann_file),
            num_keypoints=config.num_labels,
            image_dir=recipe.train_image_dir,
            enabled=recipe.dataset_cache,
        )
        side = int(min(recipe.input_size))
        strides = (4, 2)[: len(config.heatmap_loss_factors)]  # stride-4 output, then HigherHRNet's stride-2 one
        transform = BottomUpTrainTransform(
            input_size=side,
            heatmap_sizes=tuple(side // stride for stride in strides),
            rot_factor=recipe.rotate_factor,
            scale_factor=tuple(recipe.scale_factor),
            trans_factor=recipe.shift_factor,
            flip_prob=recipe.flip_prob,
            dataset=recipe.dataset,
            flip_indices=list(config.flip_indices),
            seed=recipe.seed,
        )
        return dataset.with_transform(transform), transform
    if recipe.dataset == "coco":
        dataset = load_coco_cached(
            load_coco_keypoints,
            root,
            recipe.train_split,
            mode="topdown",
            ann_file=resolve_data_path(recipe, recipe.train_ann_file),
            num_keypoints=config.num_labels,
            image_dir=recipe.train_image_dir,
            enabled=recipe.dataset_cache,
        )
    else:
        dataset = load_mpii(root, split=recipe.train_split, ann_file=recipe.train_ann_file)
    codec = None
    if getattr(config, "heatmap_size", None) is not None:  # integral methods: Gaussian targets for the heatmap loss
        from ..codecs import IntegralRegressionLabel

        codec = IntegralRegressionLabel(
            tuple(config.input_size), tuple(config.heatmap_size), sigma=config.heatmap_sigma, normalize=True
        )
    transform = TopDownTrainTransform(
        input_size=tuple(recipe.input_size),
        flip_indices=list(config.flip_indices),
        codec=codec,
        flip_prob=recipe.flip_prob,
        half_body_prob=recipe.half_body_prob,
        shift_prob=recipe.shift_prob,
        shift_factor=recipe.shift_factor,
        scale_prob=recipe.scale_prob,
        scale_factor=tuple(recipe.scale_factor),
        rotate_prob=recipe.rotate_prob,
        rotate_factor=recipe.rotate_factor,
        use_udp=recipe.use_udp,
        padding=recipe.padding,
        dataset=recipe.dataset,
        seed=recipe.seed,
        **half_body_ids(config),
    )
    return dataset.with_transform(transform), transform


def _validation_set(recipe: TrainingRecipe):
    """(records, PCKh ground truth or None, COCO annotation file or None) of the recipe's validation split."""
    from .evaluation_loop import coco_eval_images, coco_images, mpii_eval_images

    root = Path(recipe.data_root)
    if recipe.dataset == "coco":
        ann_file = Path(recipe.val_ann_file or root / "annotations" / f"person_keypoints_{recipe.val_split}.json")
        ann_file = ann_file if ann_file.is_absolute() or ann_file.exists() else root / ann_file
        image_root = root / (recipe.val_image_dir or recipe.val_split)
        if is_bottom_up(recipe):
            return coco_images(ann_file, image_root), None, ann_file
        return coco_eval_images(ann_file, image_root, bbox_file=recipe.bbox_file), None, ann_file
    from ..data import load_mpii

    records, ground_truth = mpii_eval_images(
        load_mpii(root, split=recipe.val_split, ann_file=recipe.val_ann_file, headbox_file=recipe.val_headbox_file)
    )
    return records, ground_truth, None


def _make_optimizer(recipe: TrainingRecipe, model, lr: float):
    parameters = [p for p in model.parameters() if p.requires_grad]
    if recipe.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=lr, weight_decay=recipe.weight_decay)
    if recipe.optimizer == "adamw":
        return torch.optim.AdamW(parameters, lr=lr, weight_decay=recipe.weight_decay)
    return torch.optim.SGD(parameters, lr=lr, momentum=0.9, weight_decay=recipe.weight_decay)


def _check_startup(accelerator, error: BaseException | None) -> None:
    """Make a start-up failure of any process an error on every process, naming the process and the error.

    Without this, a process that fails while building its model or data exits, and the others wait in their first
    collective until the launcher or the ``distributed_timeout`` stops them, with no word of the cause.

    Raises:
        RuntimeError: on every process if any process failed (the failing process re-raises its own error).
    """
    if accelerator.num_processes > 1:
        from accelerate.utils import gather_object

        reports = gather_object([None if error is None else f"{type(error).__name__}: {error}"])
        failed = [(rank, report) for rank, report in enumerate(reports) if report is not None]
        if failed and error is None:
            raise RuntimeError(
                "training start-up failed on " + "; ".join(f"process {rank}: {report}" for rank, report in failed)
            )
    if error is not None:
        raise error


def _nonfinite_batch(accelerator, recipe: TrainingRecipe, state: TrainingState, loss, batch) -> dict:
    """Describe a batch whose loss is NaN/inf on some process; raise unless ``recipe.skip_nonfinite``.

    Raises:
        FloatingPointError: naming the step, epoch and the batch's image / annotation ids (before any backward pass,
            so the weights and checkpoints stay finite).
    """
    from accelerate.utils import gather_object

    def ids(name):
        value = batch.get(name)
        return value.tolist() if hasattr(value, "tolist") else (list(value) if value is not None else None)

    local = {
        "process": accelerator.process_index,
        "loss": float(loss.detach().float().item()),
        "image_ids": ids("image_id"),
        "ann_ids": ids("ann_id"),
    }
    reports = gather_object([local]) if accelerator.num_processes > 1 else [local]
    bad = [r for r in reports if not math.isfinite(r["loss"])]
    where = f"step {state.global_step + 1} (epoch {state.epoch}, batch {state.step_in_epoch} of the epoch)"
    detail = "; ".join(
        f"process {r['process']}: loss {r['loss']}, image ids {r['image_ids']}, annotation ids {r['ann_ids']}"
        for r in bad
    )
    if not recipe.skip_nonfinite:
        raise FloatingPointError(f"non-finite loss at {where}: {detail} (set skip_nonfinite=true to skip such batches)")
    if accelerator.is_main_process:
        logger.warning("skipping batch with non-finite loss at %s: %s", where, detail)
    return {
        "image_ids": [i for r in bad for i in (r["image_ids"] or [])],
        "ann_ids": [i for r in bad for i in (r["ann_ids"] or [])],
    }


def _truncate_history(history_path: Path, global_step: int) -> None:
    """Drop history lines of steps after the resumed checkpoint (written by the interrupted run, redone now)."""
    if not history_path.is_file():
        return
    kept = []
    for line in history_path.read_text().splitlines():
        try:
            if json.loads(line).get("step", 0) <= global_step:
                kept.append(line)
        except ValueError:  # a line cut short by the interruption
            continue
    history_path.write_text("".join(line + "\n" for line in kept))


def _model_inputs(batch: dict) -> dict:
    keys = ("pixel_values", "labels", "label_weights", "target_heatmaps", "target_masks", "joints")
    return {key: batch[key] for key in keys if key in batch}


@dataclass
class _Run:
    """What the steps of `train` share: the prepared objects and the running state of one training run."""

    recipe: TrainingRecipe
    accelerator: object
    output_dir: Path
    model: object = None
    processor: object = None
    train_dataset: object = None
    loader: object = None
    train_transform: object = None
    optimizer: object = None
    scheduler: object = None
    state: TrainingState = field(default_factory=TrainingState)
    history: list[dict] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    validation: tuple | None = None  # (records, PCKh ground truth, COCO annotation file), built on first use
    reporter: EpochReporter | None = None  # a bar in a terminal, one clean line per epoch (main process)
    samples_seen: int = 0  # by this process, in this run (for the participation report)

    @property
    def checkpoint_dir(self) -> Path:
        return self.output_dir / "checkpoints"

    @property
    def history_path(self) -> Path:
        return self.output_dir / "history.jsonl"


def _make_accelerator(recipe: TrainingRecipe, output_dir: Path):
    from datetime import timedelta

    from accelerate import Accelerator
    from accelerate.utils import DataLoaderConfiguration, InitProcessGroupKwargs, ProjectConfiguration

    return Accelerator(
        gradient_accumulation_steps=recipe.gradient_accumulation_steps,
        mixed_precision=recipe.mixed_precision,
        log_with="tensorboard",
        project_config=ProjectConfiguration(project_dir=str(output_dir), logging_dir=str(output_dir / "logs")),
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True),
        kwargs_handlers=[InitProcessGroupKwargs(timeout=timedelta(seconds=recipe.distributed_timeout))],
    )


def _build_run(run: _Run) -> None:
    """Model (with ``init_from`` / ``pretrained_backbone``), image processor and training data, on every process; a
    failure anywhere is raised on every process (`_check_startup`)."""
    recipe, accelerator = run.recipe, run.accelerator
    startup_error = None
    try:
        lock_output_dir(accelerator, run.output_dir)  # one live run per output directory
        run.model = build_model(recipe)
        if recipe.init_from:
            from .initialization import load_initial_weights

            report = load_initial_weights(run.model, recipe.init_from, method=recipe.method)
            if accelerator.is_main_process:
                logger.warning("init_from %s: %s", recipe.init_from, report.summary())
        if recipe.pretrained_backbone:
            load_pretrained_backbone(run.model, recipe.pretrained_backbone)
        run.processor = build_image_processor(recipe, run.model.config)
        run.train_dataset, run.train_transform = _build_train_dataset(recipe, run.model.config, return_transform=True)
    except Exception as error:  # noqa: BLE001 (re-raised below, on every process)
        startup_error = error
    _check_startup(accelerator, startup_error)


def _prepare_optimization(run: _Run) -> None:
    """Data loader, optimizer at the linearly scaled lr, warm-up + multi-step schedule, `accelerate.prepare`."""
    from ..data import collate_fn

    recipe, accelerator = run.recipe, run.accelerator
    generator = torch.Generator().manual_seed(recipe.seed)
    # Workers are not persistent: they are re-created every epoch with the transform's current epoch (`set_epoch`).
    loader = DataLoader(
        run.train_dataset,
        batch_size=recipe.batch_size,
        shuffle=True,
        collate_fn=collate_fn,
        num_workers=recipe.num_workers,
        generator=generator,
        drop_last=False,
    )
    total_batch = recipe.batch_size * accelerator.num_processes * recipe.gradient_accumulation_steps
    optimizer = _make_optimizer(recipe, run.model, recipe.scaled_lr(total_batch))
    run.model, run.optimizer, run.loader = accelerator.prepare(run.model, optimizer, loader)
    steps_per_epoch = math.ceil(len(run.loader) / recipe.gradient_accumulation_steps)
    milestone_steps = [m * steps_per_epoch for m in recipe.milestones]
    run.scheduler = torch.optim.lr_scheduler.LambdaLR(
        run.optimizer,
        lambda step: warmup_multistep_factor(
            step, recipe.warmup_iters, recipe.warmup_ratio, milestone_steps, recipe.gamma
        ),
    )


def _resume(run: _Run) -> None:
    """Continue from the newest complete checkpoint, dropping history lines written after it."""
    latest = latest_checkpoint(run.checkpoint_dir)
    if latest is None:
        return
    load_checkpoint(run.accelerator, latest, run.state, run.scheduler)
    if run.accelerator.is_main_process:
        _truncate_history(run.history_path, run.state.global_step)
        logger.warning(
            "resumed from %s (epoch %d, batch %d of the epoch, step %d)",
            latest,
            run.state.epoch,
            run.state.step_in_epoch,
            run.state.global_step,
        )


def _train_batch(run: _Run, batch: dict):
    """Forward, backward and optimizer step of one batch; a non-finite loss on any process stops the run or (with
    ``skip_nonfinite``) skips the batch on every process, restoring the BatchNorm statistics. Returns ``(loss,
    skipped)``: the loss tensor and, for a skipped batch, its description (else None)."""
    recipe, accelerator, model, optimizer = run.recipe, run.accelerator, run.model, run.optimizer
    skipped = None
    # A skipped batch must leave no trace: its forward pass already moved the BatchNorm running statistics.
    saved_buffers = [b.detach().clone() for b in model.buffers()] if recipe.skip_nonfinite else None
    with accelerator.accumulate(model):
        outputs = model(**_model_inputs(batch))
        loss = outputs.loss
        # Every process learns whether any loss is non-finite, so all stop or skip together (no DDP hang).
        finite = accelerator.gather(torch.isfinite(loss.detach()).reshape(1).float())
        if not bool(finite.min() > 0):
            skipped = _nonfinite_batch(accelerator, recipe, run.state, loss, batch)
            optimizer.zero_grad()  # drop this accumulation window; no NaN ever reaches the weights
            with torch.no_grad():
                for buffer, saved in zip(model.buffers(), saved_buffers):
                    buffer.copy_(saved)
        else:
            accelerator.backward(loss)
            if recipe.max_grad_norm and accelerator.sync_gradients:
                accelerator.clip_grad_norm_(model.parameters(), recipe.max_grad_norm)
            optimizer.step()
            optimizer.zero_grad()
    return loss, skipped


def _record_step(run: _Run, loss, skipped, progress) -> None:
    """After an optimizer step: advance the schedule, append to the history (memory, tensorboard, history.jsonl)."""
    accelerator, state = run.accelerator, run.state
    run.scheduler.step()
    state.global_step += 1
    loss_value = None if skipped else accelerator.gather(loss.detach()[None]).mean().item()
    record = {
        "step": state.global_step,
        "epoch": state.epoch,
        "loss": loss_value,
        "lr": run.optimizer.param_groups[0]["lr"],
    }
    if skipped:
        record["skipped"] = skipped
    run.history.append(record)
    progress.set_postfix(loss=f"{loss_value:.4f}" if loss_value is not None else "skipped")
    if state.global_step % run.recipe.log_interval == 0 or state.global_step == 1:
        accelerator.log({"train/loss": loss_value, "train/lr": record["lr"]}, step=state.global_step)
    if accelerator.is_main_process:
        with open(run.history_path, "a") as handle:
            handle.write(json.dumps(record) + "\n")


def _save_checkpoint(run: _Run) -> None:
    save_checkpoint(run.accelerator, run.checkpoint_dir, run.state, run.scheduler)
    if run.accelerator.is_main_process:
        prune_checkpoints(run.checkpoint_dir, run.recipe.keep_checkpoints)


def _train_epoch(run: _Run) -> bool:
    """One (possibly resumed) epoch; returns True when ``max_steps`` stopped it."""
    recipe, accelerator, state, loader = run.recipe, run.accelerator, run.state, run.loader
    run.model.train()
    loader.set_epoch(state.epoch)
    if hasattr(run.train_transform, "set_epoch"):
        run.train_transform.set_epoch(state.epoch)  # augmentation = f(seed, epoch, example id): exact resumption
    active_loader = accelerator.skip_first_batches(loader, state.step_in_epoch) if state.step_in_epoch else loader
    progress = run.reporter.bar(active_loader, state.epoch)
    stop = False
    for batch in progress:
        run.samples_seen += int(batch["pixel_values"].shape[0])
        loss, skipped = _train_batch(run, batch)
        state.step_in_epoch += 1
        if accelerator.sync_gradients:
            _record_step(run, loss, skipped, progress)
            if recipe.max_steps is not None and state.global_step >= recipe.max_steps:
                stop = True
                break
            if (
                recipe.checkpoint_steps
                and state.global_step % recipe.checkpoint_steps == 0
                and state.step_in_epoch < len(loader)
            ):  # mid-epoch; the epoch's end saves below
                _save_checkpoint(run)
    progress.close()
    return stop


def _validate(run: _Run) -> None:
    """COCO AP (or PCKh) of the current weights on the recipe's validation split; main process: ``eval_history.jsonl``
    and tensorboard."""
    from .evaluation_loop import evaluate_keypoints, evaluate_mpii, predict_bottomup, predict_topdown

    recipe, accelerator = run.recipe, run.accelerator
    if run.validation is None:
        run.validation = _validation_set(recipe)
    records, ground_truth, ann_file = run.validation
    predict = predict_bottomup if is_bottom_up(recipe) else predict_topdown
    # eager: a training run's validation does not depend on the inference backend (`hfpose evaluate` of the saved
    # model takes the pipeline's optimized forward, `evaluation_loop.evaluation_forward`)
    predictions = predict(
        accelerator.unwrap_model(run.model),
        run.processor,
        records,
        flip_test=recipe.flip_test,
        accelerator=accelerator,
        optimize=False,
    )
    if accelerator.is_main_process:
        if recipe.dataset == "coco":  # COCO-format data with the model's keypoint set: OKS AP, or PCK / AUC / EPE
            metrics = evaluate_keypoints(
                predictions,
                ann_file,
                accelerator.unwrap_model(run.model).config,
                bottom_up=is_bottom_up(recipe),
                score_mode=recipe.score_mode,
                nms_mode=recipe.nms_mode,
                nms_thr=recipe.nms_thr,
            )
        else:
            metrics = evaluate_mpii(predictions, ground_truth)
        run.metrics = {"epoch": run.state.epoch, "num_predictions": len(predictions), **metrics}
        with open(run.output_dir / "eval_history.jsonl", "a") as handle:
            handle.write(json.dumps(run.metrics) + "\n")
        accelerator.log(
            {f"val/{k}": v for k, v in run.metrics.items() if isinstance(v, float)}, step=run.state.global_step
        )
    run.model.train()


def _finish(run: _Run) -> Path:
    """Participation report, final ``save_pretrained`` of the model and its processor, ``metrics.json``."""
    accelerator, output_dir = run.accelerator, run.output_dir
    per_process = accelerator.gather(torch.tensor([run.samples_seen], device=accelerator.device)).tolist()
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:  # which processes took part, and how many training samples each consumed
        (output_dir / "processes.json").write_text(
            json.dumps({"num_processes": accelerator.num_processes, "samples_per_process": per_process})
        )
    if not run.metrics and (output_dir / "metrics.json").is_file():  # resumed a finished run: report its evaluation
        run.metrics = json.loads((output_dir / "metrics.json").read_text())
    model_dir = output_dir / "model"
    if accelerator.is_main_process:
        accelerator.unwrap_model(run.model).save_pretrained(model_dir, safe_serialization=True)
        run.processor.save_pretrained(model_dir)
        honour_umask(model_dir)  # safetensors' atomic write leaves 0600
        if run.metrics:
            (output_dir / "metrics.json").write_text(json.dumps(run.metrics, indent=2))
    accelerator.end_training()
    return model_dir


def train(recipe: TrainingRecipe, resume: bool = True, accelerator=None) -> TrainResult:
    """Train ``recipe`` and return where the final model went.

    Args:
        recipe: the training recipe.
        resume: continue from the newest complete checkpoint in ``<output_dir>/checkpoints`` if there is one.
        accelerator: an existing `accelerate.Accelerator` (tests); one is created from the recipe otherwise.
    """
    from accelerate.utils import set_seed

    output_dir = Path(recipe.output_dir)
    run = _Run(recipe, accelerator or _make_accelerator(recipe, output_dir), output_dir)
    check_process_group(run.accelerator)  # a launch whose processes did not join one group stops here, nothing written
    run.reporter = EpochReporter(run.accelerator, recipe.epochs)
    set_seed(recipe.seed)
    if run.accelerator.is_main_process:
        output_dir.mkdir(parents=True, exist_ok=True)
        recipe.to_yaml(output_dir / "recipe.yaml")
    if recipe.train_dataset or recipe.val_dataset:  # `datasets` input: exported to COCO format once, main process first
        from .keypoint_data import materialize_hf_datasets

        materialize_hf_datasets(recipe, run.accelerator)
    _build_run(run)
    _prepare_optimization(run)
    if resume:
        _resume(run)
    run.accelerator.init_trackers(
        "hfpose", config={k: v for k, v in recipe.to_dict().items() if isinstance(v, (int, float, str, bool))}
    )

    stop = False
    while run.state.epoch < recipe.epochs and not stop:
        epoch_start = time.time()
        stop = _train_epoch(run)
        finished_epoch = not stop or run.state.step_in_epoch >= len(run.loader)
        if finished_epoch:
            run.state.epoch += 1
            run.state.step_in_epoch = 0
        if run.accelerator.is_main_process:
            logger.info("epoch %d done in %.1fs", run.state.epoch, time.time() - epoch_start)
        last = run.state.epoch >= recipe.epochs or stop
        if finished_epoch and (run.state.epoch % recipe.checkpoint_interval == 0 or last):
            _save_checkpoint(run)
        if finished_epoch and (run.state.epoch % recipe.val_interval == 0 or last):
            _validate(run)
        run.reporter.end_epoch(run.history, run.metrics)

    model_dir = _finish(run)
    return TrainResult(
        output_dir=output_dir,
        model_dir=model_dir,
        global_step=run.state.global_step,
        history=run.history,
        metrics=run.metrics,
    )
