"""Decides who is asking about an object: a token bound to it, or a server API key."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from amount_updater.auth.api_keys import ApiKeys
from amount_updater.auth.tokens import InvalidToken, TokenClaims, TokenSigner
from amount_updater.errors import Forbidden, Unauthenticated


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking, as verified: `kind` is "api_key", "token" or "anonymous"; `id` is the key's
    hash prefix, the token's object id, or the client's address (each safe to log)."""

    kind: str
    id: str

    @property
    def scope(self) -> str:
        """The caller's own space of idempotency keys (and of Stripe keys derived from them)."""
        return f"{self.kind}:{self.id}"


class Authenticator:
    def __init__(
        self, signer: TokenSigner, api_keys: ApiKeys, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._signer = signer
        self._api_keys = api_keys
        self._clock = clock

    def api_key_caller(self, api_key: str | None) -> Caller:
        if not api_key:
            raise Unauthenticated("Send an X-API-Key header.")
        key_id = self._api_keys.identify(api_key)
        if key_id is None:
            raise Unauthenticated("Unknown API key.")
        return Caller("api_key", key_id)

    def identify(self, bearer: str | None, api_key: str | None, client: str) -> Caller:
        """The caller whatever the object: an API key, a token's object, or anonymous (by its
        address). A credential that is sent must verify (401 otherwise): an unverifiable one
        never falls back to another identity."""
        if api_key:
            return self.api_key_caller(api_key)
        if bearer:
            return Caller("token", self._claims(bearer).object_id)
        return Caller("anonymous", client)

    def object_caller(self, object_id: str, bearer: str | None, api_key: str | None) -> Caller:
        """The caller allowed to read or change `object_id`, else 401 or 403."""
        if api_key:
            return self.api_key_caller(api_key)
        if not bearer:
            raise Unauthenticated(
                "Send `Authorization: Bearer <token>` (from the create call or POST /v1/tokens)."
            )
        claims = self._claims(bearer)
        if claims.object_id != object_id:
            raise Forbidden("This token is for another object.")
        return Caller("token", claims.object_id)

    def _claims(self, bearer: str) -> TokenClaims:
        try:
            return self._signer.verify(bearer, now=self._clock())
        except InvalidToken:
            raise Unauthenticated("The token is invalid or has expired.") from None
