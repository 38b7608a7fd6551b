"""Maps a container image (and command/args) to a host program; no container engine here."""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass, field

HELLO_WORLD_TEXT = """
Hello from Docker!
This message shows that your installation appears to be working correctly.

To generate this message, Docker took the following steps:
 1. The Docker client contacted the Docker daemon.
 2. The Docker daemon pulled the "hello-world" image from the Docker Hub.
 3. The Docker daemon created a new container from that image which runs the
    executable that produces the output you are currently reading.
 4. The Docker daemon streamed that output to the Docker client, which sent it
    to your terminal.
"""

NGINX_INDEX = """<!DOCTYPE html>
<html>
<head><title>Welcome to nginx!</title></head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and working.</p>
</body>
</html>
"""

SHELL_IMAGES = ("busybox", "alpine", "ubuntu", "debian")
PYTHON_NAMES = ("python", "python3")


class ImagePullError(Exception):
    """The image cannot be run here; the message reads like a registry pull failure."""

    def __init__(self, image: str, detail: str) -> None:
        self.image = image
        self.reason = f'Failed to pull image "{image}": {detail}'
        super().__init__(self.reason)


@dataclass(frozen=True)
class Launch:
    """What to execute on the host for one workload."""

    argv: list[str]
    files: dict[str, str] = field(default_factory=dict)  # path relative to workdir -> content
    port_map: dict[int, int] = field(default_factory=dict)  # container port -> host port


def registry_host(image: str) -> str | None:
    """The registry part of an image reference, if it names one (as Docker decides it)."""
    first, sep, _ = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return None


def base_name(image: str) -> str:
    """Bare repository name: `docker.io/library/nginx:1.25` -> `nginx`."""
    last = image.rsplit("/", 1)[-1]
    return last.split("@", 1)[0].split(":", 1)[0]


def free_port() -> int:
    """A currently unused loopback TCP port (racy by nature, good enough for a dev tool)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def resolve(
    image: str, command: list[str] | None, args: list[str] | None, ports: list[int]
) -> Launch:
    """Pick the host program for an image; raise ImagePullError when there is none."""
    host = registry_host(image)
    if host is not None and host.split(":", 1)[0].endswith(".invalid"):
        raise ImagePullError(image, "dial tcp: lookup " + host + ": no such host")
    identity = {port: port for port in ports}  # host network: the process binds what it binds
    if command:
        return Launch(argv=_host_python([*command, *(args or [])]), port_map=identity)
    name = base_name(image)
    if name.startswith("nginx"):
        return _nginx(ports)
    if name.startswith("hello-world"):
        return Launch(
            argv=[sys.executable, "-c", "import sys; print(sys.argv[1])", HELLO_WORLD_TEXT]
        )
    if name.startswith(SHELL_IMAGES):
        return Launch(argv=_shell(args or []), port_map=identity)
    if name.startswith("python"):
        return Launch(argv=_python(args or []), port_map=identity)
    raise ImagePullError(image, "manifest unknown: the devnet has no host equivalent for it")


def _nginx(ports: list[int]) -> Launch:
    container_port = ports[0] if ports else 80
    host_port = free_port()
    argv = [sys.executable, "-m", "http.server", str(host_port), "--bind", "127.0.0.1"]
    argv += ["--directory", "html"]
    port_map = {port: port for port in ports[1:]} | {container_port: host_port}
    return Launch(argv=argv, files={"html/index.html": NGINX_INDEX}, port_map=port_map)


def _shell(args: list[str]) -> list[str]:
    # Docker semantics: args replace the image CMD (`sh`); flags such as `-c` go to sh itself.
    if not args or args[0].startswith("-"):
        return ["sh", *args]
    return _host_python(args)


def _python(args: list[str]) -> list[str]:
    if args and args[0] in PYTHON_NAMES:
        args = args[1:]
    return [sys.executable, *args]


def _host_python(argv: list[str]) -> list[str]:
    # Hosts often lack a `python` binary; run the interpreter we know exists.
    if argv and argv[0] in PYTHON_NAMES:
        return [sys.executable, *argv[1:]]
    return argv
