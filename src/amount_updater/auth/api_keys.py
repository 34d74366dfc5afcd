"""Server-to-server API keys, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac


class ApiKeys:
    def __init__(self, keys: list[str]) -> None:
        self._keys = [key.encode() for key in keys]

    def __bool__(self) -> bool:
        return bool(self._keys)

    def identify(self, presented: str) -> str | None:
        """A loggable id for a known key (a hash prefix, never the key), or None.

        Every configured key is compared, whatever matches first, so the time taken does not
        tell which key (or how much of one) matched.
        """
        candidate = presented.encode()
        matched: bytes | None = None
        for key in self._keys:
            if hmac.compare_digest(key, candidate):
                matched = key
        if matched is None:
            return None
        return "key_" + hashlib.sha256(matched).hexdigest()[:12]
