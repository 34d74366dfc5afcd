"""Coordination between concurrent requests: per-object locks and the idempotency store,
in memory for one process, or in Redis for several replicas."""
