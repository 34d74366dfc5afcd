"""Bracket-key form decoding, including a round trip through stripe-python's own encoder."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stripe._encode import _api_encode

from stripe_emulator.errors import StripeError
from stripe_emulator.forms import decode_form
from stripe_emulator.params import read_list


def test_decodes_nested_line_items_metadata_and_expand():
    raw = (
        "line_items[0][price_data][product_data][name]=T-shirt&line_items[0][quantity]=2"
        "&metadata[cart]=c%201&expand[0]=line_items"
    )
    assert decode_form(raw) == {
        "line_items": {"0": {"price_data": {"product_data": {"name": "T-shirt"}}, "quantity": "2"}},
        "metadata": {"cart": "c 1"},
        "expand": {"0": "line_items"},
    }


def test_empty_brackets_append():
    params = decode_form("expand[]=line_items&expand[]=payment_intent")
    assert read_list(params["expand"], "expand") == ["line_items", "payment_intent"]


def test_blank_values_are_kept_because_they_mean_unset():
    assert decode_form("metadata=&shipping_options=") == {"metadata": "", "shipping_options": ""}


@pytest.mark.parametrize("raw", ["metadata=x&metadata[k]=v", "metadata[k]=v&metadata=x"])
def test_value_and_hash_under_one_name_is_refused(raw):
    with pytest.raises(StripeError) as excinfo:
        decode_form(raw)
    assert excinfo.value.status == 400


def test_read_list_requires_sequential_indexes():
    with pytest.raises(StripeError):
        read_list({"0": "a", "2": "b"}, "expand")


_names = st.text(
    alphabet=st.characters(blacklist_characters="[]", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=8,
)
_leaves = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)
_values = st.recursive(
    _leaves,
    lambda inner: (
        st.lists(inner, min_size=1, max_size=3)
        | st.dictionaries(_names, inner, min_size=1, max_size=3)
    ),
    max_leaves=10,
)


def _as_decoded(value: Any) -> Any:
    """What decoding yields: lists become dicts keyed by their indexes."""
    if isinstance(value, list):
        return {str(i): _as_decoded(v) for i, v in enumerate(value)}
    if isinstance(value, dict):
        return {k: _as_decoded(v) for k, v in value.items()}
    return value


@given(st.dictionaries(_names, _values, max_size=4))
def test_round_trip_through_stripe_python_encoder(params):
    encoded = urlencode(list(_api_encode(params)))
    # stripe-python sends brackets unescaped (_api_requestor.py); decode both spellings.
    for raw in (encoded, encoded.replace("%5B", "[").replace("%5D", "]")):
        assert decode_form(raw) == _as_decoded(params)
