"""The client pool: one client per (event loop, settings), made lazily, closed cleanly."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from botocore.config import Config

from aios3path import (
    AsyncS3Path,
    PureS3Path,
    _pool,
    aclose,
    configuration_map,
    register_configuration_parameter,
)
from aios3path.testing import S3Server

from ._proxy import CountingProxy, http_response
from .test_open import uploads_of


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


def _seen(counter: CountingProxy, operation: str) -> threading.Event:
    """An event set once ``counter`` passes on an ``operation`` request."""
    seen = threading.Event()

    def watch(request: Any) -> None:
        if request.operation == operation:
            seen.set()

    counter.inject = watch
    return seen


async def test_aclose_right_after_cancelling_a_write_lets_its_abort_through(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy
) -> None:
    """The usual shutdown: cancel the workers, then close the library. The writer's abort
    used to go out on the clients aclose() had just closed (and was retried for seconds)."""
    uploading = _seen(counter, "UploadPart")
    task = asyncio.ensure_future((bucket / "big").write_bytes(b"x" * (24 << 20)))
    assert await asyncio.to_thread(uploading.wait, 30)
    task.cancel()
    await asyncio.sleep(0)
    await aclose()
    done, _ = await asyncio.wait({task}, timeout=2)
    assert done and task.cancelled()
    assert uploads_of(boto3_client, bucket.bucket) == []


async def test_a_failed_abort_leaves_the_writers_cancellation_as_it_was(
    bucket: AsyncS3Path, counter: CountingProxy, s3_server: S3Server, boto3_client: Any
) -> None:
    settings = dict(s3_server.client_settings(), endpoint_url=counter.url)
    settings["config"] = Config(retries={"total_max_attempts": 1})
    register_configuration_parameter(PureS3Path("/"), resource=settings)
    writer = await (bucket / "w").open("wb")
    await writer.write(b"x" * (9 << 20))  # a multipart upload is under way
    completing = threading.Event()

    def fail_the_end(request: Any) -> bytes | None:
        if request.operation == "CompleteMultipartUpload":
            completing.set()
            time.sleep(0.5)  # long enough to be cancelled on the way
        if request.operation in ("CompleteMultipartUpload", "AbortMultipartUpload"):
            return http_response(500, "Internal Server Error")
        return None

    counter.inject = fail_the_end
    closing = asyncio.ensure_future(writer.close())
    assert await asyncio.to_thread(completing.wait, 30)
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    # The upload the failed abort left is aborted again when the loop's clients close.
    counter.inject = None
    with pytest.warns(ResourceWarning, match="multipart upload is aborted"):
        await aclose()
    assert uploads_of(boto3_client, bucket.bucket) == []
