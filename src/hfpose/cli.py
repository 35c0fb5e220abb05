# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""The `hfpose` command line: predict, train, recipes, demo, evaluate, convert, push, export.

Each subcommand is a thin wrapper around the library function the matching script uses (`hfpose.training.train`,
`hfpose.training.evaluation_loop`, `hfpose.hub.convert_mmpose_checkpoint`, `hfpose.hub.push.push_to_hub`,
`hfpose.onnx.export_onnx`). `main(argv)` returns the exit status (0 success, 2 bad input), so it can be tested
without a subprocess; errors are printed as one `error: ...` line, not as a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["build_parser", "main"]

_EXAMPLES = """\
examples:
  hfpose predict outputs/demo/model photo.jpg --boxes "[[50, 30, 120, 300]]" --output-dir predictions/
  hfpose predict outputs/demo/model a.jpg b.jpg --onnx model.onnx          # onnxruntime on CPU, whole-image boxes
  hfpose recipes                                                             # shipped recipes, MMPose numbers
  hfpose train rle-res50-coco-256x192 data_root=/data/coco epochs=2          # a shipped recipe, or a YAML path
  hfpose demo --data-root ../shared/data/coco-mini                           # tiny RLE on coco-mini, AP, drawing
  hfpose evaluate outputs/demo/model --data-root ../shared/data/coco-mini
  hfpose convert rle_res50.pth --method rle --backbone resnet50 --dataset coco --output converted/
  hfpose push converted/ --repo-id USER/rle-res50-coco --card-results converted/eval_val2017.json
  hfpose export converted/ converted/model.onnx
  hfpose predict outputs/demo/model walk.mp4 --output walk_pose.mp4 --smooth   # video: tracks, JSON lines
  hfpose app outputs/demo/model --port 7860                                  # the demo page (Gradio)
"""

_SUBCOMMAND_EXAMPLES = {
    "predict": 'example:\n  hfpose predict MODEL_DIR photo.jpg --boxes "[[50, 30, 120, 300]]" --output-dir out/\n'
    "writes out/photo.json (persons: bbox, score, keypoints with label/x/y/score in image pixels)\n"
    "and out/photo_pose.png (skeletons drawn on the photo)",
    "train": "example:\n  hfpose train rle-res50-coco-256x192 data_root=/data/coco pretrained_backbone=null\n"
    "multi-GPU: accelerate launch -m hfpose.cli train RECIPE ...\n"
    "2 CPU processes: ACCELERATE_USE_CPU=1 accelerate launch --multi_gpu --num_processes 2 --num_machines 1 "
    "--mixed_precision no --dynamo_backend no -m hfpose.cli train RECIPE ...",
    "recipes": "example:\n  hfpose recipes   # then: hfpose train NAME data_root=... key=value",
    "demo": "example:\n  hfpose demo --data-root ../shared/data/coco-mini --output-dir outputs/demo",
    "evaluate": "example:\n  hfpose evaluate MODEL_DIR --data-root /data/coco --bbox-file dets.json --output eval.json",
    "convert": "example:\n  hfpose convert td-reg_res50_rle.pth --method rle --backbone resnet50 --dataset coco "
    "--output DIR --reference-npz rle_outputs.npz",
    "push": "example:\n  hfpose push MODEL_DIR --repo-id USER/NAME --card-results MODEL_DIR/eval_val2017.json "
    "--checkpoint-url https://download.openmmlab.com/...pth --verified-atol 1e-4",
    "export": "example:\n  hfpose export MODEL_DIR model.onnx   # dynamic batch, checked against PyTorch (1e-4)",
}
_SUBCOMMAND_EXAMPLES["predict"] += (
    "\nvideo (or a webcam index such as 0): hfpose predict MODEL_DIR walk.mp4 --output walk_pose.mp4 --smooth\n"
    "writes walk_pose.mp4 (skeletons and track ids drawn) and walk_pose.jsonl (one line per frame)"
)
_SUBCOMMAND_EXAMPLES["app"] = (
    "example:\n  hfpose app MODEL_DIR --port 7860   # serves the demo page on http://127.0.0.1:7860"
)


