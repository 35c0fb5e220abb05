"""Helpers for tests that start `accelerate launch` (a plain module: test files must not import `conftest`)."""


def free_port() -> str:
    """A TCP port on 127.0.0.1 that nothing listens on now, for `accelerate launch --main_process_port` (a fixed
    port collides with another run of the suite on the same machine)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])
