"""The egress orchestrator: consume each endpoint's queue, call the endpoint, audit, then settle.

For each delivery: wait if an earlier delivery of its ordering key to the same endpoint is still on
its way (no attempt spent); call the endpoint's client; record the attempt and its consequence in
the ledger (durable); only then settle the lease: ack when delivered, retry later with backoff and
jitter for a transient failure while attempts remain, dead-letter a permanent failure or exhausted
retries. A destination that keeps failing opens its circuit: its queue is not consumed until a
probe succeeds; the other endpoints keep flowing.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import structlog

from lgsp import metrics
from lgsp.audit import Attempt, Ledger
from lgsp.delivery.base import EndpointClient, EndpointConfig, Outcome
from lgsp.delivery.circuit import Circuit, CircuitState
from lgsp.delivery.clients import open_client
from lgsp.delivery.secrets import resolve
from lgsp.envelope import Delivery
from lgsp.errors import ConfigError, Unavailable
from lgsp.ids import utc_now
from lgsp.live_routes import LiveRoutes
from lgsp.routing import Endpoint, RouteTable
from lgsp.routing.model import RetryPolicy
from lgsp.settings import WorkerSettings
from lgsp.transport import Lease, Subscription, Transport

log = structlog.get_logger("lgsp.delivery")

_MISCONFIGURED_WAIT_SECONDS = 30.0


def _since(iso_utc: str) -> float:
    """Seconds since a ledger timestamp (``2025-10-01T02:00:00.000000Z``)."""
    return max(0.0, (datetime.now(UTC) - datetime.fromisoformat(iso_utc.replace("Z", "+00:00"))).total_seconds())


def _jittered(seconds: float, jitter: float) -> float:
    return max(0.0, seconds * (1 + random.uniform(-jitter, jitter)))  # noqa: S311 - spreading retries, not secrecy


class _Lane:
    """One endpoint's consumption: its client, its circuit, its subscription."""

    def __init__(self, worker: DeliveryWorker, endpoint: Endpoint) -> None:
        self.worker = worker
        self.endpoint = endpoint
        self.circuit = Circuit(endpoint.circuit)
        self.client: EndpointClient | None = None
        self.subscription: Subscription | None = None
        self.probe: asyncio.Task[None] | None = None

    async def subscribe(self, prefetch: int) -> None:
        self.subscription = await self.worker.transport.consume(self.endpoint.name, self.handle, prefetch)

    async def unsubscribe(self, grace_seconds: float) -> None:
        """Stop fetching; attempts already running get ``grace_seconds`` to finish and settle."""
        if self.subscription is not None:
            subscription, self.subscription = self.subscription, None
            await subscription.cancel(grace_seconds)

    async def handle(self, lease: Lease) -> None:
        try:
            await self._handle(lease)
        except Unavailable as error:  # the lease could not be settled: the transport delivers it again
            log.warning("delivery left unsettled", delivery_id=lease.delivery.id, error=error.detail)

    async def _handle(self, lease: Lease) -> None:
        delivery = lease.delivery
        # Every log line of this delivery's work, the endpoint client's included, carries these.
        with structlog.contextvars.bound_contextvars(
            message_id=delivery.message_id, delivery_id=delivery.id, endpoint=self.endpoint.name, route=delivery.route
        ):
            await self._attempt(lease, delivery)

    async def _attempt(self, lease: Lease, delivery: Delivery) -> None:
        if self.circuit.state is CircuitState.OPEN:
            await lease.defer(max(1.0, self.circuit.seconds_until_probe()))
            return
        if delivery.ordering_key is not None and await self.worker.ledger.earlier_unsettled(
            delivery.endpoint, delivery.ordering_key, delivery.sequence
        ):
            await lease.defer(self.worker.settings.ordering_wait_seconds)
            return
        try:
            client = self._client()
        except ConfigError as error:
            log.error("endpoint misconfigured; delivery waits", error=error.detail)
            await lease.defer(_MISCONFIGURED_WAIT_SECONDS)
            return
        started = time.monotonic()
        try:
            outcome = await client.deliver(delivery)
        except Exception as error:  # a client bug must cost an attempt, not loop forever
            log.exception("endpoint client failed")
            outcome = Outcome("transient", f"internal error in the {self.endpoint.kind} client: {error!r}")
        elapsed = time.monotonic() - started
        metrics.ATTEMPT_SECONDS.labels(self.endpoint.name).observe(elapsed)
        metrics.ATTEMPTS.labels(self.endpoint.name, outcome.result).inc()
        duration_ms = round(elapsed * 1000, 1)
        await self._conclude(lease, delivery, outcome, duration_ms)
        log.info(
            "delivery attempt",
            attempt=delivery.attempt + 1,
            result=outcome.result,
            http_status=outcome.http_status,
            duration_ms=duration_ms,
        )

    async def _conclude(self, lease: Lease, delivery: Delivery, outcome: Outcome, duration_ms: float) -> None:
        attempt = delivery.attempt + 1
        policy = self.worker.retry_policy(delivery, self.endpoint)
        if outcome.result == "delivered":
            next_status = "delivered"
        elif outcome.result == "permanent" or attempt >= policy.attempts:
            next_status = "dead"
        else:
            next_status = "retrying"
        await self.worker.ledger.record_attempt(
            Attempt(
                delivery_id=delivery.id,
                message_id=delivery.message_id,
                endpoint=delivery.endpoint,
                attempt=attempt,
                result=outcome.result,
                next_status=next_status,
                detail=outcome.detail,
                at=utc_now(),
                http_status=outcome.http_status,
                duration_ms=duration_ms,
                receipt=dict(outcome.receipt),
            )
        )
        route = delivery.route or ""
        if next_status == "delivered":
            await lease.ack()
            self.circuit.record_success()
            metrics.DELIVERED.labels(route, delivery.endpoint).inc()
            metrics.DELIVERY_LATENCY_SECONDS.labels(delivery.endpoint).observe(_since(delivery.enqueued_at))
        elif next_status == "dead":
            reason = "permanent failure" if outcome.result == "permanent" else f"{attempt} attempts exhausted"
            await lease.dead_letter(reason, outcome.detail)
            metrics.DEAD_LETTERED.labels(route, delivery.endpoint).inc()
        else:
            await lease.retry(_jittered(policy.delay_before(attempt + 1), policy.jitter), outcome.detail)
        if outcome.result == "transient" and self.circuit.record_failure():
            log.warning(
                "circuit opened: endpoint paused",
                endpoint=self.endpoint.name,
                probe_in_seconds=self.endpoint.circuit.open_seconds,
            )
            self._schedule_probe()
        elif outcome.result != "transient" and self.circuit.state is CircuitState.HALF_OPEN:
            self.circuit.record_success()
            asyncio.get_running_loop().create_task(self._reopen_fully())

    def _client(self) -> EndpointClient:
        if self.client is None:
            credentials = resolve(self.endpoint.name, self.endpoint.credentials, self.worker.routes_dir)
            config = EndpointConfig(
                name=self.endpoint.name,
                kind=self.endpoint.kind,
                url=self.endpoint.url,
                timeout_seconds=self.endpoint.timeout_seconds,
                credentials=credentials,
                options=self.endpoint.options,
            )
            self.client = open_client(config, self.worker.session)
        return self.client

    def _schedule_probe(self) -> None:
        if self.probe is None or self.probe.done():
            self.probe = asyncio.get_running_loop().create_task(self._probe_later())

    async def _probe_later(self) -> None:
        await self.unsubscribe(self.endpoint.timeout_seconds)
        await asyncio.sleep(self.circuit.seconds_until_probe())
        self.circuit.start_probe()
        log.info("circuit half-open: probing", endpoint=self.endpoint.name)
        await self.subscribe(prefetch=1)

    async def _reopen_fully(self) -> None:
        log.info("circuit closed: endpoint resumes", endpoint=self.endpoint.name)
        await self.unsubscribe(self.endpoint.timeout_seconds)
        await self.subscribe(self.endpoint.concurrency)

    async def close(self, grace_seconds: float) -> None:
        """Stop fetching; in-flight deliveries get ``grace_seconds`` to finish and be acknowledged."""
        if self.probe is not None:
            self.probe.cancel()
        await self.unsubscribe(grace_seconds)
        if self.client is not None:
            await self.client.close()


