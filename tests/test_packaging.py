"""The image, as far as it can be checked without a Docker engine: from what the Dockerfile's
build stage copies, build the wheel with the locked build backend (build-requirements.lock, no
build isolation); install requirements.lock (hashes required) and then the wheel (no
dependencies) into a fresh venv, as the build stage does; start the Dockerfile's CMD from that
venv and ask it for /healthz and /readyz. The locks are checked too: they pin what pyproject.toml
requires, at runtime and to build, with versions it admits, each with its hashes.

Slow (a venv and some fifty installs, from pip's cache when warm): one fixture for the module."""

from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.servers import free_port
from tests.support.service_process import wait_until_serving
from tests.test_dockerfile import build_stage, container_command

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
BUILD_LOCK = ROOT / "build-requirements.lock"  # the build backend
SAMPLE_CATALOG = ROOT / "src/amount_updater/catalog/sample.toml"
# Not built into the image (.dockerignore): caches and build leftovers of a developer's tree.
NOT_COPIED = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
PIP_TIMEOUT_S = 600


def runtime_requirements() -> list[Requirement]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [Requirement(line) for line in pyproject["project"]["dependencies"]]


def build_requirements() -> list[Requirement]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [Requirement(line) for line in pyproject["build-system"]["requires"]]


def lock_entries(lock: Path = LOCK) -> list[str]:
    """Each requirement of a lock file on one line (continuations joined, comments dropped)."""
    entries, pending = [], ""
    for raw in lock.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        entries.append(pending + line)
        pending = ""
    assert not pending, "the lock file ends inside a requirement"
    return entries


def locked_versions(lock: Path = LOCK) -> dict[str, str]:
    pins = {}
    for entry in lock_entries(lock):
        name, _, rest = entry.partition("==")
        pins[canonicalize_name(name)] = rest.split()[0]
    return pins


def build_context(tmp: Path) -> Path:
    """What the build stage COPYs from the build context, laid out as in its WORKDIR."""
    context = tmp / "context"
    context.mkdir()
    for keyword, arguments in build_stage():
        if keyword != "COPY" or arguments.startswith("--"):
            continue
        *sources, destination = arguments.split()
        target = context / destination.removeprefix("./")
        for source in sources:
            origin = ROOT / source
            if origin.is_dir():
                shutil.copytree(origin, target, ignore=NOT_COPIED)
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, target / origin.name)
    return context


def run(command: list[str | Path], cwd: Path) -> None:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=PIP_TIMEOUT_S,
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"


@dataclass
class Installed:
    wheel: Path
    venv: Path
    url: str
    log: Path


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    tmp = tmp_path_factory.mktemp("packaging")
    context = build_context(tmp)
    # The wheel, built as the build stage does: with the locked backend, in a venv of its own.
    build = tmp / "build"
    run([sys.executable, "-m", "venv", build], cwd=tmp)
    build_pip = [build / "bin/python", "-m", "pip"]
    run([*build_pip, "install", "--require-hashes", "--no-deps", "-r", BUILD_LOCK.name], context)
    wheels = tmp / "wheels"
    run([*build_pip, "wheel", "--no-deps", "--no-build-isolation", "-w", wheels, "."], context)
    (wheel,) = wheels.glob("amount_updater-*.whl")

    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", venv], cwd=tmp)
    pip = [venv / "bin/python", "-m", "pip"]
    run([*pip, "install", "--require-hashes", "--no-deps", "-r", "requirements.lock"], context)
    run([*pip, "install", "--no-deps", wheel], cwd=tmp)
    run([*pip, "check"], cwd=tmp)

    catalog = tmp / "catalog" / "catalog.toml"
    catalog.parent.mkdir()
    shutil.copy2(SAMPLE_CATALOG, catalog)
    port = free_port()
    command = container_command()
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(port)
    command[0] = str(venv / "bin" / command[0])
    env = {
        "PATH": f"{venv / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "AMOUNT_UPDATER_STRIPE_SECRET_KEY": "sk_test_packaging",
        "AMOUNT_UPDATER_TOKEN_SECRET": "5e" * 32,
        "AMOUNT_UPDATER_CATALOG_PATH": str(catalog),
        # Stripe at a closed loopback port: /readyz answers "unreachable" at once, and no test
        # request leaves the machine.
        "AMOUNT_UPDATER_STRIPE_API_BASE": f"http://127.0.0.1:{free_port()}",
    }
    workdir = tmp / "workdir"  # the image's WORKDIR is /tmp: no .env file lies there
    workdir.mkdir()
    log = tmp / "service.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, process, log)
        yield Installed(wheel, venv, url, log)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_installed_cmd_is_alive(installed: Installed):
    response = httpx.get(f"{installed.url}/healthz", timeout=5)
    assert response.status_code == 200, installed.log.read_text()
    assert response.json()["status"] == "ok"
    assert response.json()["stripe"] == "test"