def _subparser(subparsers, name: str, help_text: str):
    return subparsers.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=_SUBCOMMAND_EXAMPLES[name],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of `hfpose` (one subparser per subcommand)."""
    parser = argparse.ArgumentParser(
        prog="hfpose",
        description="hfpose: human pose estimation with MMPose-faithful models in the Hugging Face ecosystem.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"hfpose {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")

    predict = _subparser(subparsers, "predict", "estimate poses in images; write JSON and a drawn picture per image")
    predict.add_argument("model", help="model directory (save_pretrained) or Hub repo id")
    predict.add_argument("images", nargs="+", help="image files, or one video file / webcam index")
    predict.add_argument(
        "--boxes",
        default=None,
        help="JSON list of COCO [x, y, w, h] person boxes (image px) for every image, e.g. "
        '"[[50, 30, 120, 300]]"; default: the whole image (top-down models)',
    )
    predict.add_argument(
        "--boxes-file", default=None, help="JSON file: {image file name: [[x, y, w, h], ...]} (top-down models)"
    )
    predict.add_argument("--output-dir", default="predictions")
    predict.add_argument("--onnx", default=None, help="run this exported .onnx with onnxruntime instead of PyTorch")
    predict.add_argument("--no-flip-test", action="store_true")
    predict.add_argument(
        "--threshold",
        type=float,
        default=None,
        help='mark keypoints scoring below it "visible": false (all K stay in the JSON, in joint '
        "order) and do not draw them",
    )
    predict.add_argument("--draw-threshold", type=float, default=0.0, help="keypoint score needed to be drawn")
    predict.add_argument("--no-draw", action="store_true", help="JSON only")
    _add_video_arguments(predict)

    train = _subparser(subparsers, "train", "train a model from a flat YAML recipe (hfpose's accelerate loop)")
    train.add_argument("recipe", help="a shipped recipe's name (`hfpose recipes`) or a recipe YAML file")
    train.add_argument("overrides", nargs="*", help="key=value overrides of recipe keys")
    train.add_argument("--no-resume", action="store_true", help="ignore existing checkpoints")

    _subparser(subparsers, "recipes", "list the training recipes shipped with hfpose and MMPose's results for them")

    demo = _subparser(subparsers, "demo", "train a tiny RLE model on coco-mini, evaluate COCO AP, draw a prediction")
    demo.add_argument(
        "--data-root", default=None, help="COCO-layout folder (coco-mini); default $HFPOSE_DATA/coco-mini"
    )
    demo.add_argument("--output-dir", default="outputs/demo")
    demo.add_argument("--recipe", default=None, help="recipe name or YAML (default demo-rle-tiny-coco-mini)")
    demo.add_argument("overrides", nargs="*", help="key=value recipe overrides")

    evaluate = _subparser(
        subparsers, "evaluate", "COCO OKS AP/AR of a saved top-down model (MMPose's rescoring, OKS-NMS)"
    )
    evaluate.add_argument("model_dir")
    evaluate.add_argument("--data-root", required=True, help="COCO layout: annotations/person_keypoints_<split>.json")
    evaluate.add_argument("--split", default="val2017")
    evaluate.add_argument("--ann-file", default=None)
    evaluate.add_argument("--bbox-file", default=None, help="COCO detection results json")
    evaluate.add_argument("--no-flip-test", action="store_true")
    evaluate.add_argument("--score-mode", default=None, help="bbox_keypoint (default), bbox_rle (RLE) or bbox")
    evaluate.add_argument("--nms-mode", default="oks_nms", choices=["oks_nms", "none"])
    evaluate.add_argument("--batch-size", type=int, default=8)
    evaluate.add_argument("--output", default=None, help="JSON (default MODEL_DIR/eval_<split>.json)")

    from .models import pose_methods

    convert = _subparser(subparsers, "convert", "convert an MMPose checkpoint into an hfpose model directory")
    convert.add_argument("checkpoint")
    convert.add_argument("--method", required=True, help=", ".join(pose_methods()))
    convert.add_argument("--backbone", default="resnet50", help="resnet50/101/152, mobilenetv2, or w32/w48 (HRNet)")
    convert.add_argument("--dataset", default="coco")
    convert.add_argument("--output", required=True)
    convert.add_argument("--reference-npz", default=None, help="MMPose outputs to check the conversion against")

    push = _subparser(
        subparsers, "push", "publish a model directory to the Hugging Face Hub (weights, configs, card, remote code)"
    )
    push.add_argument("model_dir")
    push.add_argument("--repo-id", required=True, help="USER/NAME")
    push.add_argument("--private", action="store_true")
    push.add_argument(
        "--card-results",
        action="append",
        default=None,
        help="evaluation JSON for the card (scripts/evaluate.py output); repeatable",
    )
    push.add_argument("--checkpoint-url", default=None, help="URL of the MMPose checkpoint the weights came from")
    push.add_argument("--mmpose-config", default=None, help="MMPose config of that checkpoint")
    push.add_argument(
        "--verified-atol",
        type=float,
        default=None,
        help="tolerance the conversion was verified to against MMPose's outputs",
    )
    push.add_argument("--recipe", default=None, help="training recipe (trained models)")
    push.add_argument("--no-remote-code", action="store_true", help="do not upload trust_remote_code files")
    push.add_argument("--token", default=None)
    push.add_argument(
        "--dry-run",
        default=None,
        metavar="DIR",
        help="write the repository's files into DIR instead of pushing (with --space, the Space's into DIR-space)",
    )
    push.add_argument(
        "--space",
        action="store_true",
        help="also publish the demo page as a Gradio Space beside the model (USER/NAME-demo)",
    )
    push.add_argument("--space-id", default=None, help="the Space's repo id (default: REPO_ID-demo)")

    export = _subparser(subparsers, "export", "export a top-down model to ONNX (dynamic batch)")
    export.add_argument("model_dir")
    export.add_argument("output", help="the .onnx file")
    export.add_argument("--opset", type=int, default=17)
    export.add_argument("--no-check", action="store_true", help="skip the onnxruntime vs PyTorch check")
    _add_app_parser(subparsers)
    return parser


def _add_video_arguments(predict) -> None:
    """`hfpose predict MODEL VIDEO` options (hfpose.video.VideoKeypointDetection)."""
    video = predict.add_argument_group("video or webcam input (a .mp4/.avi/... file, or a webcam index such as 0)")
    video.add_argument(
        "--output",
        default=None,
        help="annotated video (.mp4/.m4v/.mov: mp4v, .avi: MJPG, .webm: VP8); default OUTPUT_DIR/<stem>_pose.mp4",
    )
    video.add_argument("--jsonl", default=None, help="JSON lines, one per frame; default: --output with .jsonl")
    video.add_argument("--tracking", choices=["iou", "oks"], default="iou", help="track matching (MMPose's greedy)")
    video.add_argument("--tracking-threshold", type=float, default=0.3)
    video.add_argument(
        "--smooth",
        action="store_true",
        help="One-Euro smoothing (min_cutoff 1 Hz, beta 0.05, d_cutoff 1 Hz, at the video's frame rate)",
    )
    video.add_argument("--max-frames", type=int, default=None, help="stop after this many frames")
    video.add_argument("--frame-rate", type=float, default=None, help="frames per second to assume")


def _add_app_parser(subparsers) -> None:
    app = _subparser(subparsers, "app", "serve the demo page of a model (Gradio: image and video tabs)")
    app.add_argument("model_dir", help="model directory (save_pretrained) or Hub repo id")
    app.add_argument("--host", default="127.0.0.1")
    app.add_argument("--port", type=int, default=None, help="default: Gradio's first free port from 7860")


# ------------------------------------------------------------------------------------------------- subcommands
def _boxes_for(args, images: list[str]) -> list:
    if args.boxes is not None and args.boxes_file is not None:
        raise ValueError("give --boxes or --boxes-file, not both")
    if args.boxes is not None:
        try:
            boxes = json.loads(args.boxes)
        except json.JSONDecodeError as error:
            raise ValueError(f"--boxes is not valid JSON: {error}") from error
        return [boxes] * len(images)
    if args.boxes_file is not None:
        table = json.loads(Path(args.boxes_file).read_text())
        missing = [image for image in images if Path(image).name not in table and image not in table]
        if missing:
            raise ValueError(f"--boxes-file has no boxes for {missing}")
        return [table.get(image, table.get(Path(image).name)) for image in images]
    return [None] * len(images)


def _CliPipeline():  # noqa: N802
    """`KeypointDetectionPipeline` that loads no video processor: without this, transformers 5.23's pipeline()
    looks for one and, for a repo carrying hfpose's remote-code `auto_map`, asks whether to trust remote code."""
    from .pipelines import KeypointDetectionPipeline

    if getattr(KeypointDetectionPipeline, "_load_video_processor", None) is False:
        return KeypointDetectionPipeline
    return type("KeypointDetectionPipeline", (KeypointDetectionPipeline,), {"_load_video_processor": False})


