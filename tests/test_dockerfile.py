"""No Docker engine runs here, so the Dockerfile is checked for what can be checked: it parses,
builds in two stages, installs the locked dependencies and build backend with their hashes and
then the service alone, runs as a non-root user, has a health check, and its CMD is the command
the end-to-end tests start (tests/test_packaging.py installs as the build stage does and starts
that CMD)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"


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


def build_stage() -> list[tuple[str, str]]:
    parsed = instructions()
    runtime = next(i for i, (keyword, _) in enumerate(parsed) if i and keyword == "FROM")
    return parsed[:runtime]


def copied_sources() -> list[str]:
    """What the build stage COPYs from the build context."""
    sources = []
    for keyword, arguments in build_stage():
        if keyword == "COPY" and not arguments.startswith("--"):
            sources += arguments.split()[:-1]
    return sources


def pip_commands() -> list[str]:
    """The build stage's pip commands (`pip install`, `pip wheel`), in order."""
    commands = []
    for keyword, arguments in build_stage():
        if keyword == "RUN":
            commands += [c.strip() for c in arguments.split("&&") if "/bin/pip " in c]
    return commands


def test_installs_only_locked_hash_checked_packages_and_the_service_built_here():
    assert pip_commands() == [
        "/opt/venv/bin/pip install --require-hashes --no-deps -r requirements.lock",
        "/opt/build/bin/pip install --require-hashes --no-deps -r build-requirements.lock",
        # Without build isolation, pip fetches no build backend of its own choosing.
        "/opt/build/bin/pip wheel --no-deps --no-build-isolation -w /wheels .",
        "/opt/venv/bin/pip install --no-deps /wheels/amount_updater-*.whl",
    ]


def test_copies_the_locks_before_the_sources_and_what_the_wheel_needs():
    sources = copied_sources()
    assert sources[:2] == ["requirements.lock", "build-requirements.lock"], (
        "the locked layers are cached across source edits"
    )
    assert {"pyproject.toml", "README.md", "LICENSE", "src"} <= set(sources)
    assert all((ROOT / source).exists() for source in sources)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert not set(sources) & set(ignored)


def test_the_license_is_mit_and_pyproject_points_at_it():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "MIT"
    assert pyproject["project"]["license-files"] == ["LICENSE"]
    # An SPDX expression in `license` needs setuptools 77 (PEP 639).
    assert "setuptools>=77" in pyproject["build-system"]["requires"]
