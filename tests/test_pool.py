"""The client pool: one client per (event loop, settings), made lazily, closed cleanly."""

from __future__ import annotations

import asyncio
from typing import Any

from aios3path import AsyncS3Path, _pool, aclose, configuration_map


async def _client_for(path: AsyncS3Path) -> Any:
    return await _pool.get_client(configuration_map.resolve(path).settings)


async def test_one_client_per_loop_and_settings_reused_across_calls(
    bucket: AsyncS3Path,
) -> None:
    first = await _client_for(bucket / "a")
    await (bucket / "a").write_text("x")
    assert await _client_for(bucket / "b") is first
    clients = await asyncio.gather(*(_client_for(bucket / f"k{i}") for i in range(20)))
    assert all(c is first for c in clients)
    assert first.meta.config.max_pool_connections == _pool.DEFAULT_MAX_POOL_CONNECTIONS


async def test_aclose_closes_this_loops_clients_and_the_next_call_reopens(
    bucket: AsyncS3Path,
) -> None:
    before = await _client_for(bucket)
    await aclose()
    assert asyncio.get_running_loop() not in _pool._pools
    await aclose()  # twice is fine
    await (bucket / "k").write_text("again")
    assert await _client_for(bucket) is not before


def test_a_call_cancelled_while_the_client_is_made_cancels_no_other_call(
    bucket_name: str, s3: Any
) -> None:
    """The first call of a loop makes its client; the calls that arrive meanwhile wait for it.
    Cancelling that first call used to hand its CancelledError to every one of them."""

    async def work(wait: float) -> list[bool]:
        path = AsyncS3Path("/", bucket_name, "k")
        first = asyncio.ensure_future(path.exists())  # starts making this loop's client
        await asyncio.sleep(0)
        others = [asyncio.ensure_future(path.exists()) for _ in range(3)]
        await asyncio.sleep(wait)
        first.cancel()
        return await asyncio.gather(*others)

    for wait in (0, 0.005, 0.02):
        assert asyncio.run(work(wait)) == [False, False, False]  # a fresh loop each time


def test_clients_are_closed_when_asyncio_run_ends(bucket_name: str, s3: Any) -> None:
    seen: list[asyncio.AbstractEventLoop] = []

    async def work() -> str:
        seen.append(asyncio.get_running_loop())
        path = AsyncS3Path("/", bucket_name, "k")
        await path.write_text("x")
        return await path.read_text()

    assert asyncio.run(work()) == "x"
    assert asyncio.run(work()) == "x"  # a new loop gets its own client
    assert seen[0] is not seen[1]
    assert not any(loop in _pool._pools for loop in seen)


def test_a_user_supplied_max_pool_connections_wins(bucket_name: str, s3_server: Any) -> None:
    from botocore.config import Config

    from aios3path import PureS3Path, register_configuration_parameter

    settings = dict(s3_server.client_settings(), config=Config(max_pool_connections=7))
    try:
        register_configuration_parameter(PureS3Path("/"), resource=settings)

        async def check() -> int:
            client = await _client_for(AsyncS3Path("/", bucket_name))
            return int(client.meta.config.max_pool_connections)

        assert asyncio.run(check()) == 7
    finally:
        configuration_map.reset()
