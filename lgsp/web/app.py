"""The aiohttp application: ingress (REST, SOAP) and health, wired to one running bus."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import uuid
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from lgsp import metrics
from lgsp.errors import LgspError
from lgsp.routing import RoutesInvalid
from lgsp.runtime import start_bus, stop_bus
from lgsp.web import admin, audit, dlq, soap
from lgsp.web import ingress as ingress_api
from lgsp.web.context import BUS, Bus
from lgsp.web.problem import internal_error, problem_response

log = structlog.get_logger("lgsp.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def problems_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except LgspError as error:
        return problem_response(error, request.path)
    except web.HTTPException:
        raise
    except Exception:
        incident = uuid.uuid4().hex[:12]
        log.exception("unhandled error", incident=incident, path=request.path)
        return problem_response(internal_error(incident), request.path)


async def metrics_page(request: web.Request) -> web.Response:
    """Prometheus text format. Queue depths and circuit states are read now, not cached."""
    bus = request.app[BUS]
    for endpoint in bus.routes.current.table.endpoints:
        try:
            depth = await bus.transport.depth(endpoint)
        except LgspError as error:
            log.warning("queue depth unavailable", endpoint=endpoint, error=error.detail)
            continue
        for state, count in (("ready", depth.ready), ("delayed", depth.delayed), ("dead", depth.dead)):
            metrics.QUEUE_DEPTH.labels(endpoint, state).set(count)
    if bus.worker is not None:
        for endpoint, state in bus.worker.circuit_states().items():
            metrics.CIRCUIT_OPEN.labels(endpoint).set(metrics.CIRCUIT_LEVELS[state])
    return web.Response(body=generate_latest(metrics.REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    bus = request.app[BUS]
    checks: dict[str, str] = {}
    try:
        await bus.ledger.ping()
        checks["ledger"] = "ok" if bus.ledger.healthy else "failing writes"
    except Exception as error:  # noqa: BLE001 - readiness reports any failure, it does not raise it
        checks["ledger"] = f"unreachable: {type(error).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return web.json_response(
        # "process": which of several processes sharing the port (`lgsp serve --processes`) answered.
        {"status": "ready" if ready else "not ready", "checks": checks, "process": os.getpid()},
        status=200 if ready else 503,
    )


def _reload_on_signal(bus: Bus) -> None:
    async def reload() -> None:
        try:
            await bus.routes.reload("signal:SIGHUP")
        except RoutesInvalid as invalid:
            log.error("routing table refused on SIGHUP; the table in force stays", findings=str(invalid))

    asyncio.get_running_loop().create_task(reload())


def create_app(bus: Bus, ingress: bool = True) -> web.Application:
    """The bus over HTTP; without ``ingress``, only health (a ``lgsp worker`` process)."""
    # client_max_size only guards handlers that call request.read(); ingress reads within its own bound.
    app = web.Application(middlewares=[problems_middleware], client_max_size=bus.settings.http.max_body_bytes)
    app[BUS] = bus

    async def start(_app: web.Application) -> None:
        await start_bus(bus)
        with contextlib.suppress(NotImplementedError, RuntimeError):  # no signals off the main thread
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, _reload_on_signal, bus)

    async def stop(_app: web.Application) -> None:
        await stop_bus(bus)

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_page)
    if not ingress:
        return app
    app.router.add_post("/v1/messages", ingress_api.post_message)
    app.router.add_get("/v1/messages/{id}", ingress_api.get_message)
    app.router.add_post("/soap/edoc", soap.post_edoc)
    app.router.add_get("/soap/edoc", soap.get_wsdl)
    app.router.add_get("/admin/routes", admin.get_routes)
    app.router.add_put("/admin/routes", admin.put_routes)
    app.router.add_get("/admin/routes/history", admin.routes_history)
    app.router.add_post("/admin/routes/reload", admin.reload_routes)
    app.router.add_post("/admin/routes/rollback/{version}", admin.rollback_routes)
    app.router.add_get("/admin/dlq", dlq.list_dead_letters)
    app.router.add_get("/admin/dlq/item", dlq.show_dead_letter)
    app.router.add_post("/admin/dlq/replay", dlq.replay_dead_letters)
    app.router.add_post("/admin/dlq/discard", dlq.discard_dead_letter)
    app.router.add_get("/audit/messages", audit.list_messages)
    app.router.add_get("/audit/messages/{id}", audit.show_message)
    app.router.add_get("/audit/payloads/{sha256}", audit.show_payload)
    app.router.add_get("/audit/export", audit.export_messages)
    app.router.add_get("/audit/verify", audit.verify_chain)
    return app
