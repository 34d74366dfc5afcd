from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from amount_updater.api.answers import CatalogListing, CatalogProduct, CatalogShippingRate
from amount_updater.api.deps import ANONYMOUS_OR_API_KEY, CatalogDep
from amount_updater.api.rate_limits import limit_reads
from amount_updater.api.request_bodies import CURRENCY_PATTERN
from amount_updater.api.responses import problems
from amount_updater.errors import CurrencyNotSupported

router = APIRouter(tags=["catalog"], dependencies=[Depends(limit_reads)])


@router.get(
    "/v1/catalog",
    summary="Products and shipping rates priced in one currency (discount codes are not listed)",
    responses=problems(401, 422, 429),
    openapi_extra=ANONYMOUS_OR_API_KEY,
)
async def list_catalog(
    catalog: CatalogDep,
    # Described here rather than through CurrencyCode's Field: every FastAPI version in the
    # supported range then renders the parameter the same way.
    currency: Annotated[
        str, Query(pattern=CURRENCY_PATTERN, description="ISO 4217, any case", examples=["usd"])
    ] = "usd",
    country: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Za-z]{2}$",
            description="ISO 3166-1 alpha-2: only the shipping rates that serve it",
            examples=["US"],
        ),
    ] = None,
) -> CatalogListing:
    currency = currency.lower()
    if not catalog.supports(currency):
        raise CurrencyNotSupported(f"The catalog has no prices in {currency!r}.")
    return CatalogListing(
        currency=currency,
        products=[
            CatalogProduct(
                id=p.id,
                name=p.name,
                kind=p.kind.value,
                unit_amount=p.prices[currency],
                max_quantity=p.quantity_limit,
            )
            for p in catalog.products_in(currency)
        ],
        shipping_rates=[
            CatalogShippingRate(id=r.id, name=r.name, amount=r.prices[currency])
            for r in catalog.shipping_rates_in(currency)
            if country is None or r.serves(country.upper())
        ],
    )
