"""No Docker engine runs here, so the Dockerfile is checked for what can be checked: it parses,
builds in two stages, runs as a non-root user, has a health check, and its CMD is the command
the end-to-end tests start."""

from __future__ import annotations

import json
from pathlib import Path

DOCKERFILE = Path(__file__).resolve().parents[1] / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    parsed, pending = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, arguments = line.partition(" ")
        parsed.append((keyword.upper(), arguments.strip()))
    return parsed


def container_command() -> list[str]:
    cmd = [args for keyword, args in instructions() if keyword == "CMD"][-1]
    return json.loads(cmd)


def test_every_line_is_a_known_instruction():
    known = {"FROM", "ENV", "WORKDIR", "COPY", "RUN", "USER", "EXPOSE", "HEALTHCHECK", "CMD"}
    assert {keyword for keyword, _ in instructions()} <= known


def test_builds_in_two_stages():
    stages = [args for keyword, args in instructions() if keyword == "FROM"]
    assert len(stages) == 2
    assert any("--from=build" in args for keyword, args in instructions() if keyword == "COPY")


def test_runs_as_a_non_root_user():
    users = [args for keyword, args in instructions() if keyword == "USER"]
    assert users
    assert users[-1] not in {"root", "0", "0:0"}


def test_has_a_health_check_on_healthz():
    checks = [args for keyword, args in instructions() if keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    assert "/healthz" in checks[0]


def test_cmd_serves_on_all_interfaces_in_exec_form():
    assert container_command() == [
        "amount-updater",
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "8000",
    ]
