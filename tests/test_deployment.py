"""What `amount-updater serve` refuses and what it defaults to, each shown on the real process."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from amount_updater.config import Settings, SettingsError
from amount_updater.deployment import check_start, demo_storefront_key, stripe_mode
from stripe_emulator import EmulatorState, create_emulator_app
from tests.support.servers import free_port, serve_in_thread
from tests.support.service_process import SANDBOX_ENV, running_service, wait_until_serving

SAMPLE = Path(__file__).resolve().parents[1] / "src/amount_updater/catalog/sample.toml"
TOKEN_SECRET = "d" * 64
LIVE = {"AMOUNT_UPDATER_STRIPE_SECRET_KEY": "sk_live_deploy"}
TEST = {"AMOUNT_UPDATER_STRIPE_SECRET_KEY": "sk_test_deploy"}


def serve(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`amount-updater serve` that is expected to refuse: it must exit before binding."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("amount-updater")), "serve", "--port", "1", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", **env},
    )


def refusal(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a refused start prints; exit code 2, no traceback."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.toml"
    path.write_text(SAMPLE.read_text())
    return path


# --- refusals -------------------------------------------------------------------------------


def test_a_live_key_without_a_catalog_path_is_refused(tmp_path: Path):
    line = refusal(serve(tmp_path, {**LIVE, "AMOUNT_UPDATER_TOKEN_SECRET": TOKEN_SECRET}))
    assert line.startswith("amount-updater: AMOUNT_UPDATER_CATALOG_PATH: a live Stripe key")


def test_a_restricted_live_key_counts_as_live(tmp_path: Path):
    env = {"AMOUNT_UPDATER_STRIPE_SECRET_KEY": "rk_live_x", "AMOUNT_UPDATER_TOKEN_SECRET": "d" * 64}
    assert "AMOUNT_UPDATER_CATALOG_PATH" in refusal(serve(tmp_path, env))


def test_a_live_key_without_a_token_secret_is_refused(tmp_path: Path, catalog: Path):
    line = refusal(serve(tmp_path, {**LIVE, "AMOUNT_UPDATER_CATALOG_PATH": str(catalog)}))
    assert line.startswith("amount-updater: AMOUNT_UPDATER_TOKEN_SECRET: a live Stripe key")


def test_several_workers_without_a_token_secret_are_refused(tmp_path: Path):
    line = refusal(serve(tmp_path, TEST, "--workers", "2"))
    assert line.startswith("amount-updater: AMOUNT_UPDATER_TOKEN_SECRET: 2 workers need one")


def test_no_key_and_no_sandbox_is_refused_saying_how_to_choose(tmp_path: Path):
    line = refusal(serve(tmp_path, {}))
    assert "AMOUNT_UPDATER_STRIPE_SECRET_KEY is not set" in line
    assert "amount-updater serve --sandbox" in line


def test_a_sandbox_with_a_key_is_refused(tmp_path: Path):
    line = refusal(serve(tmp_path, TEST, "--sandbox"))
    assert line.startswith("amount-updater: AMOUNT_UPDATER_SANDBOX: sandbox mode emulates")


def test_a_publishable_key_of_the_other_mode_is_refused(tmp_path: Path):
    env = {**TEST, "AMOUNT_UPDATER_STRIPE_PUBLISHABLE_KEY": "pk_live_x"}
    assert "AMOUNT_UPDATER_STRIPE_PUBLISHABLE_KEY" in refusal(serve(tmp_path, env))


# --- starts that go ahead -------------------------------------------------------------------


def test_a_test_key_without_a_catalog_warns_and_readyz_names_the_sample(tmp_path: Path):
    with running_service(TEST, tmp_path, log_name="serve.log") as url:
        catalog = httpx.get(f"{url}/readyz", timeout=10).json()["catalog"]
    log = (tmp_path / "serve.log").read_text()
    assert "AMOUNT_UPDATER_CATALOG_PATH is not set: selling the bundled sample catalog" in log
    assert "AMOUNT_UPDATER_TOKEN_SECRET is not set" in log
    assert catalog == {
        "path": "<package>/sample.toml",
        "sample": True,
        "sha256": hashlib.sha256(SAMPLE.read_bytes()).hexdigest(),
    }


def test_readyz_names_the_configured_catalog_and_its_hash(tmp_path: Path, catalog: Path):
    catalog.write_text(catalog.read_text() + "\n# this shop's edition\n")
    env = {**TEST, "AMOUNT_UPDATER_CATALOG_PATH": str(catalog)}
    with running_service(env, tmp_path, log_name="serve.log") as url:
        loaded = httpx.get(f"{url}/readyz", timeout=10).json()["catalog"]
    assert loaded == {
        "path": str(catalog),
        "sample": False,
        "sha256": hashlib.sha256(catalog.read_bytes()).hexdigest(),
    }
    assert "sample catalog" not in (tmp_path / "serve.log").read_text()


def non_loopback_address() -> str | None:
    """This machine's address on its default route, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent for a UDP connect
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def test_the_sandbox_binds_loopback_unless_told_otherwise(tmp_path: Path):
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to try the bind against")
    port = free_port()
    command = [str(Path(sys.executable).with_name("amount-updater")), "serve", "--sandbox"]
    log = tmp_path / "serve.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            env={"PATH": "/usr/bin:/bin"},
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", process, log)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://{address}:{port}/healthz", timeout=2)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert "SANDBOX MODE" in log.read_text()
    assert "WARNING" not in log.read_text()


