"""Our form encoder sends what stripe-python's would."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from hypothesis import given
from hypothesis import strategies as st
from stripe._encode import _api_encode

from amount_updater.stripe_gateway.forms import encode_form

keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
# None is left out of our forms; stripe-python sends a None inside a list as "None", a quirk
# nobody relies on, so None is tested on its own below.
leaves = st.one_of(st.integers(-(10**9), 10**9), st.text(max_size=20))
values = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=20,
)


def decoded(form: str) -> list[tuple[str, str]]:
    return parse_qsl(form, keep_blank_values=True)


@given(st.dictionaries(keys, values, max_size=5))
def test_encodes_like_stripe_python(params):
    stripes = urlencode([(k, str(v)) for k, v in _api_encode(params)])
    assert decoded(encode_form(params)) == decoded(stripes)


def test_bracket_keys_for_the_line_item_array():
    form = encode_form(
        {"line_items": [{"id": "li_1"}, {"price_data": {"unit_amount": 500}, "quantity": 1}]}
    )
    assert decoded(form) == [
        ("line_items[0][id]", "li_1"),
        ("line_items[1][price_data][unit_amount]", "500"),
        ("line_items[1][quantity]", "1"),
    ]


def test_empty_string_is_sent_to_unset_and_none_is_left_out():
    assert decoded(encode_form({"metadata": {"a": "", "b": None}})) == [("metadata[a]", "")]


def test_booleans_are_true_and_false():
    assert decoded(encode_form({"automatic_payment_methods": {"enabled": True}})) == [
        ("automatic_payment_methods[enabled]", "true")
    ]


def test_reserved_characters_survive():
    params = {"metadata": {"note": "a&b=c d+é"}}
    assert decoded(encode_form(params)) == [("metadata[note]", "a&b=c d+é")]
