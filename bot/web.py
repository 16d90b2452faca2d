"""The process's small HTTP server: ``/healthz`` and ``/metrics`` for every role (``--listen HOST:PORT``).

aiohttp, in the process's own event loop, so a check sees the same loops and database the role uses.
Other code adds routes to ``WebServer.app`` before ``start()`` (webhook mode adds its update route
here), so one port serves everything an operator or a load balancer talks to.

* ``/healthz``: 200 when the database answers ``SELECT 1`` within two seconds and every loop the role
  registered (``Health.add``) says it is alive; 503 otherwise. The body is JSON naming each check, so
  an operator sees which part failed.
* ``/metrics``: ``jobs.metrics`` in Prometheus text format; database-wide gauges (outbox depth) are
  refreshed from the database first, at most once a second however often it is scraped.

It serves no TLS: put it behind a reverse proxy (or keep it on a private address) as the README says.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from jobs import metrics
from storage import stats as stats_store
from storage.db import Database

log = logging.getLogger(__name__)

Check = Callable[[], bool | Awaitable[bool]]


@dataclass(slots=True)
class Health:
    """Named liveness checks of the role's loops; each returns True while its loop is alive."""

    role: str
    checks: dict[str, Check] = field(default_factory=dict)

    def add(self, name: str, check: Check) -> None:
        self.checks[name] = check

    async def evaluate(self) -> dict[str, bool]:
        out: dict[str, bool] = {}
        for name, check in self.checks.items():
            try:
                result = check()
                out[name] = bool(await result) if isinstance(result, Awaitable) else bool(result)
            except Exception:
                log.exception("health check %s raised", name)
                out[name] = False
        return out


class WebServer:
    """``/healthz`` and ``/metrics`` on ``host:port`` (port 0 picks a free one: see ``port``)."""

    def __init__(self, host: str, port: int, *, db: Database, health: Health) -> None:
        self.host = host
        self.port = port
        self.db = db
        self.health = health
        self.app = web.Application()
        self.app.router.add_get("/healthz", self._healthz)
        self.app.router.add_get("/metrics", self._metrics)
        self._runner: web.AppRunner | None = None
        self._refreshed = 0.0
        self._refresh_lock = asyncio.Lock()

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        # Port 0 (tests) asks the system for a free port: read back which one it gave.
        for sock in getattr(site._server, "sockets", None) or ():
            self.port = int(sock.getsockname()[1])
            break
        log.info("serving /healthz and /metrics on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _database_ok(self) -> bool:
        try:
            async with asyncio.timeout(2.0):
                return await stats_store.ping(self.db)
        except Exception:
            return False

    async def _healthz(self, _request: web.Request) -> web.Response:
        database = await self._database_ok()
        loops = await self.health.evaluate()
        ok = database and all(loops.values())
        body = {"ok": ok, "role": self.health.role, "database": database, "loops": loops}
        return web.Response(status=200 if ok else 503, text=json.dumps(body), content_type="application/json")

    async def _metrics(self, _request: web.Request) -> web.Response:
        await self._refresh()
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _refresh(self) -> None:
        async with self._refresh_lock:
            if time.monotonic() - self._refreshed < 1.0:
                return
            try:
                async with asyncio.timeout(2.0):
                    depth = await stats_store.outbox_depth(self.db)
            except Exception:
                log.warning("metrics: outbox depth unavailable (database unreachable?)")
                return
            for status in ("pending", "sending"):
                metrics.OUTBOX_DEPTH.labels(status=status).set(depth.get(status, 0))
            self._refreshed = time.monotonic()
