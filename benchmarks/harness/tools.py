"""Find the load tools (nginx with the echo module, wrk, npm); apt-get install what is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

Say = Callable[[str], None]

ECHO_MODULE = "ngx_http_echo_module.so"
MODULE_DIRS = (
    Path("/usr/lib/nginx/modules"),
    Path("/usr/share/nginx/modules"),
    Path("/usr/lib64/nginx/modules"),
    Path("/etc/nginx/modules"),
)
NGINX_PACKAGES = ("nginx-light", "nginx")  # the first with an install candidate is used
ECHO_PACKAGE = "libnginx-mod-http-echo"
APT_TIMEOUT_S = 900


class ToolError(Exception):
    """A tool the harness cannot run without is missing and could not be installed."""


@dataclass(frozen=True, slots=True)
class LoadTools:
    nginx: str
    echo_module: Path | None  # None: compiled into nginx
    wrk: str


def _which(name: str, extra: Sequence[str] = ("/usr/sbin", "/sbin")) -> str | None:
    path = os.environ.get("PATH", "") + os.pathsep + os.pathsep.join(extra)
    return shutil.which(name, path=path)


def _echo_module() -> Path | None:
    return next((d / ECHO_MODULE for d in MODULE_DIRS if (d / ECHO_MODULE).is_file()), None)


def _nginx_has_echo_built_in(nginx: str) -> bool:
    result = subprocess.run([nginx, "-V"], capture_output=True, text=True, timeout=10)
    configure = result.stderr + result.stdout
    return "echo-nginx-module" in configure or "http-echo" in configure


def _find_load_tools() -> tuple[LoadTools | None, list[str]]:
    """The tools, or None and the names of what is missing."""
    nginx, wrk = _which("nginx"), _which("wrk")
    module = _echo_module()
    missing = []
    if nginx is None:
        missing.append("nginx")
    elif module is None and not _nginx_has_echo_built_in(nginx):
        missing.append("nginx echo module")
    if wrk is None:
        missing.append("wrk")
    if missing or nginx is None or wrk is None:
        return None, missing
    return LoadTools(nginx, module, wrk), []


def _apt_has_candidate(package: str) -> bool:
    try:
        result = subprocess.run(
            ["apt-cache", "policy", package], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    for line in result.stdout.splitlines():
        if line.strip().startswith("Candidate:"):
            return line.split(":", 1)[1].strip() not in {"", "(none)"}
    return False


def apt_install(packages: Sequence[str], say: Say, *, update: bool = True) -> None:
    """`apt-get update` then `apt-get install -y`; ToolError when impossible or failed."""
    if shutil.which("apt-get") is None:
        raise ToolError(f"apt-get not found: install {' '.join(packages)} by hand")
    if os.geteuid() != 0:
        raise ToolError(f"not root: run `sudo apt-get install -y {' '.join(packages)}`")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    say(f"installing {' '.join(packages)} with apt-get")
    commands = [["apt-get", "install", "-y", "-qq", *packages]]
    if update:
        commands.insert(0, ["apt-get", "update", "-qq"])
    for command in commands:
        result = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=APT_TIMEOUT_S
        )
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-10:])
            raise ToolError(f"`{' '.join(command)}` failed:\n{tail}")


def _load_packages() -> list[str]:
    nginx = next((p for p in NGINX_PACKAGES if _apt_has_candidate(p)), NGINX_PACKAGES[-1])
    return [nginx, ECHO_PACKAGE, "wrk"]


def ensure_load_tools(say: Say) -> LoadTools:
    """nginx + echo module + wrk, installed with apt-get when one is missing."""
    tools, missing = _find_load_tools()
    if tools is not None:
        return tools
    say(f"missing: {', '.join(missing)}")
    if shutil.which("apt-get") is not None and os.geteuid() == 0:
        # apt-cache needs fresh lists to tell which nginx package exists (nginx-light or nginx).
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True, timeout=APT_TIMEOUT_S)
    apt_install(_load_packages(), say, update=False)
    tools, missing = _find_load_tools()
    if tools is None:
        raise ToolError(f"still missing after apt-get install: {', '.join(missing)}")
    return tools


def ensure_npm(say: Say) -> str | None:
    """npm (and node), installed with apt-get when missing; None (and a note) if impossible."""
    npm = _which("npm")
    if npm is not None and _which("node") is not None:
        return npm
    try:
        apt_install(["npm"], say)
    except (ToolError, subprocess.TimeoutExpired) as exc:
        say(f"npm unavailable: {exc}")
        return None
    return _which("npm")


def version_of(command: Sequence[str]) -> str:
    """First line a `--version`-style command prints, or '?'."""
    try:
        result = subprocess.run(list(command), capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    lines = (result.stdout + result.stderr).strip().splitlines()
    return lines[0].strip() if lines else "?"