def _load_estimator(args):
    from transformers import pipeline

    import hfpose  # noqa: F401  (registers the task)

    if args.onnx is None:
        return pipeline("keypoint-detection", model=args.model, pipeline_class=_CliPipeline())
    from transformers import AutoConfig, AutoImageProcessor

    from .onnx import OnnxPoseModel

    model = OnnxPoseModel(args.onnx, AutoConfig.from_pretrained(args.model))
    return _CliPipeline()(model=model, image_processor=AutoImageProcessor.from_pretrained(args.model))


def run_predict(args) -> int:
    """Per image: `<output-dir>/<stem>.json` and (unless `--no-draw`) `<output-dir>/<stem>_pose.png`."""
    import numpy as np
    from PIL import Image
    from tqdm.auto import tqdm

    from .video import is_video_source

    if any(is_video_source(source) for source in args.images):
        return run_predict_video(args)
    missing = [image for image in args.images if not Path(image).is_file()]
    if missing:
        raise FileNotFoundError(f"no such image file(s): {missing}")
    boxes = _boxes_for(args, args.images)
    estimator = _load_estimator(args)
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    skeleton = getattr(estimator.model.config, "skeleton", None) or []
    kwargs = {"flip_test": False} if args.no_flip_test else {}
    if args.threshold is not None:
        kwargs["threshold"] = args.threshold
    for image_path, image_boxes in tqdm(list(zip(args.images, boxes)), desc="predict", disable=len(args.images) < 2):
        persons = estimator(str(image_path), boxes=image_boxes, **kwargs)
        stem = Path(image_path).stem
        record = {"image": str(image_path), "model": str(args.model), "onnx": args.onnx, "persons": persons}
        (output_dir / f"{stem}.json").write_text(json.dumps(record, indent=2))
        if not args.no_draw:
            from .image_io import load_rgb_image
            from .visualization import draw_keypoints

            # K entries in joint order; one marked "visible": False (below --threshold) is not drawn.
            arrays = [
                {
                    "keypoints": np.array(
                        [[k["x"], k["y"]] if k.get("visible", True) else [np.nan, np.nan] for k in person["keypoints"]]
                    ).reshape(-1, 2),
                    "scores": np.array([k["score"] for k in person["keypoints"]]),
                    "bbox": person["bbox"],
                }
                for person in persons
            ]
            image = load_rgb_image(str(image_path), 0)  # EXIF-oriented: the frame the keypoints are in
            drawn = draw_keypoints(image, arrays, skeleton=skeleton, keypoint_threshold=args.draw_threshold)
            Image.fromarray(drawn).save(output_dir / f"{stem}_pose.png")
        print(f"{image_path}: {len(persons)} person(s) -> {output_dir / (stem + '.json')}")
    return 0


