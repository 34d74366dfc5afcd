"""Settings from the environment (prefix AMOUNT_UPDATER_) and an optional .env file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

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
    stripe_api_base: str = STRIPE_API_BASE
    stripe_timeout_s: Annotated[float, Field(gt=0, le=60)] = 8.0
    stripe_max_retries: Annotated[int, Field(ge=0, le=5)] = 2
    catalog_path: Path | None = None
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list, repr=False)
    token_secret: SecretStr | None = None
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    max_body_bytes: Annotated[int, Field(ge=1024, le=10 * 1024 * 1024)] = 64 * 1024
    # Stripe.js's runServerUpdate gives the server 20 s: answer well inside that, retries included.
    request_budget_s: Annotated[float, Field(gt=0, le=19)] = 15.0
    # Requests that call Stripe at work at once in one worker; the others queue (http/admission).
    # The limit starts at 128 (or the maximum, if lower) and follows the event loop's lag between
    # the minimum and the maximum: up while requests queue and the lag stays under half the
    # target, down a tenth at a time when it passes the target. A minimum equal to the maximum
    # fixes the limit (a minimum above the maximum is lowered to it); 0 as the maximum: no limit
    # at all. Measured in scenario B of the benchmarks (512 connections, Stripe in 100 ms, one
    # worker): a fixed 192 never let a request time out but left CPU idle (814 updates/s); a
    # fixed 320 kept the CPU busy (about 1,000/s) but let 61 requests time out in one slow round;
    # a fixed 384 or more let requests time out on a quiet machine too. With these bounds the
    # limit sat between 250 and 320 (1,165-1,195 updates/s, p99 1.4-1.5 s), and between 150 and
    # 280 with a CPU hog beside the worker (740-880/s, p99 1.8-2.3 s), with no timeout.
    max_active_requests: Annotated[int, Field(ge=0, le=100_000)] = 320
    min_active_requests: Annotated[int, Field(ge=1, le=100_000)] = 64
    admission_target_lag_ms: Annotated[float, Field(gt=0, le=10_000)] = 50.0
    redis_url: SecretStr | None = None
    idempotency_ttl_s: Annotated[int, Field(ge=60, le=7 * 24 * 3600)] = 24 * 3600
    # 0 disables a limit. Stripe allows 1,000 updates per PaymentIntent per hour.
    rate_limit_creates_per_minute: Annotated[int, Field(ge=0)] = 30
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

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        return _split_commas(value)

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard(cls, value: list[str]) -> list[str]:
        for origin in value:
            if "*" in origin or not origin.startswith(("https://", "http://")):
                raise ValueError(f"{origin!r} is not an origin (no wildcard: list each origin)")
        return [origin.rstrip("/") for origin in value]

    @field_validator("token_secret")
    @classmethod
    def _token_secret_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError("must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return value


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment; SettingsError with one line naming the bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        name = ENV_PREFIX + str(error["loc"][0]).upper() if error["loc"] else ENV_PREFIX
        message = str(error["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{name}: {message}") from None
