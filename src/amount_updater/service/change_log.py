"""One log line per write to a Stripe object: what, before and after, and who asked.

A write can carry a batch of changes from several requests (`change_queue`): `who` and
`request_id` then list each request's, comma-separated, in the order they were applied.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

logger = logging.getLogger("amount_updater.change")


def log_change(
    kind: str,
    object_id: str,
    currency: str,
    before: int,
    after: int,
    *,
    who: Sequence[str],
    request_ids: Sequence[str],
) -> None:
    logger.info(
        "cart.changed",
        extra={
            "object": kind,
            "object_id": object_id,
            "currency": currency,
            "amount_before": before,
            "amount_after": after,
            "changes": len(who),
            "who": ",".join(who),
            "request_id": ",".join(request_ids),
        },
    )