def _video_boxes(args):
    """`--boxes`: the same boxes on every frame; `--boxes-file`: JSON {frame index: boxes} or a list per frame."""
    if args.boxes is not None and args.boxes_file is not None:
        raise ValueError("give --boxes or --boxes-file, not both")
    if args.boxes is not None:
        boxes = _boxes_for(args, [None])[0]
        return lambda index: boxes
    if args.boxes_file is not None:
        table = json.loads(Path(args.boxes_file).read_text())
        if isinstance(table, dict):
            return {int(key): value for key, value in table.items()}
        return table
    return None


def run_predict_video(args) -> int:
    """One video file or webcam: the annotated video and the JSON lines (`hfpose.video.VideoKeypointDetection`)."""
    from .video import VideoKeypointDetection, open_video

    if len(args.images) != 1:
        raise ValueError(f"give one video (or webcam index) per call, without images; got {args.images}")
    source = args.images[0]
    open_video(source)[0].release()  # a bad path / unreadable file / closed webcam fails before the model loads
    stem = f"webcam{source}" if str(source).isdigit() else Path(source).stem
    output = None if args.no_draw else Path(args.output or Path(args.output_dir) / f"{stem}_pose.mp4")
    jsonl = (
        Path(args.jsonl)
        if args.jsonl
        else (output.with_suffix(".jsonl") if output is not None else Path(args.output_dir) / f"{stem}.jsonl")
    )
    kwargs = {"flip_test": False} if args.no_flip_test else {}
    video = VideoKeypointDetection(
        _load_model_or_fail(_load_estimator, args),
        tracking=args.tracking,
        tracking_threshold=args.tracking_threshold,
        smoothing=args.smooth,
        frame_rate=args.frame_rate,
        threshold=args.threshold,
        **kwargs,
    )
    summary = video.run(
        source,
        output=output,
        jsonl=jsonl,
        boxes=_video_boxes(args),
        max_frames=args.max_frames,
        progress=True,
        draw_threshold=args.draw_threshold,
    )
    print(
        f"{source}: {summary['frames']} frame(s), {len(summary['track_ids'])} track(s) -> "
        + ", ".join(str(p) for p in (summary["output"], summary["jsonl"]) if p)
    )
    return 0


