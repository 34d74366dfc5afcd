"""Recent cart views answer repeated reads for a moment, bounded in time and in number."""

from __future__ import annotations

from amount_updater.pricing import PricedCart
from amount_updater.service.cart import CartView
from amount_updater.service.recent_views import RecentViews

EMPTY = PricedCart("usd", (), None, None, 0, 0)


def view(object_id: str) -> CartView:
    return CartView("checkout.session", object_id, "open", "usd", None, EMPTY, (), 0)


def test_a_view_is_recalled_until_its_time_is_up():
    now = [100.0]
    recent = RecentViews(ttl_s=2, clock=lambda: now[0])
    recent.remember("cs_1", view("cs_1"))
    now[0] += 1.9
    assert recent.recall("cs_1") == view("cs_1")
    now[0] += 0.2
    assert recent.recall("cs_1") is None
    assert len(recent) == 0


def test_nothing_is_kept_with_a_time_of_zero():
    recent = RecentViews(ttl_s=0)
    recent.remember("cs_1", view("cs_1"))
    assert recent.recall("cs_1") is None


def test_past_max_entries_the_oldest_go():
    recent = RecentViews(max_entries=2)
    for n in range(3):
        recent.remember(f"cs_{n}", view(f"cs_{n}"))
    assert recent.recall("cs_0") is None
    assert recent.recall("cs_2") is not None
