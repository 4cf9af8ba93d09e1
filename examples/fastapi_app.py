"""A FastAPI service that streams S3 objects in and out with ``AsyncS3Path``.

* ``GET /objects/{key}`` streams the object to the client (a ``StreamingResponse`` fed by
  one streamed GET: memory stays at a few MiB, whatever the object size);
* ``PUT /objects/{key}`` streams the request body straight into ``AsyncS3Path.open("wb")``
  (a multipart upload for big bodies; a failed or interrupted upload leaves nothing behind);
* ``GET /list/{prefix}`` lists a "directory" as JSON.

Run it with ``python examples/fastapi_app.py`` (needs ``pip install aios3path[examples]``):
by default it starts an embedded moto S3 server on 127.0.0.1. Set ``AIOS3PATH_ENDPOINT_URL``
(and the usual ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``) to serve a real S3-compatible
endpoint instead, and ``AIOS3PATH_EXAMPLE_BUCKET`` to choose the bucket.

Try: ``curl -T big.iso localhost:8000/objects/big.iso``, ``curl localhost:8000/list/``,
``curl -o copy.iso localhost:8000/objects/big.iso``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import StreamingResponse

from aios3path import AsyncS3Path, PureS3Path, S3Path, register_configuration_parameter

#: Bytes per chunk sent to the client.
CHUNK = 1024 * 1024

ENDPOINT_ENV = "AIOS3PATH_ENDPOINT_URL"
BUCKET_ENV = "AIOS3PATH_EXAMPLE_BUCKET"


def create_app(root: AsyncS3Path) -> FastAPI:
    """The application, serving the objects under ``root`` (a bucket or a prefix)."""
    app = FastAPI(title="aios3path FastAPI example")

    @app.get("/objects/{key:path}")
    async def download(key: str) -> StreamingResponse:
        try:
            file = await (root / key).open("rb")  # its GET: 404 before any byte is sent
        except (FileNotFoundError, IsADirectoryError):  # a "directory" is no object either
            raise HTTPException(status_code=404, detail=f"no object {key!r}") from None

        async def body() -> AsyncIterator[bytes]:
            async with file:  # closed (downloads stopped) even if the client goes away
                while chunk := await file.read(CHUNK):
                    yield chunk

        stat = file.stat
        headers = {"Content-Length": str(file.size)}
        if file.etag:
            headers["ETag"] = file.etag
        media_type = (stat.content_type if stat else None) or "application/octet-stream"
        return StreamingResponse(body(), media_type=media_type, headers=headers)

    @app.put("/objects/{key:path}")
    async def upload(key: str, request: Request) -> dict[str, Any]:
        async with (root / key).open("wb") as file:
            async for chunk in request.stream():
                await file.write(chunk)
            size = await file.tell()
        return {"key": key, "size": size}

    @app.get("/list/{prefix:path}")
    async def listing(prefix: str = "") -> dict[str, Any]:
        directory = root / prefix if prefix.strip("/") else root
        names = [child.name async for child in directory.iterdir()]
        return {"prefix": prefix, "entries": names}

    return app


@contextlib.contextmanager
def example_root() -> Iterator[AsyncS3Path]:
    """The bucket to serve: on an embedded moto server unless ``AIOS3PATH_ENDPOINT_URL`` is set."""
    bucket = os.environ.get(BUCKET_ENV, "aios3path-example")
    endpoint = os.environ.get(ENDPOINT_ENV)
    if endpoint:
        register_configuration_parameter(PureS3Path("/"), resource={"endpoint_url": endpoint})
        yield AsyncS3Path("/", bucket)
        return
    from aios3path.testing import MotoServer

    with MotoServer() as server:
        register_configuration_parameter(PureS3Path("/"), resource=server.client_settings())
        S3Path("/", bucket).mkdir(exist_ok=True)
        yield AsyncS3Path("/", bucket)


def main() -> None:
    """Serve the example on http://127.0.0.1:8000 (needs uvicorn)."""
    import uvicorn

    with example_root() as root:
        print(f"serving {root.as_uri()} on http://127.0.0.1:8000")
        uvicorn.run(create_app(root), host="127.0.0.1", port=8000)


if __name__ == "__main__":
    main()
