"""The README stays a ten-minute read, and its API tour has a curl line for every route."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_the_readme_is_short():
    assert len(README.splitlines()) < 250


def test_the_tour_calls_every_documented_route():
    document = json.loads((ROOT / "openapi/openapi.json").read_text())
    curls = "\n".join(line for line in README.splitlines() if "$S/" in line)
    missing = []
    for path in document["paths"]:
        # /v1/checkout-sessions/{session_id}/items -> $S/v1/checkout-sessions/<anything>/items
        pattern = re.escape("$S" + path).replace(r"\{", "{").replace(r"\}", "}")
        pattern = re.sub(r"\{[^}]+\}", r"[^/ ]+", pattern)
        if path.startswith("/v1/payment-intents/"):
            continue  # the same operations as for sessions, said once
        if not re.search(pattern + r"(?![\w-])", curls):
            missing.append(path)
    assert missing == []
