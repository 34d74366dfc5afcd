from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from amount_updater.cli import main


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
        env={"PATH": "/usr/bin:/bin", "AMOUNT_UPDATER_CATALOG_PATH": str(tmp_path / "bad.toml")},
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
