from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amount_updater.auth.tokens import InvalidToken, TokenClaims, TokenSigner

SECRET = b"s" * 32
OBJECT_ID = "cs_test_a1b2c3"
EXPIRES_AT = 1_800_000_000


@pytest.fixture
def signer() -> TokenSigner:
    return TokenSigner(SECRET)


@pytest.fixture
def token(signer: TokenSigner) -> str:
    return signer.mint(OBJECT_ID, EXPIRES_AT)


def replace_part(token: str, index: int, value: str) -> str:
    parts = token.split(".")
    parts[index] = value
    return ".".join(parts)


def test_secret_shorter_than_32_bytes_is_refused():
    with pytest.raises(ValueError, match="32 bytes"):
        TokenSigner(b"s" * 31)


def test_token_is_version_object_expiry_and_signature(token):
    version, object_id, expires_at, signature = token.split(".")
    assert (version, object_id, expires_at) == ("v1", OBJECT_ID, str(EXPIRES_AT))
    assert len(signature) == 43  # SHA-256 in unpadded base64url


def test_signature_is_base64url_hmac_sha256_of_the_payload(token):
    payload = f"v1.{OBJECT_ID}.{EXPIRES_AT}"
    digest = hmac.new(SECRET, payload.encode(), hashlib.sha256).digest()
    assert token == payload + "." + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_genuine_token_verifies_to_its_claims(signer, token):
    assert signer.verify(token, now=EXPIRES_AT - 1) == TokenClaims(OBJECT_ID, EXPIRES_AT)


def test_token_is_valid_until_just_before_expiry(signer, token):
    assert signer.verify(token, now=EXPIRES_AT - 0.001).expires_at == EXPIRES_AT


def test_token_expires_at_its_expiry_instant(signer, token):
    with pytest.raises(InvalidToken, match="expired"):
        signer.verify(token, now=EXPIRES_AT)


def test_token_after_expiry_is_invalid(signer, token):
    with pytest.raises(InvalidToken):
        signer.verify(token, now=EXPIRES_AT + 3600)


def test_token_signed_with_another_secret_is_invalid(token):
    with pytest.raises(InvalidToken, match="signature"):
        TokenSigner(b"o" * 32).verify(token, now=0)


def test_tampered_version_is_invalid(signer, token):
    with pytest.raises(InvalidToken, match="malformed"):
        signer.verify(replace_part(token, 0, "v2"), now=0)


def test_tampered_object_id_is_invalid(signer, token):
    with pytest.raises(InvalidToken, match="signature"):
        signer.verify(replace_part(token, 1, "cs_test_other"), now=0)


def test_extended_expiry_is_invalid(signer, token):
    with pytest.raises(InvalidToken, match="signature"):
        signer.verify(replace_part(token, 2, str(EXPIRES_AT + 86_400)), now=0)


def test_tampered_signature_is_invalid(signer, token):
    signature = token.split(".")[3]
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(InvalidToken, match="signature"):
        signer.verify(replace_part(token, 3, flipped), now=0)


def test_truncated_signature_is_invalid(signer, token):
    with pytest.raises(InvalidToken):
        signer.verify(token[:-1], now=0)


def test_padded_signature_is_invalid(signer, token):
    with pytest.raises(InvalidToken):
        signer.verify(token + "=", now=0)


def test_non_ascii_signature_is_invalid_not_an_error(signer, token):
    with pytest.raises(InvalidToken):
        signer.verify(replace_part(token, 3, "é" * 43), now=0)


@pytest.mark.parametrize(
    "malformed", ["", "v1", "v1.cs_1.1800000000", "v1.cs.1.2.sig", "....", "not a token"]
)
def test_malformed_token_is_invalid(signer, malformed):
    with pytest.raises(InvalidToken, match="malformed"):
        signer.verify(malformed, now=0)


def test_signed_non_integer_expiry_is_malformed(signer):
    token = signer.mint(OBJECT_ID, "soon")  # type: ignore[arg-type]
    with pytest.raises(InvalidToken, match="malformed"):
        signer.verify(token, now=0)


def test_minting_is_deterministic(signer):
    assert signer.mint(OBJECT_ID, EXPIRES_AT) == signer.mint(OBJECT_ID, EXPIRES_AT)


object_ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=66)
expiries = st.integers(1, 2**40)


@given(object_ids, expiries)
def test_any_minted_token_round_trips_before_expiry(object_id, expires_at):
    signer = TokenSigner(SECRET)
    claims = signer.verify(signer.mint(object_id, expires_at), now=expires_at - 1)
    assert claims == TokenClaims(object_id, expires_at)


@given(object_ids, expiries, st.data())
def test_changing_any_one_character_invalidates_the_token(object_id, expires_at, data):
    signer = TokenSigner(SECRET)
    token = signer.mint(object_id, expires_at)
    index = data.draw(st.integers(0, len(token) - 1))
    char = data.draw(st.characters(codec="ascii").filter(lambda c: c != token[index]))
    tampered = token[:index] + char + token[index + 1 :]
    with pytest.raises(InvalidToken):
        signer.verify(tampered, now=0)
