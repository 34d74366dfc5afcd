from __future__ import annotations

import pytest

from amount_updater.auth.api_keys import ApiKeys
from amount_updater.auth.authenticator import Authenticator, Caller
from amount_updater.auth.tokens import TokenSigner
from amount_updater.errors import Forbidden, Unauthenticated

SIGNER = TokenSigner(b"k" * 32)
API_KEY = "server-key-0123456789"
NOW = 1_800_000_000.0
SESSION = "cs_test_mine"
OTHER_SESSION = "cs_test_theirs"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def auth(clock: Clock) -> Authenticator:
    return Authenticator(SIGNER, ApiKeys([API_KEY]), clock=clock)


def token_for(object_id: str, expires_at: float = NOW + 3600) -> str:
    return SIGNER.mint(object_id, int(expires_at))


def api_key_caller() -> Caller:
    key_id = ApiKeys([API_KEY]).identify(API_KEY)
    assert key_id is not None
    return Caller("api_key", key_id)


# --- api_key_caller ---------------------------------------------------------------------------


@pytest.mark.parametrize("missing", [None, ""])
def test_missing_api_key_is_401(auth, missing):
    with pytest.raises(Unauthenticated, match="X-API-Key"):
        auth.api_key_caller(missing)


def test_unknown_api_key_is_401(auth):
    with pytest.raises(Unauthenticated, match="Unknown API key"):
        auth.api_key_caller("not-a-configured-key")


def test_known_api_key_is_an_api_key_caller(auth):
    assert auth.api_key_caller(API_KEY) == api_key_caller()


def test_no_api_key_is_accepted_when_none_are_configured(clock):
    auth = Authenticator(SIGNER, ApiKeys([]), clock=clock)
    with pytest.raises(Unauthenticated):
        auth.api_key_caller(API_KEY)


# --- object_caller ----------------------------------------------------------------------------


def test_token_for_the_object_is_a_token_caller(auth):
    assert auth.object_caller(SESSION, token_for(SESSION), None) == Caller("token", SESSION)


def test_no_credentials_is_401(auth):
    with pytest.raises(Unauthenticated, match="Bearer"):
        auth.object_caller(SESSION, None, None)


def test_empty_bearer_and_empty_api_key_is_401(auth):
    with pytest.raises(Unauthenticated):
        auth.object_caller(SESSION, "", "")


def test_valid_token_for_another_object_is_403(auth):
    with pytest.raises(Forbidden):
        auth.object_caller(SESSION, token_for(OTHER_SESSION), None)


def test_forged_token_is_401_even_when_it_names_another_object(auth):
    forged = TokenSigner(b"x" * 32).mint(OTHER_SESSION, int(NOW + 3600))
    with pytest.raises(Unauthenticated):
        auth.object_caller(SESSION, forged, None)


def test_forged_token_for_the_object_is_401(auth):
    forged = TokenSigner(b"x" * 32).mint(SESSION, int(NOW + 3600))
    with pytest.raises(Unauthenticated, match="invalid or has expired"):
        auth.object_caller(SESSION, forged, None)


def test_malformed_token_is_401(auth):
    with pytest.raises(Unauthenticated):
        auth.object_caller(SESSION, "garbage", None)


def test_expired_token_is_401_even_for_another_object(auth):
    with pytest.raises(Unauthenticated):
        auth.object_caller(SESSION, token_for(OTHER_SESSION, expires_at=NOW), None)


def test_token_is_checked_against_the_injected_clock(auth, clock):
    token = token_for(SESSION, expires_at=NOW + 60)
    assert auth.object_caller(SESSION, token, None).kind == "token"
    clock.now = NOW + 60
    with pytest.raises(Unauthenticated):
        auth.object_caller(SESSION, token, None)


def test_token_expires_at_its_expiry_instant(auth):
    with pytest.raises(Unauthenticated):
        auth.object_caller(SESSION, token_for(SESSION, expires_at=NOW), None)


def test_api_key_may_act_on_any_object(auth):
    assert auth.object_caller(SESSION, None, API_KEY) == api_key_caller()


def test_api_key_takes_precedence_over_a_token_for_another_object(auth):
    assert auth.object_caller(SESSION, token_for(OTHER_SESSION), API_KEY) == api_key_caller()


def test_unknown_api_key_is_401_even_with_a_valid_token(auth):
    with pytest.raises(Unauthenticated, match="Unknown API key"):
        auth.object_caller(SESSION, token_for(SESSION), "not-a-configured-key")


def test_empty_api_key_falls_back_to_the_token(auth):
    assert auth.object_caller(SESSION, token_for(SESSION), "") == Caller("token", SESSION)


def test_authentication_errors_are_401_and_403():
    assert (Unauthenticated.status, Forbidden.status) == (401, 403)
