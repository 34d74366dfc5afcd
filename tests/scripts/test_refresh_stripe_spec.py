"""scripts/refresh_stripe_spec.py on a tiny synthetic spec: what it keeps, stubs and drops, and
that its output depends on nothing but its input."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "refresh_stripe_spec.py"


def load_script() -> Any:
    spec = importlib.util.spec_from_file_location("refresh_stripe_spec", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


refresh = load_script()


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def operation(answer: str) -> dict[str, Any]:
    return {
        "operationId": "Op",
        "description": "<p>Long prose.</p>",
        "responses": {
            "200": {"content": {"application/json": {"schema": ref(answer)}}},
            "default": {"content": {"application/json": {"schema": ref("error")}}},
        },
    }


def tiny_spec() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path in refresh.OPERATIONS:
        answer = "payment_intent" if "payment_intents" in path else "checkout.session"
        paths.setdefault(path, {})[method] = operation(answer)
    paths["/v1/coupons"] = {"get": operation("coupon")}  # not an operation the service uses
    obj = {"type": "object", "description": "An object.", "properties": {}}
    schemas = {name: dict(obj) for name in refresh.ROOT_SCHEMAS}
    schemas["checkout.session"] = {
        "type": "object",
        "description": "A Checkout Session.",
        "properties": {
            # A property named `description` is a schema, not prose: it stays.
            "description": {"type": "string", "nullable": True, "description": "Prose."},
            "customer": {"anyOf": [{"type": "string"}, ref("customer")]},
            "total_details": ref("payment_pages_checkout_session_total_details"),
        },
    }
    schemas["payment_pages_checkout_session_total_details"] = {
        "type": "object",
        "properties": {"breakdown": ref("line_items_tax_amount")},
    }
    schemas["customer"] = {"type": "object", "properties": {"email": {"type": "string"}}}
    schemas["coupon"] = dict(obj)
    return {
        "openapi": "3.0.0",
        "info": {"title": "Stripe API", "version": "2099-01-01.test", "description": "Prose."},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def run(tmp_path: Path, spec: dict[str, Any], name: str = "subset.json") -> Path:
    source, output = tmp_path / "openapi.spec3.json", tmp_path / name
    source.write_text(json.dumps(spec))
    assert refresh.main([str(source), "--commit", "c0ffee", "--output", str(output)]) == 0
    return output


def test_keeps_the_service_s_operations_and_schemas_and_stubs_the_rest(tmp_path, capsys):
    subset = json.loads(run(tmp_path, tiny_spec()).read_text())
    assert subset["info"] == {
        "title": "Stripe API: the subset amount-updater's tests check against",
        "version": "2099-01-01.test",
        "x-source": {
            "repository": "stripe/openapi",
            "path": "latest/openapi.spec3.json",
            "commit": "c0ffee",
        },
    }
    kept = {(method, path) for path, item in subset["paths"].items() for method in item}
    assert kept == set(refresh.OPERATIONS)  # /v1/coupons is left out
    schemas = subset["components"]["schemas"]
    assert "coupon" not in schemas
    assert schemas["customer"] == {"type": "object", "x-stub": "not extracted: any object"}
    assert schemas["line_items_tax_amount"]["x-stub"]  # reached through a kept part: stubbed
    assert schemas["payment_pages_checkout_session_total_details"]["properties"] == {
        "breakdown": ref("line_items_tax_amount")
    }
    session = schemas["checkout.session"]
    assert "description" not in session  # prose dropped...
    # ...but not fields named so
    assert session["properties"]["description"] == {"type": "string", "nullable": True}
    operation = subset["paths"]["/v1/checkout/sessions"]["post"]
    assert operation == {key: value for key, value in operation.items() if key != "description"}
    assert "11 operations, 10 schemas (2 stubbed)" in capsys.readouterr().out


def test_the_output_depends_only_on_the_input(tmp_path):
    spec = tiny_spec()
    first = run(tmp_path, spec, "first.json").read_bytes()
    spec["components"]["schemas"] = dict(reversed(spec["components"]["schemas"].items()))
    spec["paths"] = dict(reversed(spec["paths"].items()))
    assert run(tmp_path, spec, "second.json").read_bytes() == first


def test_a_missing_operation_or_schema_is_an_error(tmp_path):
    spec = tiny_spec()
    del spec["paths"]["/v1/payment_intents/{intent}"]["post"]
    missing = re.escape("POST /v1/payment_intents/{intent} is not in the spec")
    with pytest.raises(SystemExit, match=missing):
        run(tmp_path, spec)
    spec = tiny_spec()
    del spec["components"]["schemas"]["payment_pages_checkout_session_total_details"]
    with pytest.raises(SystemExit, match="payment_pages_checkout_session_total_details"):
        run(tmp_path, spec)
