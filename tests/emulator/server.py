"""The loopback HTTP side: aiohttp routes on their own event loop in a background thread.

Why a thread with its own loop: the emulator must serve a bot running in the test's event loop (async
tests), in a plain sync test, and in a subprocess, without sharing anyone's loop. Routes:

* ``/bot<token>/<method>`` – the Bot API (GET or POST; JSON, form-urlencoded or multipart);
* ``/file/bot<token>/<path>`` – always 404 (no files are emulated);
* ``/_control/<action>`` – drive and inspect the world from another process (see ``control.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from typing import TYPE_CHECKING, Any

import httpx
from aiohttp import web

from tests.emulator import control
from tests.emulator.botapi import METHODS
from tests.emulator.errors import NOT_FOUND, UNAUTHORIZED, ApiError, bad_request
from tests.emulator.faults import Fault
from tests.emulator.params import Params

if TYPE_CHECKING:
    from tests.emulator.emulator import BotAPIEmulator

CONFLICT = ApiError(
    409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)


def json_response(status: int, payload: Any) -> web.Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return web.Response(body=body, status=status, content_type="application/json")


async def read_params(request: web.Request) -> dict[str, Any]:
    """Parameters from the query string and the body, in any encoding Telegram accepts."""
    params: dict[str, Any] = dict(request.query)
    if not request.can_read_body:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON body") from None
        if not isinstance(body, dict):
            raise bad_request("can't parse JSON body")
        params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                data = value.file.read()
                # The first bytes are kept so tests can tell what arrived (a PNG's signature and size).
                params[key] = {
                    "file_name": value.filename,
                    "content_type": value.content_type,
                    "size": len(data),
                    "head": data[:64].hex(),
                }
            else:
                params[key] = value
    else:
        await request.read()
    return params


class EmulatorServer:
    """Runs the aiohttp app for one emulator; ``start()``/``stop()`` are blocking and idempotent."""

    def __init__(self, emulator: BotAPIEmulator, host: str, port: int) -> None:
        self.emulator = emulator
        self.host = host
        self.port = port
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._wake: asyncio.Event | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._closing = False
        self._poll_generation = 0

    @property
    def url(self) -> str:
        if self._runner is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return f"http://{self.host}:{self.port}"

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        if self._thread is not None:
            return
        self._closing = False
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, name="bot-api-emulator", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._startup_error is not None:
            self._thread.join(5)
            self._thread = None
            raise RuntimeError("the Bot API emulator failed to start") from self._startup_error

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self.loop = loop
        try:
            loop.run_until_complete(self._startup())
        except BaseException as exc:  # reported to start()
            self._startup_error = exc
            self._ready.set()
            loop.close()
            asyncio.set_event_loop(None)
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            asyncio.set_event_loop(None)

    async def _startup(self) -> None:
        self._wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        wake = self._wake
        self.emulator.add_update_listener(lambda: loop.call_soon_threadsafe(wake.set))
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._not_found)
        app.router.add_route("*", "/_control/{action}", self._control)
        app.router.add_route("*", "/{path:.*}", self._not_found)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        sockets = self._runner.addresses
        self.port = int(sockets[0][1])
        self._webhook_task = loop.create_task(self._deliver_webhooks())

    def stop(self) -> None:
        thread, loop = self._thread, self.loop
        if thread is None or loop is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
        try:
            future.result(15)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(15)
            self._thread = None
            self._runner = None
            self.loop = None

    async def _deliver_webhooks(self) -> None:
        """While a webhook is set, POST queued updates to it one by one, as Telegram does: an update
        leaves the queue when the bot answers 200; any other answer, or none, is retried after a pause."""

        assert self._wake is not None
        world = self.emulator
        async with httpx.AsyncClient(timeout=10.0) as client:
            while not self._closing:
                with world.lock:
                    url, secret = world.webhook_url, world.webhook_secret
                    update = world.updates[0] if url and world.updates else None
                    if update is not None and world.webhook_proxy:
                        url = world.webhook_proxy.rstrip("/") + "/" + url.split("/", 3)[-1]
                if update is None:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), 0.5)
                    continue
                headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
                try:
                    response = await client.post(url, json=update, headers=headers)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                with world.lock:
                    if ok and world.updates and world.updates[0] is update:
                        world.updates.popleft()
                        world.counters["webhook_deliveries"] += 1
                        world.changed()
                    elif not ok:
                        world.counters["webhook_failures"] += 1
                if not ok:
                    await asyncio.sleep(0.2)

    async def _shutdown(self) -> None:
        self._closing = True
        if self._wake is not None:
            self._wake.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ routes

    async def _not_found(self, request: web.Request) -> web.Response:
        return json_response(404, NOT_FOUND.payload())

    async def _api(self, request: web.Request) -> web.StreamResponse:
        emulator = self.emulator
        if request.match_info["token"] != emulator.token:
            return json_response(401, UNAUTHORIZED.payload())
        method = request.match_info["method"]
        key = method.lower()
        if key not in METHODS:
            emulator.record(method, {}, error=NOT_FOUND)
            return json_response(404, NOT_FOUND.payload())
        try:
            raw = await read_params(request)
        except ApiError as error:
            emulator.record(method, {}, error=error)
            return json_response(error.code, error.payload())
        fault = emulator.faults.take(key, raw.get("chat_id"))
        if fault is not None:
            with emulator.lock:
                emulator.counters["faults_fired"] += 1
            if fault.action == "error":
                scripted = ApiError(fault.error_code, fault.description, fault.parameters)
                emulator.record(method, raw, error=scripted)
                return json_response(scripted.code, scripted.payload())
            if not fault.apply:
                return await self._drop(request, method, raw, fault)
        if key == "getupdates":
            response = await self._get_updates(method, raw)
        else:
            status, payload = emulator.process(method, raw)
            response = json_response(status, payload)
        if fault is not None:
            return await self._drop(request, method, raw, fault)
        return response

    async def _drop(
        self, request: web.Request, method: str, raw: dict[str, Any], fault: Fault
    ) -> web.Response:
        """Lose the reply: stall first for a timeout fault, then close the connection unanswered."""
        self.emulator.record(method, raw, error=ApiError(0, f"emulator fault: connection {fault.action}"))
        if fault.action == "timeout":
            await asyncio.sleep(fault.delay)
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError

    async def _get_updates(self, method: str, raw: dict[str, Any]) -> web.Response:
        emulator = self.emulator
        params = Params(raw)
        with emulator.lock:
            try:
                offset, limit, timeout = emulator.api.updates_request(params)
            except ApiError as error:
                emulator.record(method, raw, error=error)
                return json_response(error.code, error.payload())
            self._poll_generation += 1
            generation = self._poll_generation
            updates = emulator.api.take_updates(offset, limit)
        assert self._wake is not None
        self._wake.set()  # an older long poll still waiting now learns it was superseded
        if not updates and timeout > 0 and not self._closing:
            self._set_waiting(+1)
            try:
                waited = await self._long_poll(offset, limit, timeout, generation)
            finally:
                self._set_waiting(-1)
            if waited is None:
                emulator.record(method, raw, error=CONFLICT)
                return json_response(409, CONFLICT.payload())
            updates = waited
        emulator.record(method, raw, result=updates)
        return json_response(200, {"ok": True, "result": updates})

    def _set_waiting(self, delta: int) -> None:
        with self.emulator.lock:
            self.emulator.waiting_polls += delta
            self.emulator.changed()

    async def _long_poll(
        self, offset: int | None, limit: int, seconds: float, generation: int
    ) -> list[dict[str, Any]] | None:
        """Wait up to ``seconds`` for updates; None when a newer getUpdates superseded this one."""
        emulator, wake = self.emulator, self._wake
        assert wake is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        updates: list[dict[str, Any]] = []
        while not updates and not self._closing:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            wake.clear()
            with emulator.lock:
                updates = emulator.api.take_updates(offset, limit)
            if updates:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), remaining)
            if generation != self._poll_generation:
                return None
            with emulator.lock:
                updates = emulator.api.take_updates(offset, limit)
        return updates

    async def _control(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        try:
            kwargs = await request.json() if request.can_read_body else {}
        except ValueError:
            return json_response(400, {"ok": False, "description": "the control API takes a JSON object"})
        if not isinstance(kwargs, dict):
            return json_response(400, {"ok": False, "description": "the control API takes a JSON object"})
        for key, value in request.query.items():
            kwargs[key] = _query_value(value)
        status, payload = await control.dispatch(self.emulator, action, kwargs)
        return json_response(status, payload)


def _query_value(value: str) -> Any:
    """``?chat_id=-100`` means the number; anything that is not JSON stays a string."""
    try:
        return json.loads(value)
    except ValueError:
        return value
