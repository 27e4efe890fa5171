"""What operators watch: counters, latencies and states in Prometheus form, served at ``/metrics``.

Counts are by route and endpoint, so a dashboard shows which flow is failing, not only that one is.
Queue depths and circuit states are read when scraped, so they are never stale.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry()

ACCEPTED = Counter(
    "lgsp_messages_accepted", "Messages accepted (202), by format and route", ["format", "route"], registry=REGISTRY
)
REJECTED = Counter("lgsp_messages_rejected", "Messages rejected, by problem type", ["problem"], registry=REGISTRY)
INGRESS_SECONDS = Histogram(
    "lgsp_ingress_seconds",
    "Time to answer a sender, accepted or not",
    ["channel"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    registry=REGISTRY,
)
ATTEMPTS = Counter(
    "lgsp_delivery_attempts", "Delivery attempts, by endpoint and result", ["endpoint", "result"], registry=REGISTRY
)
DELIVERED = Counter(
    "lgsp_deliveries_delivered", "Deliveries delivered, by route and endpoint", ["route", "endpoint"], registry=REGISTRY
)
DEAD_LETTERED = Counter(
    "lgsp_deliveries_dead_lettered",
    "Deliveries dead-lettered, by route and endpoint",
    ["route", "endpoint"],
    registry=REGISTRY,
)
ATTEMPT_SECONDS = Histogram(
    "lgsp_delivery_attempt_seconds", "Time an endpoint took to answer one attempt", ["endpoint"], registry=REGISTRY
)
DELIVERY_LATENCY_SECONDS = Histogram(
    "lgsp_delivery_latency_seconds",
    "From acceptance to delivered, by endpoint",
    ["endpoint"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600),
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "lgsp_queue_depth",
    "Deliveries waiting, by endpoint and state (ready, delayed, dead)",
    ["endpoint", "state"],
    registry=REGISTRY,
)
CIRCUIT_OPEN = Gauge(
    "lgsp_circuit_state", "Circuit breaker per endpoint: 0 closed, 1 half-open, 2 open", ["endpoint"], registry=REGISTRY
)
LEDGER_WRITE_SECONDS = Histogram(
    "lgsp_ledger_write_seconds",
    "Time to commit one ledger batch",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
    registry=REGISTRY,
)
LEDGER_BATCH_SIZE = Histogram(
    "lgsp_ledger_batch_size",
    "Records per ledger commit (group commit)",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
    registry=REGISTRY,
)

CIRCUIT_LEVELS = {"closed": 0, "half-open": 1, "open": 2}
