"""Stripe list objects and cursor pagination (``limit``, ``starting_after``, ``ending_before``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .errors import invalid_param, parameters_exclusive
from .params import read_expand, read_int, read_str, reject_unknown

DEFAULT_LIMIT = 10
LIST_PARAMS = ("limit", "starting_after", "ending_before", "expand")


def list_object(data: Sequence[dict[str, Any]], *, has_more: bool, url: str) -> dict[str, Any]:
    return {"object": "list", "data": list(data), "has_more": has_more, "url": url}


def first_page(items: Sequence[dict[str, Any]], url: str) -> dict[str, Any]:
    """What an expanded list property holds: only the first page."""
    return list_object(items[:DEFAULT_LIMIT], has_more=len(items) > DEFAULT_LIMIT, url=url)


def paginate(
    items: Sequence[dict[str, Any]],
    params: Mapping[str, Any],
    *,
    url: str,
    item_name: str,
    filters: Sequence[str] = (),
) -> dict[str, Any]:
    """One page of ``items`` (in their given order) per Stripe's list parameters.

    ``filters`` names the endpoint's own filter parameters, which the caller has applied.
    """
    reject_unknown(params, (*LIST_PARAMS, *filters))
    # No list expansion (e.g. data.price.product) is emulated: refuse rather than ignore it.
    read_expand(params, ())
    limit = DEFAULT_LIMIT
    if "limit" in params:
        limit = read_int(params["limit"], "limit", minimum=1, maximum=100)
    if "starting_after" in params and "ending_before" in params:
        raise parameters_exclusive("ending_before", ["starting_after", "ending_before"])
    if "starting_after" in params:
        start = _cursor_index(items, params, "starting_after", item_name) + 1
        page = items[start : start + limit]
        return list_object(page, has_more=start + limit < len(items), url=url)
    if "ending_before" in params:
        end = _cursor_index(items, params, "ending_before", item_name)
        begin = max(0, end - limit)
        return list_object(items[begin:end], has_more=begin > 0, url=url)
    return list_object(items[:limit], has_more=limit < len(items), url=url)


def _cursor_index(
    items: Sequence[dict[str, Any]], params: Mapping[str, Any], name: str, item_name: str
) -> int:
    cursor = read_str(params[name], name)
    for index, item in enumerate(items):
        if item["id"] == cursor:
            return index
    raise invalid_param(f"No such {item_name}: '{cursor}'", name, "resource_missing")
