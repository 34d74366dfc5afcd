"""Sandbox mode's defaults (sandbox/defaults.py), which `serve` applies where the sandbox is
entered: automatic tax and shipping-address collection on, unless the environment or .env sets
them, and collection only with a catalog whose shipping rates all name their countries.
(test_demo_browser.py shows the result: the served page taxes a Canadian address.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from amount_updater.config import Settings
from amount_updater.sandbox.defaults import sandbox_environment

BOTH = {
    "AMOUNT_UPDATER_AUTOMATIC_TAX": "true",
    "AMOUNT_UPDATER_COLLECT_SHIPPING_ADDRESS": "true",
}
PRODUCT = '[products.mug]\nname = "Mug"\nprices = { usd = 1200 }\n'


@pytest.fixture(autouse=True)
def no_settings_around(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither the test runner's environment nor a .env file sets these."""
    for name in BOTH:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def sandbox(**settings: object) -> Settings:
    return Settings(sandbox=True, **settings)  # type: ignore[arg-type]


def catalog(tmp_path: Path, shipping: str) -> Path:
    path = tmp_path / "catalog.toml"
    path.write_text(PRODUCT + shipping)
    return path


def test_the_sample_catalog_gets_tax_and_address_collection():
    assert sandbox_environment(sandbox()) == BOTH


def test_what_the_environment_or_dotenv_sets_is_kept(monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.setenv("AMOUNT_UPDATER_AUTOMATIC_TAX", "false")
    assert sandbox_environment(sandbox()) == {"AMOUNT_UPDATER_COLLECT_SHIPPING_ADDRESS": "true"}
    (tmp_path / ".env").write_text("AMOUNT_UPDATER_COLLECT_SHIPPING_ADDRESS=false\n")
    assert sandbox_environment(sandbox()) == {}


def test_a_catalog_with_a_worldwide_rate_gets_tax_only(tmp_path: Path):
    worldwide = catalog(
        tmp_path,
        '[shipping.home]\nname = "Home"\nprices = { usd = 500 }\ncountries = ["US"]\n'
        '[shipping.world]\nname = "World"\nprices = { usd = 900 }\n',
    )
    assert sandbox_environment(sandbox(catalog_path=worldwide)) == {
        "AMOUNT_UPDATER_AUTOMATIC_TAX": "true"
    }
    no_rates = catalog(tmp_path, "")
    assert sandbox_environment(sandbox(catalog_path=no_rates)) == {
        "AMOUNT_UPDATER_AUTOMATIC_TAX": "true"
    }
    listed = catalog(
        tmp_path, '[shipping.home]\nname = "Home"\nprices = { usd = 500 }\ncountries = ["US"]\n'
    )
    assert sandbox_environment(sandbox(catalog_path=listed)) == BOTH
