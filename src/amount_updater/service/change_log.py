"""One log line per change to a Stripe object: what, before and after, and who asked."""

from __future__ import annotations

import logging

from amount_updater.observability import context

logger = logging.getLogger("amount_updater.change")


def log_change(kind: str, object_id: str, currency: str, before: int, after: int) -> None:
    ctx = context.current()
    logger.info(
        "cart.changed",
        extra={
            "object": kind,
            "object_id": object_id,
            "currency": currency,
            "amount_before": before,
            "amount_after": after,
            "who": ctx.caller if ctx else None,
            "request_id": ctx.request_id if ctx else None,
        },
    )
