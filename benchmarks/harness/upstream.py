"""The Stripe stand-in: nginx + echo module serving a ~6 KB open Checkout Session, 0 and 100 ms.

The body comes from `benchmarks/upstream/checkout_session.json`; the config from
`benchmarks/upstream/nginx.conf.template` (see its header for how a request is answered).
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness.procs import free_port, running
from harness.tools import LoadTools

UPSTREAM_DIR = Path(__file__).resolve().parents[1] / "upstream"
SESSION_JSON = UPSTREAM_DIR / "checkout_session.json"
CONF_TEMPLATE = UPSTREAM_DIR / "nginx.conf.template"
SLOW_DELAY_S = 0.1
ADDED_AMOUNT = 500  # the POST answer: the session with gift_wrap's price added to amount_total
TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi", "bodies")
PROBE_ID = "cs_test_bench_probe"


class UpstreamError(Exception):
    """The stand-in does not answer as a Stripe Checkout Session endpoint would."""


@dataclass(frozen=True, slots=True)
class Upstream:
    fast_port: int
    slow_port: int

    def base(self, *, slow: bool) -> str:
        return f"http://127.0.0.1:{self.slow_port if slow else self.fast_port}"

    def session_url(self, session_id: str, *, slow: bool) -> str:
        return f"{self.base(slow=slow)}/v1/checkout/sessions/{session_id}"


def _body_after_id(session: dict[str, object]) -> str:
    """The pretty-printed session without its id, minus the opening brace: nginx writes
    `{"id": "<requested id>",` and then this."""
    rest = {key: value for key, value in session.items() if key != "id"}
    return json.dumps(rest, indent=2)[1:] + "\n"


def write_bodies(bodies: Path) -> None:
    session = json.loads(SESSION_JSON.read_text())
    (bodies / "GET.json").write_text(_body_after_id(session))
    updated = {**session, "amount_total": int(session["amount_total"]) + ADDED_AMOUNT}
    (bodies / "POST.json").write_text(_body_after_id(updated))


def render_config(prefix: Path, tools: LoadTools, fast_port: int, slow_port: int) -> str:
    load = f"load_module {tools.echo_module};" if tools.echo_module else ""
    values = {
        "LOAD_MODULE": load,
        "PREFIX": str(prefix),
        "FAST_PORT": str(fast_port),
        "SLOW_PORT": str(slow_port),
        "SLOW_DELAY_S": f"{SLOW_DELAY_S:g}",
    }
    text = CONF_TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", value)
    return text


@contextmanager
def nginx_upstream(tools: LoadTools, workdir: Path) -> Iterator[Upstream]:
    """Run nginx in the foreground with everything under `workdir`; stop it on exit."""
    prefix = workdir / "nginx"
    for name in TEMP_DIRS:
        (prefix / name).mkdir(parents=True, exist_ok=True)
    # Run as root, nginx's worker switches to an unprivileged user: it must reach the bodies.
    workdir.chmod(workdir.stat().st_mode | 0o111)
    for path in (prefix, prefix / "bodies"):
        path.chmod(0o755)
    write_bodies(prefix / "bodies")
    upstream = Upstream(free_port(), free_port())
    conf = prefix / "nginx.conf"
    conf.write_text(render_config(prefix, tools, upstream.fast_port, upstream.slow_port))
    test = subprocess.run(
        [tools.nginx, "-t", "-p", str(prefix), "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if test.returncode != 0:
        raise UpstreamError(f"nginx -t failed:\n{test.stderr}")
    command = [tools.nginx, "-p", str(prefix), "-c", str(conf)]
    with running(command, port=upstream.fast_port, env={}, cwd=prefix, log=prefix / "stdout.log"):
        yield upstream


def _fetch(url: str, method: str) -> tuple[dict[str, object], dict[str, str], float]:
    data = b"line_items[0][quantity]=1" if method == "POST" else None
    request = urllib.request.Request(url, data=data, method=method)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            payload = response.read()
            headers = {key.lower(): value for key, value in response.headers.items()}
        body = json.loads(payload)
    except (OSError, ValueError) as exc:
        raise UpstreamError(f"{method} {url}: {exc}") from None
    if not isinstance(body, dict):
        raise UpstreamError(f"{method} {url}: not a JSON object")
    return body, headers, time.monotonic() - started


def check_upstream(upstream: Upstream) -> list[str]:
    """GET and POST on both servers answer the session (id echoed, JSON, Request-Id, delay);
    one line per check, UpstreamError on the first failure."""
    base_total = int(json.loads(SESSION_JSON.read_text())["amount_total"])
    lines = []
    for slow in (False, True):
        for method in ("GET", "POST"):
            url = upstream.session_url(PROBE_ID, slow=slow) + "?expand[0]=line_items"
            body, headers, elapsed = _fetch(url, method)
            expected_total = base_total + (ADDED_AMOUNT if method == "POST" else 0)
            problems = _problems(body, headers, elapsed, expected_total, slow=slow)
            if problems:
                raise UpstreamError(f"{method} {url}: {'; '.join(problems)}")
            size = len(json.dumps(body, indent=2))
            lines.append(
                f"{method} {'100' if slow else '0'} ms: 200, {size:,} B, amount_total "
                f"{body['amount_total']}, Request-Id {headers['request-id'][:12]}..., "
                f"{elapsed * 1000:.1f} ms"
            )
    return lines


def _problems(
    body: dict[str, object],
    headers: dict[str, str],
    elapsed: float,
    expected_total: int,
    *,
    slow: bool,
) -> list[str]:
    problems = []
    if body.get("id") != PROBE_ID or body.get("status") != "open":
        problems.append("not the requested open session")
    if not headers.get("content-type", "").startswith("application/json"):
        problems.append(f"content-type {headers.get('content-type')!r}")
    if not headers.get("request-id", "").startswith("req_"):
        problems.append("no Request-Id")
    line_items = body.get("line_items")
    if not isinstance(line_items, dict) or len(line_items.get("data", [])) != 3:
        problems.append("line_items is not an expanded list of 3")
    if body.get("amount_total") != expected_total:
        problems.append(f"amount_total {body.get('amount_total')} != {expected_total}")
    if slow and elapsed < SLOW_DELAY_S:
        problems.append(f"answered in {elapsed * 1000:.0f} ms, before the delay")
    return problems
