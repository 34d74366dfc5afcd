"""Decides who is asking about an object: a token bound to it, or a server API key."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from amount_updater.auth.api_keys import ApiKeys
from amount_updater.auth.tokens import InvalidToken, TokenSigner
from amount_updater.errors import Forbidden, Unauthenticated


@dataclass(frozen=True, slots=True)
class Caller:
    """`kind` is "token" or "api_key"; `id` is safe to log (object id or key hash prefix)."""

    kind: str
    id: str


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

    def object_caller(self, object_id: str, bearer: str | None, api_key: str | None) -> Caller:
        """The caller allowed to read or change `object_id`, else 401 or 403."""
        if api_key:
            return self.api_key_caller(api_key)
        if not bearer:
            raise Unauthenticated(
                "Send `Authorization: Bearer <token>` (from the create call or POST /v1/tokens)."
            )
        try:
            claims = self._signer.verify(bearer, now=self._clock())
        except InvalidToken:
            raise Unauthenticated("The token is invalid or has expired.") from None
        if claims.object_id != object_id:
            raise Forbidden("This token is for another object.")
        return Caller("token", claims.object_id)
