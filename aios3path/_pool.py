"""The client pool: one aiobotocore S3 client per (running event loop, client settings).

Clients are made lazily on first use in a loop and reused. They are closed

* when their settings are gone: a prefix registered again with another resource, once
  nothing in flight (an open file, a running call) still uses the old one,
* by ``await aios3path.aclose()`` (the clients of the calling loop),
* when their loop shuts down its async generators (``asyncio.run`` and ``asyncio.Runner`` do),
* at interpreter exit, for loops that are still open.

After ``os.fork()`` the child forgets the parent's clients without touching their sockets.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import os
import threading
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.credentials import AioCredentials
from aiobotocore.session import AioSession
from botocore.credentials import ReadOnlyCredentials
from botocore.handlers import add_expect_header
from botocore.parsers import DEFAULT_TIMESTAMP_PARSER

from ._client import S3Client
from ._concurrency import protected, retrieve, settle_cleanups, start_cleanup
from ._config import ClientSettings
from ._http import close_socket_without_io
from ._lean import LeanClient
from ._timestamps import parse_http_date, parse_iso8601

#: Connections per client unless the user's botocore Config says otherwise. It bounds the
#: requests in flight per endpoint, so it is sized to the concurrency async users reach.
DEFAULT_MAX_POOL_CONNECTIONS = 64
#: Seconds closing a loop's clients waits for the clean-ups still running there (aborts).
CLEANUP_WAIT = 5.0


def fast_timestamp_parser(value: Any) -> Any:
    """Parse S3's ISO 8601 and RFC 1123 timestamps quickly; anything else as botocore does."""
    if isinstance(value, str):
        try:
            if value.endswith("Z") and "T" in value:
                return parse_iso8601(value)
            if value.endswith("GMT"):
                return parse_http_date(value)
        except (ValueError, TypeError):
            pass
    return DEFAULT_TIMESTAMP_PARSER(value)


class _ThreadedCredentials(AioCredentials):
    """Synchronous botocore credentials whose refresh runs in a worker thread."""

    def __init__(self, sync_credentials: Any) -> None:
        super().__init__("", "", None)
        self._sync = sync_credentials
        self.method = getattr(sync_credentials, "method", "explicit")

    async def get_frozen_credentials(self) -> ReadOnlyCredentials:  # type: ignore[override]
        refresh_needed = getattr(self._sync, "refresh_needed", None)
        if refresh_needed is not None and refresh_needed():
            return await asyncio.to_thread(self._sync.get_frozen_credentials)
        frozen: ReadOnlyCredentials = self._sync.get_frozen_credentials()
        return frozen


def _client_config(user_config: Any) -> AioConfig:
    options: dict[str, Any] = {
        "max_pool_connections": DEFAULT_MAX_POOL_CONNECTIONS,
        "warm_up_loader_caches": True,
        # botocore would presign URLs for custom endpoints with SigV2, which S3-compatible
        # stores (and AWS regions opened after 2014) refuse; SigV4 works everywhere.
        "signature_version": "s3v4",
    }
    if user_config is not None:
        options.update(getattr(user_config, "_user_provided_options", {}))
        for name in ("connector_args", "http_session_cls"):
            if name in options and options[name] is None:
                del options[name]
    return AioConfig(**options)


async def _new_session(settings: ClientSettings) -> AioSession:
    session = AioSession(profile=settings.profile_name) if settings.profile_name else AioSession()
    # Reading the AWS config files is blocking file I/O: do it in a worker thread once.
    await asyncio.to_thread(session.get_scoped_config)
    sync_credentials = settings.sync_credentials
    if settings.botocore_session is not None and settings.aws_access_key_id is None:
        sync_credentials = await asyncio.to_thread(settings.botocore_session.get_credentials)
    if sync_credentials is not None and settings.aws_access_key_id is None:
        session._credentials = _ThreadedCredentials(sync_credentials)  # type: ignore[attr-defined]
    session.get_component("response_parser_factory").set_parser_defaults(
        timestamp_parser=fast_timestamp_parser
    )
    return session


def _let_go(client: S3Client) -> None:
    """Drop ``client`` without I/O (its loop is gone, we are a fork, or closing it failed):
    the lean path forgets its connections and the aiobotocore client's session is marked
    closed."""
    client.forget()
    _silence(client.botocore)


