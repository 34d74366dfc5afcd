"""api_url builds the URL of a Stripe call without re-parsing it: it must be the URL httpx would
have parsed from the whole string."""

from __future__ import annotations

import string
from urllib.parse import urlencode

import httpx
from hypothesis import given
from hypothesis import strategies as st

from amount_updater.stripe_gateway.wire import api_url

BASES = ["https://api.stripe.com/", "http://127.0.0.1:8123/_sandbox/stripe/"]

plain_segments = st.text(
    alphabet=string.ascii_letters + string.digits + "_", min_size=1, max_size=12
)
# A few segments api_url has to quote: spaces and non-ASCII letters.
odd_segments = st.one_of(
    st.sampled_from(["with space", "café", "naïve résumé", "日本", "€"]),
    st.text(alphabet="ab_ éüß日€", min_size=1, max_size=8),
)
paths = st.builds(
    lambda leading, segments: ("/" if leading else "") + "/".join(segments),
    st.booleans(),
    st.lists(st.one_of(plain_segments, plain_segments, plain_segments, odd_segments), min_size=1),
)
form_keys = st.one_of(
    st.sampled_from(["limit", "expand[]", "expand[0]", "metadata[note]", "line_items[0][id]"]),
    st.text(min_size=1, max_size=10),
)
form_values = st.text(max_size=20)  # urlencode quotes everything but unreserved characters
queries = st.one_of(
    st.none(), st.dictionaries(form_keys, form_values, min_size=1, max_size=5).map(urlencode)
)


@given(st.sampled_from(BASES), paths, queries)
def test_same_url_as_parsing_the_whole_string(base: str, path: str, query: str | None) -> None:
    expected = httpx.URL(base + path.lstrip("/") + ("" if query is None else f"?{query}"))

    url = api_url(httpx.URL(base), path, query)

    assert url == expected
    assert str(url) == str(expected)
    assert url.raw_path == expected.raw_path
    assert (url.path, url.query, url.params) == (expected.path, expected.query, expected.params)
    assert (url.scheme, url.host, url.port) == (expected.scheme, expected.host, expected.port)


def test_raw_path_host_and_port_under_a_base_path() -> None:
    base = httpx.URL("http://127.0.0.1:8123/_sandbox/stripe/")

    url = api_url(base, "/v1/checkout/sessions/cs_test_1", "expand%5B0%5D=line_items")

    assert (
        url.raw_path == b"/_sandbox/stripe/v1/checkout/sessions/cs_test_1?expand%5B0%5D=line_items"
    )
    assert (url.scheme, url.host, url.port) == ("http", "127.0.0.1", 8123)
    assert url.params["expand[0]"] == "line_items"
    assert str(base) == "http://127.0.0.1:8123/_sandbox/stripe/"  # the base is left alone


def test_raw_path_host_and_default_port_without_a_query() -> None:
    url = api_url(httpx.URL("https://api.stripe.com/"), "v1/prices/price_1", None)

    assert url.raw_path == b"/v1/prices/price_1"
    assert (url.scheme, url.host, url.port) == ("https", "api.stripe.com", None)
    assert str(url) == "https://api.stripe.com/v1/prices/price_1"


def test_spaces_and_non_ascii_in_the_path_are_quoted() -> None:
    url = api_url(httpx.URL("https://api.stripe.com/"), "v1/customers/cus 1/é", None)

    assert url.raw_path == b"/v1/customers/cus%201/%C3%A9"


def test_a_request_built_on_it_has_the_host_header_and_target() -> None:
    url = api_url(httpx.URL("http://127.0.0.1:8123/_sandbox/stripe/"), "v1/prices", "limit=3")

    request = httpx.Request("GET", url)

    assert request.headers["host"] == "127.0.0.1:8123"
    assert request.url.raw_path == b"/_sandbox/stripe/v1/prices?limit=3"


def test_an_escaped_base_path_stays_escaped() -> None:
    base = "http://127.0.0.1:8123/sand%20box/"

    url = api_url(httpx.URL(base), "v1/prices", None)

    assert url.raw_path == b"/sand%20box/v1/prices"
    assert url == httpx.URL(base + "v1/prices")
