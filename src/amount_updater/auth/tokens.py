"""Update tokens: HMAC-signed, bound to one Stripe object, expiring with it.

Format: ``v1.<object_id>.<expires_at>.<signature>`` where the signature is the base64url HMAC-SHA256
of ``v1.<object_id>.<expires_at>`` under the service's token secret. The object id is inside the
token so that a valid token presented for another object is told apart (403) from a forged or
expired one (401). Verification needs no Stripe call and no storage.
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass

VERSION = "v1"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    object_id: str
    expires_at: int


class InvalidToken(Exception):
    """Malformed, forged or expired."""


class TokenSigner:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("the token secret must be at least 32 bytes")
        self._secret = secret

    def mint(self, object_id: str, expires_at: int) -> str:
        payload = f"{VERSION}.{object_id}.{expires_at}"
        return f"{payload}.{self._sign(payload)}"

    def verify(self, token: str, *, now: float) -> TokenClaims:
        """The claims of a genuine, unexpired token; InvalidToken otherwise."""
        parts = token.split(".")
        if len(parts) != 4 or parts[0] != VERSION:
            raise InvalidToken("malformed token")
        payload, signature = ".".join(parts[:3]), parts[3]
        if not hmac.compare_digest(self._sign(payload).encode(), signature.encode()):
            raise InvalidToken("bad signature")
        try:
            expires_at = int(parts[2])
        except ValueError:
            raise InvalidToken("malformed token") from None
        if now >= expires_at:
            raise InvalidToken("expired token")
        return TokenClaims(parts[1], expires_at)

    def _sign(self, payload: str) -> str:
        digest = hmac.digest(self._secret, payload.encode(), "sha256")  # one-shot, in C
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