def run_app(args) -> int:
    """Serve the Gradio demo page (`hfpose.app.build_demo`) on HOST:PORT until interrupted; no share link."""
    from .app import build_demo

    demo = _load_model_or_fail(build_demo, args.model_dir)
    demo.launch(server_name=args.host, server_port=args.port, share=False, ssr_mode=False)
    return 0


def _load_model_or_fail(load, *args):
    """`load(*args)`, with transformers' OSError for a model that is not there turned into one line."""
    try:
        return load(*args)
    except OSError as error:
        if isinstance(error, FileNotFoundError):
            raise
        model = getattr(args[0], "model", args[0])
        raise ValueError(f"cannot load the model {str(model)!r}: {str(error).splitlines()[0]}") from None


def run_train(args) -> int:
    from accelerate import PartialState

    from .training import RecipeError, TrainingRecipe, train
    from .training.catalog import resolve_recipe

    try:
        recipe = TrainingRecipe.from_yaml(resolve_recipe(args.recipe), args.overrides)
    except RecipeError as error:
        raise ValueError(str(error)) from error
    result = train(recipe, resume=not args.no_resume)
    if PartialState().is_main_process:
        print(f"model saved to {result.model_dir}")
    return 0


def run_recipes(args) -> int:
    from .training.catalog import format_recipe_table

    print(format_recipe_table())
    print("\ntrain one: hfpose train NAME data_root=/data/coco [key=value ...]  (a YAML path works too)")
    return 0


def run_demo(args) -> int:
    import os

    from .demo import DEMO_RECIPE, run_demo

    data_root = args.data_root
    if data_root is None:
        if not os.environ.get("HFPOSE_DATA"):
            raise ValueError("give the coco-mini folder: hfpose demo --data-root PATH (or set HFPOSE_DATA)")
        data_root = Path(os.environ["HFPOSE_DATA"]) / "coco-mini"
    metrics = run_demo(data_root, args.output_dir, recipe=args.recipe or DEMO_RECIPE, overrides=args.overrides)
    print(json.dumps(metrics, indent=2))
    print(f"wrote {args.output_dir}/metrics.json, prediction.png, loss_curve.png and model/")
    return 0