def test_the_installed_cmd_reports_readiness_and_the_mounted_catalog(installed: Installed):
    response = httpx.get(f"{installed.url}/readyz", timeout=10)
    assert response.status_code in {200, 503}, installed.log.read_text()
    body = response.json()
    assert body["checks"]["catalog"] == "ok"
    assert body["catalog"]["sample"] is False
    assert body["catalog"]["path"].endswith("catalog.toml")


def test_the_venv_holds_exactly_the_locked_versions(installed: Installed):
    result = subprocess.run(
        [installed.venv / "bin/python", "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    )
    installed_versions = {
        canonicalize_name(name): version
        for name, _, version in (line.partition("==") for line in result.stdout.splitlines())
    }
    assert installed_versions.pop("amount-updater") == "0.1.0"
    for tool in ("pip", "setuptools", "wheel"):
        installed_versions.pop(tool, None)
    assert installed_versions == locked_versions()


def test_the_wheel_carries_the_license(installed: Installed):
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = wheel.namelist()
        (metadata_name,) = [name for name in names if name.endswith(".dist-info/METADATA")]
        metadata = email.message_from_bytes(wheel.read(metadata_name))
        (license_name,) = [name for name in names if name.endswith(".dist-info/licenses/LICENSE")]
        assert wheel.read(license_name) == (ROOT / "LICENSE").read_bytes()
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]


@pytest.mark.parametrize(
    ("lock", "requirements"), [(LOCK, runtime_requirements), (BUILD_LOCK, build_requirements)]
)
def test_the_locks_pin_what_pyproject_requires_with_versions_it_admits(lock, requirements):
    pins = locked_versions(lock)
    for requirement in requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in {lock.name}: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{lock.name} pins {name}=={pins[name]}, outside {requirement}: run `make lock`"
        )


@pytest.mark.parametrize("lock", [LOCK, BUILD_LOCK])
def test_every_lock_entry_is_pinned_with_hashes(lock: Path):
    entries = lock_entries(lock)
    assert entries
    pinned = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[^\s;]+( --hash=sha256:[0-9a-f]{64})+$")
    for entry in entries:
        assert pinned.match(entry), f"not pinned with sha256 hashes: {entry}"


@pytest.mark.parametrize(("lock", "source"), [(LOCK, "pyproject.toml"), (BUILD_LOCK, "-")])
def test_the_locks_are_for_the_images_platform_and_say_how_they_were_made(lock, source):
    header = lock.read_text().splitlines()[:2]
    assert header[0].startswith("# This file was autogenerated by uv")
    command = header[1].lstrip("# ").strip()
    flags = "--generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28"
    assert command == f"uv pip compile {source} {flags} -o {lock.name}"
    makefile = (ROOT / "Makefile").read_text()
    assert f"LOCK_FOR := {flags}\n" in makefile
    assert f"uv pip compile {source} $(LOCK_FOR) -o {lock.name}" in makefile, (
        "`make lock` runs another command"
    )


def test_a_production_install_carries_no_stripe_emulator(installed: Installed):
    with zipfile.ZipFile(installed.wheel) as wheel:
        assert not [name for name in wheel.namelist() if "emulator" in name]
        (metadata_name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = wheel.read(metadata_name).decode()
    assert 'amount-updater-stripe-emulator==0.1.0; extra == "sandbox"' in metadata
    python = installed.venv / "bin" / "python"
    probe = subprocess.run(
        [str(python), "-c", "import stripe_emulator"], capture_output=True, text=True
    )
    assert probe.returncode != 0


def test_without_the_emulator_the_sandbox_refuses_to_start(installed: Installed, tmp_path: Path):
    result = subprocess.run(
        [str(installed.venv / "bin" / "amount-updater"), "serve", "--sandbox", "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert "the Stripe emulator is not installed; install the sandbox extra" in result.stderr
