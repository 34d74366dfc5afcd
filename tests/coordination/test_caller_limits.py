"""Which limits each caller class meets, counted in `limits`' moving windows."""

from __future__ import annotations

import pytest
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import BlockingConnectionPool

from amount_updater.auth.authenticator import Caller
from amount_updater.config import Settings
from amount_updater.coordination.caller_limits import CallerLimiter, CallerLimits
from amount_updater.errors import RateLimited
from tests.support.redis_server import running_redis

SHOP = Caller("api_key", "key_abc")
PAGE = Caller("token", "cs_test_1")
BROWSER = Caller("anonymous", "203.0.113.9")


def limits(**values: int) -> CallerLimits:
    return CallerLimits.from_settings(Settings(_env_file=None, **values))  # type: ignore[call-arg]


def names(caller: Caller, action: str, object_id: str | None = None) -> list[tuple[str, str]]:
    applying = limits().applying(caller, action, object_id)  # type: ignore[arg-type]
    return [(limit.name, subject) for limit, subject in applying]


def test_each_caller_class_is_counted_by_its_own_subject():
    assert names(BROWSER, "create") == [("anonymous_creates", "203.0.113.9")]
    assert names(BROWSER, "read") == [("anonymous_reads", "203.0.113.9")]
    assert names(PAGE, "read", "cs_test_1") == [("token_reads", "cs_test_1")]
    assert names(PAGE, "change", "cs_test_1") == [
        ("token_changes", "cs_test_1"),
        ("object_changes_hourly", "cs_test_1"),
    ]
    assert names(SHOP, "create") == [("api_key_requests", "key_abc")]
    # Stripe's per-object hourly limit counts a shop's server's changes too.
    assert names(SHOP, "change", "pi_1") == [
        ("api_key_requests", "key_abc"),
        ("object_changes_hourly", "pi_1"),
    ]


def test_the_defaults_are_sized_for_their_callers():
    assert limits().described() == {
        "anonymous_creates": "30 per minute per client address",
        "anonymous_reads": "300 per minute per client address",
        "token_changes": "60 per minute per object",
        "token_reads": "120 per minute per object",
        "api_key_requests": "100 per second per API key",
        "object_changes_hourly": "900 per hour per object",
    }
    assert limits(rate_limit_api_key_per_second=0).described()["api_key_requests"] == "off"


def limiter(storage: MemoryStorage | RedisStorage, **values: int) -> CallerLimiter:
    refused: list[str] = []
    return CallerLimiter(
        MovingWindowRateLimiter(storage), limits(**values), on_refusal=refused.append
    )


@pytest.mark.asyncio
async def test_an_api_key_makes_a_busy_shops_requests_and_is_refused_past_its_limit():
    shop = limiter(MemoryStorage(), rate_limit_api_key_per_second=150)
    for _ in range(150):
        await shop.check(SHOP, "create")
    with pytest.raises(RateLimited) as refused:
        await shop.check(SHOP, "create")
    assert refused.value.headers == {"Retry-After": "1"}
    assert "150 per second per API key" in refused.value.detail
    await shop.check(Caller("api_key", "key_other"), "create")  # another key, its own count


@pytest.mark.asyncio
async def test_windows_that_cannot_be_read_let_requests_through(tmp_path, caplog):
    with running_redis(tmp_path) as server:
        pool = BlockingConnectionPool.from_url(server.url, max_connections=5, timeout=1)
        storage = RedisStorage(
            "async+" + server.url,
            implementation="redispy",
            wrap_exceptions=True,
            connection_pool=pool,
        )
        browser = limiter(storage, rate_limit_creates_per_minute=1)
        server.stop()
        for _ in range(3):
            await browser.check(BROWSER, "create")
        await pool.disconnect()
    assert "rate_limit.unavailable" in caplog.messages
