from __future__ import annotations

import hashlib

from amount_updater.auth.api_keys import ApiKeys

KEY = "server-key-0123456789"
OTHER = "other-key-abcdefghij"


def test_no_keys_is_falsy():
    assert not ApiKeys([])


def test_configured_keys_are_truthy():
    assert ApiKeys([KEY])


def test_known_key_is_identified_by_a_hash_prefix():
    assert ApiKeys([KEY]).identify(KEY) == "key_" + hashlib.sha256(KEY.encode()).hexdigest()[:12]


def test_identity_never_contains_the_key():
    identity = ApiKeys([KEY]).identify(KEY)
    assert identity is not None
    assert KEY not in identity


def test_each_key_has_its_own_identity():
    keys = ApiKeys([KEY, OTHER])
    assert keys.identify(KEY) != keys.identify(OTHER)


def test_second_configured_key_is_recognised():
    assert ApiKeys([KEY, OTHER]).identify(OTHER) is not None


def test_unknown_key_is_not_identified():
    assert ApiKeys([KEY]).identify(OTHER) is None


def test_no_key_is_identified_when_none_are_configured():
    assert ApiKeys([]).identify(KEY) is None


def test_prefix_of_a_key_is_not_identified():
    assert ApiKeys([KEY]).identify(KEY[:-1]) is None


def test_key_with_extra_characters_is_not_identified():
    assert ApiKeys([KEY]).identify(KEY + "x") is None


def test_key_comparison_is_case_sensitive():
    assert ApiKeys([KEY]).identify(KEY.upper()) is None


def test_empty_presented_key_is_not_identified():
    assert ApiKeys([KEY]).identify("") is None


def test_non_ascii_presented_key_is_not_identified():
    assert ApiKeys([KEY]).identify("clé-serveur-0123456789") is None
