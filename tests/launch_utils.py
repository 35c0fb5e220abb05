"""Helpers for tests that start `accelerate launch` (a plain module: test files must not import `conftest`)."""


def free_port() -> str:
    """A TCP port on 127.0.0.1 that nothing listens on now, for `accelerate launch --main_process_port` (a fixed
    port collides with another run of the suite on the same machine)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


def cpu_ddp_launch(*script_and_args: str) -> tuple[list[str], dict[str, str]]:
    """``(command, env)`` for a real 2-process CPU data-parallel run of ``script_and_args`` through `accelerate launch`
    (the only form that gives DDP on CPU, see CONVENTIONS.md), one thread per process, offline, on a free port."""
    import os
    import sys

    env = {
        **os.environ,
        "ACCELERATE_USE_CPU": "1",
        "OMP_NUM_THREADS": "1",
        "OMP_WAIT_POLICY": "PASSIVE",
        "HF_HUB_OFFLINE": "1",
    }
    command = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        free_port(),
        *script_and_args,
    ]
    return command, env
