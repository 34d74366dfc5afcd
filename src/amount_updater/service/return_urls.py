"""Where Stripe may send a shopper after a redirect-based payment method.

Stripe requires a `return_url` on an `ui_mode: elements` session when redirect-based payment
methods are on (`redirect_on_completion` is for `embedded_page` sessions only, so it is never
sent). A caller may name one, but only on an origin the operator allowed: otherwise a session
could send a shopper anywhere after paying.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from amount_updater.config import origin_of
from amount_updater.errors import InvalidReturnUrl, ReturnUrlRequired


@dataclass(frozen=True, slots=True)
class ReturnUrls:
    default: str | None
    origins: frozenset[str]

    @classmethod
    def of(cls, default: str | None, origins: Iterable[str]) -> ReturnUrls:
        """The operator's default URL and allow-list; the default's origin is allowed too."""
        allowed = set(origins)
        if default is not None and (origin := origin_of(default)) is not None:
            allowed.add(origin)
        return cls(default, frozenset(allowed))

    def resolve(self, given: str | None) -> str:
        """The return URL for a new session: the caller's if allowed, else the default."""
        if given is None:
            if self.default is None:
                raise ReturnUrlRequired(
                    "This service has no default return URL (AMOUNT_UPDATER_RETURN_URL) and the"
                    " request names none: Stripe needs one to bring a shopper back after a"
                    " redirect-based payment method."
                )
            return self.default
        if origin_of(given) not in self.origins:
            allowed = ", ".join(sorted(self.origins)) or "none (AMOUNT_UPDATER_RETURN_URL_ORIGINS)"
            raise InvalidReturnUrl(
                f"return_url must be on an allowed origin; allowed: {allowed}.",
                extra={"field": "return_url"},
            )
        return given
