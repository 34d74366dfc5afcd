"""Loads and validates the TOML catalog file; serves lookups from memory."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from amount_updater.catalog.models import (
    Catalog,
    Discount,
    Product,
    ShippingRate,
    TaxBehavior,
    TaxSettings,
)
from amount_updater.errors import CurrencyNotSupported
from amount_updater.money.currencies import is_currency_code
from amount_updater.pricing.rules import CartRules

SAMPLE_CATALOG = "sample.toml"


class CatalogError(Exception):
    """The catalog file is missing, not TOML, or not a valid catalog. One problem per line."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"invalid catalog {source}: " + "; ".join(problems))


SECTIONS: dict[str, tuple[type[BaseModel], str]] = {
    "products": (Product, "id"),
    "shipping": (ShippingRate, "id"),
    "discounts": (Discount, "code"),
}


@dataclass(frozen=True, slots=True)
class CatalogSource:
    """Which catalog is loaded: its file (or the bundled sample) and a hash of its text."""

    path: str
    sample: bool
    sha256: str


def _entries(raw: dict[str, Any], section: str, problems: list[str]) -> dict[str, Any]:
    """One section's entries, validated one by one so that every bad entry is reported."""
    model, key = SECTIONS[section]
    table = raw.get(section, {})
    if not isinstance(table, dict):
        problems.append(f"[{section}] must be a table")
        return {}
    entries: dict[str, Any] = {}
    for name, entry in table.items():
        where = f"{section}.{name}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a table")
            continue
        if key in entry:
            problems.append(f"{where}: the table name is the {key}")
            continue
        entry_id = name.upper() if section == "discounts" else name
        if entry_id in entries:
            problems.append(f"{where}: defined twice (codes ignore case)")
            continue
        try:
            entries[entry_id] = model.model_validate({**entry, key: entry_id})
        except ValidationError as exc:
            problems.extend(_described(where, exc))
    return entries


def _described(where: str, exc: ValidationError) -> list[str]:
    """Pydantic's errors as `section.entry.field: message` lines."""
    lines = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"{where}.{field}: {message}" if field else f"{where}: {message}")
    return lines


def parse_catalog(text: str, source: str) -> Catalog:
    """The catalog in `text`, or a CatalogError listing every problem found in it."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(source, [f"not valid TOML: {exc}"]) from None
    problems: list[str] = []
    unknown = sorted(set(raw) - {*SECTIONS, "tax"})
    if unknown:
        problems.append(f"unknown section(s): {', '.join(unknown)}")
    sections: dict[str, Any] = {section: _entries(raw, section, problems) for section in SECTIONS}
    if not sections["products"] and not any("products" in p for p in problems):
        problems.append("the catalog has no products")
    try:
        tax = TaxSettings.model_validate(raw.get("tax", {}))
    except ValidationError as exc:
        problems.extend(_described("tax", exc))
    if problems:
        raise CatalogError(source, problems)
    return Catalog(tax=tax, **sections)


def catalog_notes(catalog: Catalog, now: datetime) -> list[str]:
    """What is valid but worth a look: codes already expired."""
    return [
        f"discount {code} expired at {discount.expires_at:%Y-%m-%dT%H:%M:%SZ}: "
        "shoppers who enter it are told so"
        for code, discount in catalog.discounts.items()
        if discount.expires_at is not None and discount.is_expired(now)
    ]


def load_catalog_source(path: Path | None) -> tuple[Catalog, CatalogSource]:
    """The catalog at `path`, or the sample catalog shipped in the package, and which it is."""
    if path is None:
        text = resources.files("amount_updater.catalog").joinpath(SAMPLE_CATALOG).read_text()
        name, sample = f"<package>/{SAMPLE_CATALOG}", True
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CatalogError(str(path), [exc.strerror or str(exc)]) from None
        name, sample = str(path), False
    digest = hashlib.sha256(text.encode()).hexdigest()
    return parse_catalog(text, name), CatalogSource(name, sample, digest)


def load_catalog(path: Path | None) -> Catalog:
    """Read the catalog at `path`, or the sample catalog shipped in the package."""
    return load_catalog_source(path)[0]


class CatalogRepository:
    """The service's only way to the catalog: lookups over a validated catalog held in memory
    for the life of the app, and the rules for one cart (`rules`)."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def rules(self, currency: str, now: datetime) -> CartRules:
        """The catalog's rules for a cart in `currency` at `now`; CurrencyNotSupported when
        the catalog has no prices in it."""
        currency = currency.lower()
        if not is_currency_code(currency) or not self.supports(currency):
            raise CurrencyNotSupported(f"The catalog has no prices in {currency!r}.")
        return CartRules(self._catalog, currency, now)

    def product(self, product_id: str) -> Product | None:
        return self._catalog.products.get(product_id)

    def shipping_rate(self, rate_id: str) -> ShippingRate | None:
        return self._catalog.shipping.get(rate_id)

    def products_in(self, currency: str) -> list[Product]:
        return [p for p in self._catalog.products.values() if currency in p.prices]

    def shipping_rates_in(self, currency: str) -> list[ShippingRate]:
        return [r for r in self._catalog.shipping.values() if currency in r.prices]

    def supports(self, currency: str) -> bool:
        return currency in self._catalog.currencies

    @property
    def address_countries(self) -> frozenset[str] | None:
        """Where shipping addresses can be collected (`Catalog.address_countries`)."""
        return self._catalog.address_countries

    @property
    def tax_behavior(self) -> TaxBehavior | None:
        """Whether catalog prices include tax, for Stripe Tax; None leaves it to Stripe."""
        return self._catalog.tax.behavior
