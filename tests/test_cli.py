from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from amount_updater import __version__
from amount_updater.cli import main
from amount_updater.config import Settings


def test_check_catalog_accepts_the_sample(capsys):
    sample = Path(__file__).resolve().parents[1] / "src/amount_updater/catalog/sample.toml"
    assert main(["check-catalog", str(sample)]) == 0
    assert "ok: 6 products" in capsys.readouterr().out


def test_check_catalog_lists_each_problem(tmp_path: Path, capsys):
    bad = tmp_path / "catalog.toml"
    bad.write_text('[products.tshirt]\nname = "T"\nprices = { usd = 25.0, KWD = 7505 }\n')
    assert main(["check-catalog", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "invalid catalog" in err
    assert "products.tshirt.prices.usd" in err


def test_openapi_command_writes_the_document(tmp_path: Path):
    output = tmp_path / "openapi.json"
    assert main(["openapi", "--output", str(output)]) == 0
    assert json.loads(output.read_text())["info"]["title"] == "amount-updater"


def test_serve_refuses_an_invalid_catalog_before_binding(tmp_path: Path):
    (tmp_path / "bad.toml").write_text("[products.x]\nname = 1\n")
    result = subprocess.run(
        [sys.executable, "-m", "amount_updater", "serve", "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "AMOUNT_UPDATER_STRIPE_SECRET_KEY": "sk_test_x",
            "AMOUNT_UPDATER_CATALOG_PATH": str(tmp_path / "bad.toml"),
        },
    )
    assert result.returncode == 2
    assert "invalid catalog" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_a_bad_setting_in_one_line(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "amount_updater", "serve"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "AMOUNT_UPDATER_STRIPE_SECRET_KEY": "sk_test_x",
            "AMOUNT_UPDATER_STRIPE_TIMEOUT_S": "soon",
        },
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "amount-updater: AMOUNT_UPDATER_STRIPE_TIMEOUT_S: "
        "Input should be a valid number, unable to parse string as a number"
    ]


def test_version(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"amount-updater {__version__}"


def test_serve_help_shows_defaults_and_every_environment_variable(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    shown = capsys.readouterr().out
    assert "(default: 127.0.0.1)" in shown
    for name in Settings.model_fields:
        assert f"AMOUNT_UPDATER_{name.upper()}" in shown
    assert re.search(r"AMOUNT_UPDATER_REQUEST_BUDGET_S\s+15.0", shown)


def test_openapi_to_stdout(capsys):
    assert main(["openapi", "--output", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["info"]["title"] == "amount-updater"


def test_check_catalog_reports_every_problem_in_one_run(tmp_path: Path, capsys):
    bad = tmp_path / "catalog.toml"
    bad.write_text(
        "[colours]\n"
        '[products.a]\nname = "A"\nprices = { xyz = 100 }\n'
        '[products.b]\nname = ""\nprices = { usd = 1 }\n'
        "[shipping.fast]\nprices = { usd = 500 }\n"
        "[discounts.BOTH]\npercent_off = 10\namount_off = { usd = 1 }\n"
    )
    assert main(["check-catalog", str(bad)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"{bad}: invalid catalog, 5 problem(s)"
    assert lines[1:] == [
        "  - unknown section(s): colours",
        "  - products.a: prices: 'xyz' is not a currency Stripe supports",
        "  - products.b.name: String should have at least 1 character",
        "  - shipping.fast.name: Field required",
        "  - discounts.BOTH: set exactly one of percent_off or amount_off",
    ]


def test_check_catalog_notes_expired_codes(tmp_path: Path, capsys):
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        '[products.a]\nname = "A"\nprices = { usd = 100 }\n'
        "[discounts.SUMMER]\npercent_off = 10\nexpires_at = 2020-09-01T00:00:00Z\n"
    )
    assert main(["check-catalog", str(catalog)]) == 0
    out = capsys.readouterr().out
    assert "ok: 1 products" in out
    assert "note: discount SUMMER expired at 2020-09-01T00:00:00Z" in out