def run_evaluate(args) -> int:
    """`scripts/evaluate.py` as a subcommand (`evaluate_saved_model`), recording the command in the JSON."""
    from .evaluation import format_stats_table
    from .training.evaluation_loop import evaluate_saved_model

    report = evaluate_saved_model(
        args.model_dir,
        args.data_root,
        split=args.split,
        ann_file=args.ann_file,
        bbox_file=args.bbox_file,
        flip_test=not args.no_flip_test,
        score_mode=args.score_mode,
        nms_mode=args.nms_mode,
        batch_size=args.batch_size,
    )
    if report is None:  # not the main process
        return 0
    print(format_stats_table(report["stats"]))
    report["command"] = " ".join(
        ["hfpose", "evaluate", str(args.model_dir), "--data-root", str(args.data_root)]
        + (["--split", args.split] if args.split != "val2017" else [])
        + (["--bbox-file", args.bbox_file] if args.bbox_file else [])
        + (["--no-flip-test"] if args.no_flip_test else [])
    )
    output = Path(args.output or Path(args.model_dir) / f"eval_{args.split}.json")
    output.write_text(json.dumps(report, indent=2))
    print(f"wrote {output}")
    return 0


def run_convert(args) -> int:
    import time

    from .file_modes import honour_umask
    from .hub.convert_mmpose import convert_mmpose_checkpoint
    from .progress import step_line

    check = f", checking against {args.reference_npz}" if args.reference_npz else ""
    started = step_line(
        1, 2, f"reading {args.checkpoint} and converting it ({args.method}, {args.backbone}, {args.dataset}){check}"
    )
    model = convert_mmpose_checkpoint(
        args.checkpoint, args.method, args.backbone, args.dataset, args.output, reference_npz=args.reference_npz
    )
    honour_umask(args.output)
    step_line(2, 2, f"converted and saved in {time.time() - started:.1f} s")
    print(f"saved {type(model).__name__} ({sum(p.numel() for p in model.parameters()):,} parameters) to {args.output}")
    return 0


def _push_source(args) -> dict | None:
    if args.checkpoint_url or args.mmpose_config or args.verified_atol is not None:
        source = {"type": "mmpose"}
        for key, value in (
            ("checkpoint_url", args.checkpoint_url),
            ("mmpose_config", args.mmpose_config),
            ("verified_atol", args.verified_atol),
        ):
            if value is not None:
                source[key] = value
        return source
    if args.recipe:
        return {"type": "trained", "recipe": args.recipe}
    return None


def run_push(args) -> int:
    from .hub.push import prepare_upload, push_to_hub

    source = _push_source(args)
    if args.space and args.no_remote_code:
        raise ValueError(
            "--space needs the remote code (the Space loads the model without hfpose); drop --no-remote-code"
        )
    if args.dry_run:
        files = prepare_upload(
            args.model_dir,
            args.dry_run,
            args.repo_id,
            card_results=args.card_results,
            source=source,
            remote_code=not args.no_remote_code,
        )
        print("\n".join(files))
        if args.space:
            from .hub.space import write_space

            space_dir = Path(f"{Path(args.dry_run)}-space")
            print("\n".join(str(space_dir / name) for name in write_space(space_dir, args.repo_id)))
        return 0
    info = push_to_hub(
        args.model_dir,
        args.repo_id,
        private=args.private,
        card_results=args.card_results,
        source=source,
        remote_code=not args.no_remote_code,
        token=args.token,
    )
    print(f"pushed {args.model_dir} to {getattr(info, 'commit_url', args.repo_id)}")
    if args.space:
        from .hub.space import push_space

        info = push_space(args.repo_id, space_id=args.space_id, private=args.private, token=args.token)
        print(f"pushed the demo Space to {getattr(info, 'commit_url', args.space_id)}")
    return 0


def run_export(args) -> int:
    from .onnx import export_onnx

    result = export_onnx(args.model_dir, args.output, opset_version=args.opset, check=not args.no_check, verbose=True)
    print(json.dumps(result, indent=2))
    return 0


_RUNNERS = {
    "predict": run_predict,
    "train": run_train,
    "evaluate": run_evaluate,
    "convert": run_convert,
    "push": run_push,
    "export": run_export,
    "recipes": run_recipes,
    "demo": run_demo,
}
_RUNNERS["app"] = run_app


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `hfpose` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from .hub.push import HubOfflineError
    from .progress import quiet_library_bars
    from .training.distributed import DistributedLaunchError

    quiet_library_bars()  # in a log file: whole lines only, no carriage-return bars

    try:
        return _RUNNERS[args.command](args)
    except (FileNotFoundError, ValueError, TypeError, HubOfflineError, ImportError, DistributedLaunchError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
