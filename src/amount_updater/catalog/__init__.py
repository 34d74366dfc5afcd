"""The service's own catalog: the only source of prices."""

from amount_updater.catalog.models import Catalog, Discount, Product, ProductKind, ShippingRate
from amount_updater.catalog.repository import CatalogError, CatalogRepository, load_catalog

__all__ = [
    "Catalog",
    "CatalogError",
    "CatalogRepository",
    "Discount",
    "Product",
    "ProductKind",
    "ShippingRate",
    "load_catalog",
]