def test_a_sandbox_bound_elsewhere_warns(tmp_path: Path):
    command = [str(Path(sys.executable).with_name("amount-updater")), "serve", "--sandbox"]
    with subprocess.Popen(
        [*command, "--host", "0.0.0.0", "--port", str(free_port())],
        env={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        assert process.stdout is not None
        banner = process.stdout.readline() + process.stdout.readline()
        process.terminate()
    assert "SANDBOX MODE" in banner
    assert "WARNING: the sandbox is bound to 0.0.0.0" in banner


# --- return URLs ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[str, EmulatorState]]:
    state = EmulatorState()
    with serve_in_thread(create_emulator_app(state)) as url:
        yield url, state


CART = {"currency": "usd", "items": [{"product_id": "mug"}]}


def test_the_sandbox_sends_shoppers_back_to_its_demo_page(tmp_path: Path):
    with running_service(SANDBOX_ENV, tmp_path) as url:
        created = httpx.post(f"{url}/v1/checkout-sessions", json=CART, timeout=10)
        assert created.status_code == 201, created.text
        held = httpx.get(
            f"{url}/_sandbox/stripe/v1/checkout/sessions/{created.json()['id']}",
            headers={"Authorization": "Bearer sk_test_sandbox"},
        ).json()
    assert held["return_url"] == f"{url}/"


def test_without_a_return_url_a_session_is_refused_before_stripe_is_called(
    tmp_path: Path, emulator: tuple[str, EmulatorState]
):
    emulator_url, state = emulator
    env = {**TEST, "AMOUNT_UPDATER_STRIPE_API_BASE": emulator_url}
    before = len(state.checkout_sessions)
    with running_service(env, tmp_path) as url:
        refused = httpx.post(f"{url}/v1/checkout-sessions", json=CART, timeout=10)
    assert refused.status_code == 422
    assert refused.json()["code"] == "return_url_required"
    assert len(state.checkout_sessions) == before


def test_return_urls_come_from_the_settings_and_the_allow_list(
    tmp_path: Path, emulator: tuple[str, EmulatorState]
):
    emulator_url, state = emulator
    env = {
        **TEST,
        "AMOUNT_UPDATER_STRIPE_API_BASE": emulator_url,
        "AMOUNT_UPDATER_RETURN_URL": "https://shop.example/return",
        "AMOUNT_UPDATER_RETURN_URL_ORIGINS": "https://checkout.shop.example",
    }
    with running_service(env, tmp_path) as url:
        default = httpx.post(f"{url}/v1/checkout-sessions", json=CART, timeout=10)
        allowed = httpx.post(
            f"{url}/v1/checkout-sessions",
            json={**CART, "return_url": "https://checkout.shop.example/done?order=7"},
            timeout=10,
        )
        before = len(state.checkout_sessions)
        elsewhere = httpx.post(
            f"{url}/v1/checkout-sessions",
            json={**CART, "return_url": "https://evil.example/phish"},
            timeout=10,
        )
    held = state.checkout_sessions
    assert held[default.json()["id"]]["return_url"] == "https://shop.example/return"
    assert held[allowed.json()["id"]]["return_url"] == "https://checkout.shop.example/done?order=7"
    assert elsewhere.status_code == 422
    assert elsewhere.json()["code"] == "invalid_return_url"
    assert len(state.checkout_sessions) == before


# --- the rules, without a process -------------------------------------------------------------


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_modes():
    assert stripe_mode(settings(sandbox=True)) == "sandbox"
    assert stripe_mode(settings(stripe_secret_key="sk_test_x")) == "test"
    assert stripe_mode(settings(stripe_secret_key="rk_live_x")) == "live"
    with pytest.raises(SettingsError):
        stripe_mode(settings())


def test_a_sandbox_start_has_nothing_to_warn_about():
    assert check_start(settings(sandbox=True)) == []


def test_the_demo_storefront_uses_a_test_publishable_key_only():
    test = settings(stripe_secret_key="sk_test_x", stripe_publishable_key="pk_test_x")
    assert demo_storefront_key(test) == "pk_test_x"
    assert demo_storefront_key(settings(stripe_secret_key="sk_test_x")) is None


def test_make_run_asks_for_the_sandbox_explicitly():
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "amount-updater serve --sandbox" in run


def test_address_collection_needs_every_rate_to_name_its_countries(tmp_path: Path):
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        '[products.a]\nname = "A"\nprices = { usd = 1000 }\n'
        '[shipping.world]\nname = "World"\nprices = { usd = 900 }\n'
        '[shipping.home]\nname = "Home"\nprices = { usd = 500 }\ncountries = ["US"]\n'
    )
    env = {
        **TEST,
        "AMOUNT_UPDATER_CATALOG_PATH": str(catalog),
        "AMOUNT_UPDATER_COLLECT_SHIPPING_ADDRESS": "true",
    }
    line = refusal(serve(tmp_path, env))
    assert line.startswith("amount-updater: AMOUNT_UPDATER_COLLECT_SHIPPING_ADDRESS: every")
    assert line.endswith("without countries: world")
