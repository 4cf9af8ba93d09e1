"""aiobotocore's ``connector_args`` and the lean path.

The lean path keeps its own connections, so it follows the arguments it can honour
(``keepalive_timeout``; DNS caching only saves lookups) and leaves clients with any other
(a resolver, a socket factory, ``force_close``, a TLS context) to botocore, which hands them
to aiohttp as the user asked. (aiobotocore 3.10 cannot use an ``ssl_context`` with aiohttp:
it passes its own ``ssl=`` as well, so that one is not tested here.)
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from aiobotocore.config import AioConfig

from aios3path import AsyncS3Path, PureS3Path, register_configuration_parameter

from . import test_http as scripted
from ._proxy import CountingProxy

serve = scripted.serve

LEAN = "aios3path-lean"


def _route_through(counter: CountingProxy, settings: dict[str, Any], **connector_args: Any) -> None:
    register_configuration_parameter(
        PureS3Path("/"),
        resource=dict(
            settings, endpoint_url=counter.url, config=AioConfig(connector_args=connector_args)
        ),
    )


def _user_agents(counter: CountingProxy, operation: str) -> list[str]:
    return [r.headers.get("user-agent", "") for r in counter.requests if r.operation == operation]


def _socket_factory(address_info: Any) -> socket.socket:
    family, kind, protocol = address_info[:3]
    return socket.socket(family, kind, protocol)


CONNECTION_CHANGING: dict[str, Callable[[], dict[str, Any]]] = {
    # aiohttp refuses force_close next to aiobotocore's default keepalive_timeout
    "force_close": lambda: {"force_close": True, "keepalive_timeout": None},
    "resolver": lambda: {"resolver": aiohttp.ThreadedResolver()},
    "socket_factory": lambda: {"socket_factory": _socket_factory},
}


@pytest.mark.parametrize("name", sorted(CONNECTION_CHANGING))
async def test_connector_args_that_change_connections_send_reads_through_botocore(
    bucket: AsyncS3Path, counter: CountingProxy, s3_server: Any, name: str
) -> None:
    await (bucket / "a.txt").write_text("hello")
    _route_through(counter, s3_server.client_settings(), **CONNECTION_CHANGING[name]())
    counter.clear()
    assert await (bucket / "a.txt").read_text() == "hello"
    assert await (bucket / "a.txt").exists()
    assert [p.name async for p in bucket.iterdir()] == ["a.txt"]
    agents = [
        agent
        for op in ("GetObject", "HeadObject", "ListObjectsV2")
        for agent in _user_agents(counter, op)
    ]
    assert len(agents) == 3
    assert not any(agent.startswith(LEAN) for agent in agents)


async def test_dns_caching_settings_keep_the_lean_path(
    bucket: AsyncS3Path, counter: CountingProxy, s3_server: Any
) -> None:
    await (bucket / "a.txt").write_text("hello")
    _route_through(counter, s3_server.client_settings(), use_dns_cache=False, ttl_dns_cache=5)
    counter.clear()
    assert await (bucket / "a.txt").read_text() == "hello"
    assert [agent[: len(LEAN)] for agent in _user_agents(counter, "GetObject")] == [LEAN]


@pytest.fixture
async def keep_alive_server(serve: scripted.Serve) -> scripted.ScriptedServer:
    """An S3 stand-in that keeps connections open and answers every GET with ``hello``."""
    return await serve(scripted.answering(scripted.ok(b"hello")))


async def _connections_for_reads_apart(
    server: scripted.ScriptedServer, s3_server: Any, **connector_args: Any
) -> int:
    """New connections the server accepted for two reads, each after 0.3 s idle."""
    endpoint = f"http://127.0.0.1:{server.origin.port}"
    settings = dict(s3_server.client_settings(), endpoint_url=endpoint)
    settings["config"] = AioConfig(connector_args=connector_args)
    register_configuration_parameter(PureS3Path("/"), resource=settings)
    path = AsyncS3Path("/bucket/a.txt")
    assert await path.read_text() == "hello"  # opens the connection the next reads may reuse
    before = server.accepted
    for _ in range(2):
        await asyncio.sleep(0.3)
        assert await path.read_text() == "hello"
    assert len(server.requests) == 3
    assert all(line.startswith("GET /bucket/a.txt") for _, line in server.requests)
    return server.accepted - before


async def test_the_lean_path_closes_connections_idle_for_longer_than_keepalive_timeout(
    keep_alive_server: scripted.ScriptedServer, s3_server: Any
) -> None:
    assert (
        await _connections_for_reads_apart(keep_alive_server, s3_server, keepalive_timeout=0.1) == 2
    )


@pytest.mark.parametrize(
    "connector_args", [{}, {"keepalive_timeout": None}, {"keepalive_timeout": 5}]
)
async def test_the_lean_path_reuses_connections_idle_for_less_than_keepalive_timeout(
    keep_alive_server: scripted.ScriptedServer, s3_server: Any, connector_args: dict[str, Any]
) -> None:
    assert await _connections_for_reads_apart(keep_alive_server, s3_server, **connector_args) == 0
