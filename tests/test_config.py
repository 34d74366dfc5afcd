from __future__ import annotations

import os
from pathlib import Path

import pytest

from amount_updater.config import STRIPE_API_BASE, Settings, SettingsError, load_settings

KEY_A = "server-key-aaaaaaaaaaaa"
KEY_B = "server-key-bbbbbbbbbbbb"


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No AMOUNT_UPDATER_* variable or .env file of the developer is read."""
    for name in list(os.environ):
        if name.upper().startswith("AMOUNT_UPDATER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch):
    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"AMOUNT_UPDATER_{name}", value)

    return set_env


def settings_error(**overrides: object) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(**overrides)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_defaults_without_any_environment():
    settings = load_settings()
    assert settings.stripe_secret_key is None
    assert settings.stripe_api_base == STRIPE_API_BASE
    assert (settings.stripe_timeout_s, settings.stripe_max_retries) == (8.0, 2)
    assert (settings.api_keys, settings.cors_origins) == ([], [])
    assert settings.token_secret is None
    assert settings.catalog_path is None
    assert settings.log_level == "INFO"
    assert settings.max_body_bytes == 64 * 1024
    assert settings.max_active_requests == 256
    assert settings.stripe_max_connections == 256
    assert settings.stripe_requests_per_second is None  # Stripe's default for the key's mode
    # 22 (Stripe's 25 less a tenth), none in sandbox
    assert settings.stripe_endpoint_requests_per_second is None
    assert settings.cart_read_cache_s == 2.0


def test_max_active_requests_takes_zero_for_no_limit_and_refuses_a_negative(env):
    env(MAX_ACTIVE_REQUESTS="0")
    assert load_settings().max_active_requests == 0
    env(MAX_ACTIVE_REQUESTS="-1")
    assert "AMOUNT_UPDATER_MAX_ACTIVE_REQUESTS" in settings_error()


def test_settings_are_read_from_prefixed_variables(env):
    env(STRIPE_SECRET_KEY="sk_test_123", STRIPE_MAX_RETRIES="4", CATALOG_PATH="/srv/catalog.toml")
    settings = load_settings()
    assert settings.stripe_secret_key is not None
    assert settings.stripe_secret_key.get_secret_value() == "sk_test_123"
    assert settings.stripe_max_retries == 4
    assert settings.catalog_path == Path("/srv/catalog.toml")


def test_unprefixed_variables_are_ignored(monkeypatch):
    monkeypatch.setenv("STRIPE_SECRET_KEY", "pk_test_wrong")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    settings = load_settings()
    assert settings.stripe_secret_key is None
    assert settings.log_level == "INFO"


def test_empty_variable_counts_as_unset(env):
    env(STRIPE_SECRET_KEY="", TOKEN_SECRET="")
    settings = load_settings()
    assert (settings.stripe_secret_key, settings.token_secret) == (None, None)


def test_dotenv_file_in_the_working_directory_is_read(tmp_path):
    (tmp_path / ".env").write_text("AMOUNT_UPDATER_LOG_LEVEL=WARNING\n")
    assert load_settings().log_level == "WARNING"


def test_environment_overrides_the_dotenv_file(tmp_path, env):
    (tmp_path / ".env").write_text("AMOUNT_UPDATER_LOG_LEVEL=WARNING\n")
    env(LOG_LEVEL="ERROR")
    assert load_settings().log_level == "ERROR"


def test_api_keys_are_comma_separated_and_trimmed(env):
    env(API_KEYS=f" {KEY_A} ,{KEY_B},, ")
    assert load_settings().api_keys == [KEY_A, KEY_B]


def test_single_api_key(env):
    env(API_KEYS=KEY_A)
    assert load_settings().api_keys == [KEY_A]


def test_cors_origins_are_comma_separated_without_trailing_slash(env):
    env(CORS_ORIGINS="https://shop.example/, http://localhost:3000")
    assert load_settings().cors_origins == ["https://shop.example", "http://localhost:3000"]


def test_api_base_loses_its_trailing_slash(env):
    env(STRIPE_API_BASE="http://127.0.0.1:12111/")
    assert load_settings().stripe_api_base == "http://127.0.0.1:12111"


def test_restricted_stripe_key_is_accepted(env):
    env(STRIPE_SECRET_KEY="rk_live_abc")
    assert load_settings().stripe_secret_key is not None


def test_overrides_take_precedence_over_the_environment(env):
    env(LOG_LEVEL="ERROR")
    assert load_settings(log_level="DEBUG").log_level == "DEBUG"


def test_settings_are_frozen():
    settings = load_settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.log_level = "DEBUG"  # type: ignore[misc]


# --- Refusals: one line naming the variable ---------------------------------------------------


def test_publishable_stripe_key_is_refused(env):
    env(STRIPE_SECRET_KEY="pk_test_123")
    message = settings_error()
    assert message.startswith("AMOUNT_UPDATER_STRIPE_SECRET_KEY: must be a secret (sk_...)")


def test_stripe_key_is_not_echoed_in_the_error(env):
    env(STRIPE_SECRET_KEY="pk_live_secretish_value")
    assert "secretish" not in settings_error()


@pytest.mark.parametrize("origins", ["*", "https://shop.example,*", "shop.example", "null"])
def test_wildcard_or_non_url_cors_origin_is_refused(env, origins):
    env(CORS_ORIGINS=origins)
    message = settings_error()
    assert message.startswith("AMOUNT_UPDATER_CORS_ORIGINS: ")
    assert "is not an origin" in message


def test_short_token_secret_is_refused(env):
    env(TOKEN_SECRET="x" * 31)
    message = settings_error()
    assert message.startswith("AMOUNT_UPDATER_TOKEN_SECRET: must be at least 32 characters")
    assert "x" * 31 not in message


def test_token_secret_of_32_characters_is_accepted(env):
    env(TOKEN_SECRET="x" * 32)
    settings = load_settings()
    assert settings.token_secret is not None
    assert settings.token_secret.get_secret_value() == "x" * 32


def test_short_api_key_is_refused_without_echoing_it(env):
    env(API_KEYS=f"{KEY_A},tooshort")
    message = settings_error()
    assert message == "AMOUNT_UPDATER_API_KEYS: each API key must be at least 16 characters"


def test_non_http_api_base_is_refused(env):
    env(STRIPE_API_BASE="ftp://stripe.example")
    assert settings_error() == "AMOUNT_UPDATER_STRIPE_API_BASE: must be an http(s) URL"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STRIPE_TIMEOUT_S", "0"),
        ("STRIPE_TIMEOUT_S", "61"),
        ("STRIPE_TIMEOUT_S", "soon"),
        ("STRIPE_MAX_RETRIES", "6"),
        ("MAX_BODY_BYTES", "100"),
        ("LOG_LEVEL", "CHATTY"),
    ],
)
def test_out_of_range_value_names_its_variable(env, name, value):
    env(**{name: value})
    assert settings_error().startswith(f"AMOUNT_UPDATER_{name}: ")


def test_settings_error_from_an_override_names_the_variable():
    assert settings_error(token_secret="short").startswith("AMOUNT_UPDATER_TOKEN_SECRET: ")


# --- Secrets stay out of reprs ----------------------------------------------------------------


def test_api_keys_do_not_appear_in_repr(env):
    env(API_KEYS=f"{KEY_A},{KEY_B}")
    settings = load_settings()
    assert KEY_A not in repr(settings)
    assert KEY_B not in repr(settings)
    assert KEY_A not in str(settings)


def test_secrets_do_not_appear_in_repr(env):
    env(STRIPE_SECRET_KEY="sk_test_verysecret", TOKEN_SECRET="t" * 40)
    settings = load_settings()
    assert "verysecret" not in repr(settings)
    assert "t" * 40 not in repr(settings)


def test_settings_class_reads_the_environment_directly(env):
    env(API_KEYS=KEY_A)
    assert Settings().api_keys == [KEY_A]


def test_trusted_proxies_are_addresses_or_networks(monkeypatch):
    monkeypatch.setenv("AMOUNT_UPDATER_TRUSTED_PROXIES", "10.0.0.1, 10.1.0.0/16,::1")
    assert Settings(_env_file=None).trusted_proxies == ["10.0.0.1", "10.1.0.0/16", "::1"]  # type: ignore[call-arg]
    monkeypatch.setenv("AMOUNT_UPDATER_TRUSTED_PROXIES", "proxy.internal")
    with pytest.raises(SettingsError, match=r"AMOUNT_UPDATER_TRUSTED_PROXIES: 'proxy\.internal'"):
        load_settings(_env_file=None)
