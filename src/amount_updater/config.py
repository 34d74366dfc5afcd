"""Settings from the environment (prefix AMOUNT_UPDATER_) and an optional .env file."""

from __future__ import annotations

from ipaddress import ip_network
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "AMOUNT_UPDATER_"
STRIPE_API_BASE = "https://api.stripe.com"


class SettingsError(Exception):
    """Start-up configuration is invalid; the message is one line naming the setting."""


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
    )

    stripe_secret_key: SecretStr | None = None
    # The embedded Stripe emulator and demo storefront instead of Stripe: only when asked for.
    sandbox: bool = False
    # Shown to the demo storefront's Stripe.js (test mode only); never needed by the API itself.
    stripe_publishable_key: str | None = None
    # Where Stripe sends the shopper after a redirect-based payment method: the default for
    # sessions, and the origins a caller-given return_url may point at.
    return_url: str | None = None
    return_url_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Stripe Tax on every new Checkout Session (server callers may choose per session).
    automatic_tax: bool = False
    # Collect the shipping address on new sessions, in the countries the catalog's shipping
    # rates serve; the storefront sends it through PUT .../shipping-address.
    collect_shipping_address: bool = False
    stripe_api_base: str = STRIPE_API_BASE
    stripe_timeout_s: Annotated[float, Field(gt=0, le=60)] = 8.0
    stripe_max_retries: Annotated[int, Field(ge=0, le=5)] = 2
    catalog_path: Path | None = None
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list, repr=False)
    token_secret: SecretStr | None = None
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Proxies whose X-Forwarded-For is believed for the client's address (granian's proxy
    # headers wrapper): addresses or networks. Anyone else's header is ignored.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    max_body_bytes: Annotated[int, Field(ge=1024, le=10 * 1024 * 1024)] = 64 * 1024
    # Stripe.js's runServerUpdate gives the server 20 s: answer well inside that, retries included.
    request_budget_s: Annotated[float, Field(gt=0, le=19)] = 15.0
    # Requests that call Stripe at work at once in one worker; the others wait for a slot in
    # arrival order, a third of the budget at most (coordination/admission.py). 0: no limit.
    max_active_requests: Annotated[int, Field(ge=0, le=100_000)] = 256
    # Connections to Stripe one worker may open; past that a call waits for one.
    stripe_max_connections: Annotated[int, Field(ge=1, le=10_000)] = 256
    # Stripe's rate limits, spent before each call (stripe_gateway/rate_budget.py). Unset:
    # Stripe's defaults, per account by the key's mode (live 100, test 25) and per endpoint
    # 25; none in sandbox mode. 0 turns a budget off. With Redis, shared by replicas.
    stripe_requests_per_second: Annotated[int, Field(ge=0, le=100_000)] | None = None
    stripe_endpoint_requests_per_second: Annotated[int, Field(ge=0, le=100_000)] | None = None
    # A cart read is answered from the last read or write of that object in this process when
    # at most this old (service/recent_views.py); 0: every read asks Stripe.
    cart_read_cache_s: Annotated[float, Field(ge=0, le=60)] = 2.0
    redis_url: SecretStr | None = None
    idempotency_ttl_s: Annotated[int, Field(ge=60, le=7 * 24 * 3600)] = 24 * 3600
    # The service's own limits, by caller class (coordination/caller_limits.py); 0 disables
    # one. Anonymous callers, per client address: creations, and catalog and quote reads.
    rate_limit_creates_per_minute: Annotated[int, Field(ge=0)] = 30
    rate_limit_anonymous_reads_per_minute: Annotated[int, Field(ge=0)] = 300
    # API-key callers (a shop's servers), per key, every request: at least Stripe's live budget.
    rate_limit_api_key_per_second: Annotated[int, Field(ge=0)] = 100
    # Token holders, per object: changes and cart reads. The hourly one counts every caller's
    # changes: Stripe allows 1,000 updates per PaymentIntent per hour.
    rate_limit_changes_per_minute: Annotated[int, Field(ge=0)] = 60
    rate_limit_changes_per_hour: Annotated[int, Field(ge=0, le=1000)] = 900
    # Cart reads per object: each costs a Stripe call (a page polling every second stays under).
    rate_limit_reads_per_minute: Annotated[int, Field(ge=0)] = 120
    # The in-memory Idempotency-Key store (without Redis): past either bound the oldest go.
    idempotency_max_entries: Annotated[int, Field(ge=100, le=10_000_000)] = 10_000
    idempotency_max_bytes: Annotated[int, Field(ge=64 * 1024, le=4 * 1024**3)] = 16 * 1024 * 1024
    stripe_webhook_secret: SecretStr | None = None

    @field_validator("stripe_secret_key")
    @classmethod
    def _secret_key_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("sk_", "rk_")):
            # A publishable key (pk_) here would be a leak waiting to happen the other way round.
            raise ValueError("must be a secret (sk_...) or restricted (rk_...) Stripe key")
        return value

    @field_validator("stripe_publishable_key")
    @classmethod
    def _publishable_key_shape(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("pk_"):
            raise ValueError("must be a publishable Stripe key (pk_...)")
        return value

    @field_validator("return_url")
    @classmethod
    def _return_url_shape(cls, value: str | None) -> str | None:
        if value is not None and origin_of(value) is None:
            raise ValueError("must be an absolute http(s) URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("stripe_api_base")
    @classmethod
    def _api_base_shape(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_api_keys(cls, value: object) -> object:
        return _split_commas(value)

    @field_validator("api_keys")
    @classmethod
    def _api_keys_strength(cls, value: list[str]) -> list[str]:
        if any(len(key) < 16 for key in value):
            raise ValueError("each API key must be at least 16 characters")
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        return _split_commas(value)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, value: list[str]) -> list[str]:
        for proxy in value:
            try:
                ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"{proxy!r} is not an IP address or network") from None
        return value

    @field_validator("cors_origins", "return_url_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        return _split_commas(value)

    @field_validator("cors_origins", "return_url_origins")
    @classmethod
    def _no_wildcard(cls, value: list[str]) -> list[str]:
        origins = []
        for origin in value:
            normal = origin_of(origin)
            if "*" in origin or normal is None or normal != origin.rstrip("/").lower():
                raise ValueError(
                    f"{origin!r} is not an origin (scheme://host[:port], no path, no wildcard)"
                )
            origins.append(normal)
        return origins

    @field_validator("token_secret")
    @classmethod
    def _token_secret_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError("must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return value


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of an absolute http(s) URL, lower-cased; None for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.username:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment; SettingsError with one line naming the bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        name = ENV_PREFIX + str(error["loc"][0]).upper() if error["loc"] else ENV_PREFIX
        message = str(error["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{name}: {message}") from None
