"""The examples in ``examples/`` run against the test server (and one against its own moto)."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from aios3path import AsyncS3Path, S3Path, configuration_map

from ._helpers import put
from .test_open import PART, payload, small_parts, uploads_of

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` (the directory is not a package)."""
    spec = importlib.util.spec_from_file_location(
        f"aios3path_example_{name}", EXAMPLES / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def test_fastapi_example(bucket: AsyncS3Path, boto3_client: Any) -> None:
    pytest.importorskip("fastapi")
    httpx = pytest.importorskip("httpx")
    small_parts(bucket.bucket)
    app = load("fastapi_app").create_app(bucket)
    big = payload(2 * PART + 11, seed=21)

    async def body() -> Any:
        for start in range(0, len(big), 777_777):  # a streamed request body
            yield big[start : start + 777_777]

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.put("/objects/dir/big.bin", content=body())
        assert response.status_code == 200, response.text
        assert response.json() == {"key": "dir/big.bin", "size": len(big)}
        put(boto3_client, bucket.bucket, "dir/small.txt", "small")

        chunks = []
        async with client.stream("GET", "/objects/dir/big.bin") as streamed:
            assert streamed.status_code == 200
            assert streamed.headers["content-length"] == str(len(big))
            async for chunk in streamed.aiter_bytes():
                chunks.append(chunk)
        assert b"".join(chunks) == big

        assert (await client.get("/objects/dir/small.txt")).content == b"small"
        assert (await client.get("/objects/missing")).status_code == 404
        assert (await client.get("/objects/dir")).status_code == 404  # a "directory"
        listing = await client.get("/list/dir")
        assert listing.json() == {"prefix": "dir", "entries": ["big.bin", "small.txt"]}
        assert (await client.get("/list/")).json()["entries"] == ["dir"]
    assert uploads_of(boto3_client, bucket.bucket) == []


async def test_aiohttp_example(bucket: AsyncS3Path, boto3_client: Any) -> None:
    pytest.importorskip("aiohttp")
    test_utils = pytest.importorskip("aiohttp.test_utils")
    small_parts(bucket.bucket)
    app = load("aiohttp_app").create_app(bucket)
    big = payload(2 * PART + 13, seed=22)
    async with test_utils.TestClient(test_utils.TestServer(app)) as client:
        response = await client.put("/objects/dir/big.bin", data=io.BytesIO(big))
        assert response.status == 200, await response.text()
        assert await response.json() == {"key": "dir/big.bin", "size": len(big)}
        put(boto3_client, bucket.bucket, "dir/small.txt", "small")

        response = await client.get("/objects/dir/big.bin")
        assert response.status == 200 and response.content_length == len(big)
        received = bytearray()
        async for chunk in response.content.iter_chunked(1 << 20):
            received += chunk
        assert received == big

        assert await (await client.get("/objects/dir/small.txt")).read() == b"small"
        assert (await client.get("/objects/missing")).status == 404
        assert (await client.get("/objects/dir")).status == 404  # a "directory"
        listing = await (await client.get("/list/dir")).json()
        assert listing == {"prefix": "dir", "entries": ["big.bin", "small.txt"]}
    assert uploads_of(boto3_client, bucket.bucket) == []


def test_sync_script_on_the_test_server(
    sync_bucket: S3Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = load("sync_script").run(sync_bucket, tmp_path, big_size=PART + 1234)
    assert summary["round_trip_ok"]
    assert summary["uploaded"] == PART + 1234
    assert summary["notes"] == "hello from aios3path\n"
    assert summary["rows"][2] == {"n": "2", "square": "4"}
    assert summary["listing"] == ["config.json", "notes.txt", "tables", "uploads"]
    assert "(100.00%)" in capsys.readouterr().out  # the progress callback reported it all


def test_sync_script_main_uses_an_embedded_moto_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("moto")
    module = load("sync_script")
    monkeypatch.delenv(module.ENDPOINT_ENV, raising=False)
    monkeypatch.setattr(module, "run", _smaller(module.run))
    configuration_map.reset()
    try:
        assert module.main() == 0
    finally:
        configuration_map.reset()
    output = capsys.readouterr().out
    assert json.loads(output[output.index("{") :])["round_trip_ok"] is True


def _smaller(run: Any) -> Any:
    def smaller_run(root: S3Path, workdir: Path) -> Any:
        return run(root, workdir, big_size=PART + 1)

    return smaller_run