def _silence(client: Any) -> None:
    """Mark a client's HTTP session closed without I/O (its loop is gone or we are a fork)."""
    try:
        http = client._endpoint.http_session
    except AttributeError:
        return
    sessions = getattr(http, "_sessions", None) or {}
    for aiohttp_session in list(sessions.values()):
        connector = getattr(aiohttp_session, "_connector", None)
        if connector is not None:
            connector._closed = True
            idle = getattr(connector, "_conns", {})
            for connections in list(idle.values()):  # kept-alive sockets: close them quietly
                for entry in connections:
                    protocol = entry[0] if isinstance(entry, tuple) else entry
                    close_socket_without_io(getattr(protocol, "transport", None))
            idle.clear()
        aiohttp_session._connector = None


class _LoopClients:
    """The clients of one event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        #: By settings, held weakly: settings nobody uses any more get their client closed.
        self.clients: weakref.WeakKeyDictionary[ClientSettings, S3Client] = (
            weakref.WeakKeyDictionary()
        )
        #: The clients not closed yet (those of settings gone are closed by :meth:`retire`).
        self.live: set[S3Client] = set()
        self.creating: dict[ClientSettings, asyncio.Future[S3Client]] = {}
        self.guard: AsyncGenerator[None, None] | None = None
        self.forgotten = False

    async def start_guard(self) -> None:
        """Have the loop close these clients when it shuts down its async generators."""
        guard = self._guard()
        await guard.__anext__()
        self.guard = guard

    async def _guard(self) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            self.guard = None
            if not self.forgotten:
                await self.aclose()

    async def get(self, settings: ClientSettings) -> S3Client:
        client = self.clients.get(settings)
        if client is not None:
            return client
        pending = self.creating.get(settings)
        if pending is None:
            # A task of its own: a caller cancelled while it is made cancels neither the
            # making nor the other callers waiting for it.
            # Protected: the exit's shutdown spares it, for a clean-up may be waiting for it.
            pending = protected(self._create_and_keep(settings))
            self.creating[settings] = pending
            pending.add_done_callback(retrieve)
            pending.add_done_callback(functools.partial(self._created, settings))
        return await asyncio.shield(pending)

    def _created(self, settings: ClientSettings, task: asyncio.Future[S3Client]) -> None:
        if self.creating.get(settings) is task:
            del self.creating[settings]

    async def _create_and_keep(self, settings: ClientSettings) -> S3Client:
        client = await self._create(settings)
        self.clients[settings] = client
        self.live.add(client)
        retire = weakref.finalize(settings, _retire_later, weakref.ref(self), client)
        retire.atexit = False  # at exit the pool closes every client itself, in order
        return client

    def retire(self, client: S3Client) -> None:
        """Close ``client``, whose settings are gone (on the loop, in a task of its own)."""
        if client not in self.live:
            return  # closed with all the others already
        self.live.discard(client)
        start_cleanup(_close_quietly(client))

    async def _create(self, settings: ClientSettings) -> S3Client:
        session = settings.aio_session
        if session is None:
            session = await _new_session(settings)
        context = session.create_client(
            "s3", config=_client_config(settings.config), **settings.client_kwargs()
        )
        client = await context.__aenter__()
        # botocore asks for "100 Continue" before every PUT/POST body, and aiohttp waits for it
        # with no timeout: a server that accepts and never answers would hang the write
        # forever. Without the header the body goes at once and the read timeout applies.
        client.meta.events.unregister("before-call.s3", add_expect_header)
        # A session handed in by the user may carry event hooks that must see every request.
        lean = None if settings.aio_session is not None else LeanClient.for_client(client)
        return S3Client(client, lean)

    async def aclose(self, cleanup_wait: float = CLEANUP_WAIT) -> None:
        """Close every client of this loop (after the clean-ups under way, at most
        ``cleanup_wait`` seconds, and the hooks of :func:`before_clients_close`)."""
        await settle_cleanups(cleanup_wait)
        for hook in list(_BEFORE_CLOSE):
            with contextlib.suppress(Exception):  # a hook's failure must not keep clients open
                await hook(self.loop)
        _pools.pop(self.loop, None)
        clients, self.live = list(self.live), set()
        self.clients = weakref.WeakKeyDictionary()
        for client in clients:
            try:
                await client.aclose()
            except Exception:  # a client that fails to close must not keep others open
                _let_go(client)
        # One turn of the loop: transports closed just now finish closing (their sockets are
        # released) before a caller may end the loop.
        await asyncio.sleep(0)
        self._finish_guard()

    def forget(self) -> None:
        """Drop the clients without I/O (after fork, or when the loop is already closed)."""
        self.forgotten = True
        _pools.pop(self.loop, None)
        for client in self.live:
            _let_go(client)
        self.live = set()
        self.clients = weakref.WeakKeyDictionary()
        self._finish_guard()

    def _finish_guard(self) -> None:
        guard, self.guard = self.guard, None
        if guard is not None:
            self.forgotten = True  # its ``finally`` must not close anything again
            _drive_to_end(guard)


async def _close_quietly(client: S3Client) -> None:
    try:
        await client.aclose()
    except Exception:  # nobody waits for it: let go of its sockets without I/O instead
        _let_go(client)


def _retire_later(entry: weakref.ReferenceType[_LoopClients], client: S3Client) -> None:
    """When settings are garbage-collected (in any thread): have their client closed."""
    clients = entry()
    if clients is None or clients.forgotten or client not in clients.live:
        return
    try:
        clients.loop.call_soon_threadsafe(clients.retire, client)
    except RuntimeError:  # its loop closed meanwhile: nothing can be sent any more
        clients.live.discard(client)
        _let_go(client)


def _drive_to_end(guard: AsyncGenerator[None, None]) -> None:
    """Close a suspended guard generator synchronously (its ``finally`` awaits nothing)."""
    closing = guard.aclose()
    try:
        closing.send(None)
    except StopIteration:
        pass
    except RuntimeError:  # already closing
        pass
    finally:
        closing.close()


#: Coroutine functions awaited with a loop just before its clients close.
_BEFORE_CLOSE: list[Callable[[asyncio.AbstractEventLoop], Awaitable[None]]] = []


def before_clients_close(hook: Callable[[asyncio.AbstractEventLoop], Awaitable[None]]) -> None:
    """Have ``hook(loop)`` awaited when ``loop``'s clients are about to close (at the end of
    ``asyncio.run``, or on ``aios3path.aclose()``): the last moment requests can be sent."""
    _BEFORE_CLOSE.append(hook)


_pools: dict[asyncio.AbstractEventLoop, _LoopClients] = {}
_pools_lock = threading.Lock()


def _purge_closed_loops() -> None:
    for loop, entry in list(_pools.items()):
        if loop.is_closed():
            entry.forget()


async def get_client(settings: ClientSettings) -> S3Client:
    """The S3 client for ``settings`` in the running loop, created on first use."""
    loop = asyncio.get_running_loop()
    entry = _pools.get(loop)
    if entry is None:
        with _pools_lock:
            _purge_closed_loops()
            entry = _pools.get(loop)
            if entry is None:
                entry = _LoopClients(loop)
                _pools[loop] = entry
        if entry.guard is None:
            await entry.start_guard()
    client = entry.clients.get(settings)
    if client is not None:
        return client
    return await entry.get(settings)


async def aclose() -> None:
    """Close every client this library opened in the running event loop.

    Safe to call more than once; the next request opens new clients.
    """
    entry = _pools.get(asyncio.get_running_loop())
    if entry is not None:
        await entry.aclose()


def close_loop_clients(loop: asyncio.AbstractEventLoop, timeout: float = 5.0) -> None:
    """Close the clients of ``loop`` from another thread (or forget them if it cannot run)."""
    entry = _pools.get(loop)
    if entry is None:
        return
    if loop.is_closed():
        entry.forget()
        return
    # Half the time for the clean-ups under way: the hooks and the closing need the rest.
    closing = entry.aclose(cleanup_wait=timeout / 2)
    if loop.is_running():
        future = asyncio.run_coroutine_threadsafe(closing, loop)
        try:
            future.result(timeout)
        except Exception:
            entry.forget()
        return
    try:
        loop.run_until_complete(asyncio.wait_for(closing, timeout))
    except Exception:
        entry.forget()


def _close_all_at_exit() -> None:
    for loop in list(_pools):
        if loop.is_running() and getattr(loop, "_thread_id", None) == threading.get_ident():
            _pools[loop].forget()
            continue
        close_loop_clients(loop, timeout=2.0)


def _forget_all_after_fork() -> None:
    global _pools_lock
    _pools_lock = threading.Lock()
    for entry in list(_pools.values()):
        entry.forget()
    _pools.clear()


atexit.register(_close_all_at_exit)
os.register_at_fork(after_in_child=_forget_all_after_fork)