class DeliveryWorker:
    def __init__(
        self, transport: Transport, ledger: Ledger, routes: LiveRoutes, routes_dir: Path, settings: WorkerSettings
    ) -> None:
        self.transport = transport
        self.ledger = ledger
        self.routes = routes
        self.routes_dir = routes_dir
        self.settings = settings
        self._lanes: dict[str, _Lane] = {}
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "DeliveryWorker.start() was not awaited"
        return self._session

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        await self.follow(self.routes.current.table)

    async def follow(self, table: RouteTable) -> None:
        """Consume every endpoint of ``table``; an endpoint's new settings apply to its next client."""
        if self._session is None:
            return  # not started (an ingress-only bus): nothing to consume
        for name, endpoint in table.endpoints.items():
            lane = self._lanes.get(name)
            if lane is None:
                lane = self._lanes[name] = _Lane(self, endpoint)
                await lane.subscribe(endpoint.concurrency)
            elif lane.endpoint != endpoint:
                lane.endpoint, lane.client = endpoint, None

    def retry_policy(self, delivery: Delivery, endpoint: Endpoint) -> RetryPolicy:
        """The first route's own policy if it has one (and still exists), else the endpoint's."""
        first_route = (delivery.route or "").split(", ")[0]
        for route in self.routes.current.table.routes:
            if route.name == first_route and route.retry is not None:
                return route.retry
        return endpoint.retry

    def circuit_states(self) -> dict[str, str]:
        return {name: lane.circuit.state.value for name, lane in self._lanes.items()}

    async def close(self) -> None:
        """Stop consuming, give in-flight deliveries their grace, hand the rest back to the queue."""
        await asyncio.gather(*(lane.close(self.settings.shutdown_grace_seconds) for lane in self._lanes.values()))
        self._lanes.clear()
        if self._session is not None:
            with contextlib.suppress(Exception):
                await self._session.close()
            self._session = None
