"""Rewrite the Stripe OpenAPI subset the tests check requests and answers against.

Takes Stripe's full spec (stripe/openapi, `latest/openapi.spec3.json`) from a local file or from
GitHub at a commit, keeps the operations the service and the emulator use and the schemas they
need, and writes `tests/support/stripe_spec/stripe-openapi.subset.json`. The output depends only
on the input and the commit (sorted keys, fixed indentation), so a refresh shows as a plain diff.

    python scripts/refresh_stripe_spec.py --commit <sha>                  # download that commit
    python scripts/refresh_stripe_spec.py path/to/openapi.spec3.json --commit <sha>

What is kept (see tests/support/stripe_spec/README.md):
- the operations in OPERATIONS, verbatim except for prose (`description` strings);
- the schemas in ROOT_SCHEMAS, every schema they reach whose name matches EXTRACTED, and so on
  transitively; any other schema they reach is stubbed as "any object" (`x-stub`).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.request
from collections import deque
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "tests" / "support" / "stripe_spec" / "stripe-openapi.subset.json"
SOURCE_REPOSITORY = "stripe/openapi"
SOURCE_PATH = "latest/openapi.spec3.json"
SOURCE_URL = "https://raw.githubusercontent.com/stripe/openapi/{commit}/latest/openapi.spec3.json"

# The endpoints the gateway calls and the emulator serves.
OPERATIONS = (
    ("get", "/v1/checkout/sessions"),
    ("post", "/v1/checkout/sessions"),
    ("get", "/v1/checkout/sessions/{session}"),
    ("post", "/v1/checkout/sessions/{session}"),
    ("post", "/v1/checkout/sessions/{session}/expire"),
    ("get", "/v1/checkout/sessions/{session}/line_items"),
    ("get", "/v1/payment_intents"),
    ("post", "/v1/payment_intents"),
    ("get", "/v1/payment_intents/{intent}"),
    ("post", "/v1/payment_intents/{intent}"),
    ("get", "/v1/payment_intents/{intent}/amount_details_line_items"),
)
# The objects those endpoints answer with, checked field by field.
ROOT_SCHEMAS = (
    "checkout.session",
    "error",
    "item",
    "payment_flows_amount_details",
    "payment_intent",
    "payment_intent_amount_details_line_item",
    "price",
)
# Referenced schemas that are parts of those objects (rather than other API resources, such as
# a customer or an invoice, which an answer only shows expanded on request): kept in full.
EXTRACTED = re.compile(r"address|api_errors|payment_flows_.*|payment_pages_checkout_session_.*")
REF_PREFIX = "#/components/schemas/"


def extract(spec: dict[str, Any], commit: str) -> dict[str, Any]:
    """The subset of `spec` (Stripe's full OpenAPI document) described in the module docstring."""
    paths: dict[str, dict[str, Any]] = {}
    for method, path in OPERATIONS:
        try:
            operation = spec["paths"][path][method]
        except KeyError:
            raise SystemExit(f"{method.upper()} {path} is not in the spec") from None
        paths.setdefault(path, {})[method] = _without_prose(operation)
    schemas = _schemas(spec["components"]["schemas"], [*ROOT_SCHEMAS, *_refs(paths)])
    return {
        "openapi": spec["openapi"],
        "info": {
            "title": "Stripe API: the subset amount-updater's tests check against",
            "version": spec["info"]["version"],
            "x-source": {"repository": SOURCE_REPOSITORY, "path": SOURCE_PATH, "commit": commit},
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _schemas(available: dict[str, Any], wanted: list[str]) -> dict[str, Any]:
    """The wanted schemas and what they reach: kept (roots, EXTRACTED names) or stubbed."""
    kept: dict[str, Any] = {}
    queue = deque(wanted)
    while queue:
        name = queue.popleft()
        if name in kept:
            continue
        if name not in ROOT_SCHEMAS and not EXTRACTED.fullmatch(name):
            kept[name] = {"type": "object", "x-stub": "not extracted: any object"}
            continue
        if name not in available:
            raise SystemExit(f"schema {name!r} is not in the spec")
        kept[name] = _without_prose(available[name])
        queue.extend(_refs(kept[name]))
    return kept


def _refs(node: Any) -> list[str]:
    """Names of the component schemas `node` refers to, in document order."""
    if isinstance(node, dict):
        found = []
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(REF_PREFIX):
                found.append(value.removeprefix(REF_PREFIX))
            else:
                found.extend(_refs(value))
        return found
    if isinstance(node, list):
        return [name for item in node for name in _refs(item)]
    return []


def _without_prose(node: Any) -> Any:
    """`node` without `description` texts (a property *named* description holds a schema, a
    dict, and stays)."""
    if isinstance(node, dict):
        return {
            key: _without_prose(value)
            for key, value in node.items()
            if not (key == "description" and isinstance(value, str))
        }
    if isinstance(node, list):
        return [_without_prose(item) for item in node]
    return node


def render(subset: dict[str, Any]) -> str:
    return json.dumps(subset, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def load(source: str | None, commit: str) -> dict[str, Any]:
    if source is None or source.startswith(("http://", "https://")):
        url = source or SOURCE_URL.format(commit=commit)
        with urllib.request.urlopen(url, timeout=120) as answer:
            return json.load(answer)  # type: ignore[no-any-return]
    return json.loads(Path(source).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "source",
        nargs="?",
        help="Stripe's openapi.spec3.json: a file or a URL (default: GitHub, at --commit)",
    )
    parser.add_argument("--commit", required=True, help="stripe/openapi commit of the source")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"default: {OUTPUT}")
    args = parser.parse_args(argv)
    subset = extract(load(args.source, args.commit), args.commit)
    args.output.write_text(render(subset), encoding="utf-8")
    stubs = sum("x-stub" in schema for schema in subset["components"]["schemas"].values())
    sys.stdout.write(
        f"{args.output}: {len(OPERATIONS)} operations, "
        f"{len(subset['components']['schemas'])} schemas ({stubs} stubbed), "
        f"Stripe API {subset['info']['version']}\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
