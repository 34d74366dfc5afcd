"""Stock parts: nothing in src/ imports a private name (a leading underscore in the module path
or in the name) of the web and HTTP stack, or reaches for one as an attribute; a security
release of any of them can be taken without porting anything."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [*(ROOT / "src").rglob("*.py"), *(ROOT / "packages").rglob("src/**/*.py")]
STACK = (
    "fastapi",
    "starlette",
    "httpx",
    "httpcore",
    "uvicorn",
    "granian",
    "aiohttp",
    "httpx_aiohttp",
)


def private_uses(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in STACK:
                parts = node.module.split(".")
                names = [alias.name for alias in node.names]
                if any(p.startswith("_") for p in parts) or any(n.startswith("_") for n in names):
                    found.append(f"line {node.lineno}: from {node.module} import {names}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] in STACK and any(p.startswith("_") for p in parts):
                    found.append(f"line {node.lineno}: import {alias.name}")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in STACK:
                found.append(f"line {node.lineno}: {root.id}...{node.attr}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and str(node.args[1].value).startswith("_")
            and not str(node.args[1].value).startswith("__")
        ):
            found.append(f"line {node.lineno}: {node.func.id}(..., {node.args[1].value!r})")
    return found


@pytest.mark.parametrize("path", sorted(SOURCES), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_name_of_the_stack_is_used(path: Path):
    assert private_uses(ast.parse(path.read_text(), str(path))) == []


@pytest.mark.parametrize(
    "source",
    [
        "from fastapi._compat import ModelField",
        "from starlette._exception_handler import wrap_app_handling_exceptions",
        "from httpx import _client",
        "from granian._futures import _future_watcher_wrapper",
        "from granian.server.embed import _asgi_call_wrap",
        "import httpcore._async.connection_pool",
        "from fastapi.dependencies.utils import _get_param_aliases",
        "import httpx\nurl = httpx._urls.URL",
        "reference = getattr(url, '_uri_reference', None)",
    ],
)
def test_the_check_finds_what_it_looks_for(source: str):
    assert private_uses(ast.parse(source)) != []
