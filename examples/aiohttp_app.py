"""An aiohttp service that streams S3 objects in and out with ``AsyncS3Path``.

The same service as ``fastapi_app.py``:

* ``GET /objects/{key}`` streams the object (one streamed GET: a few MiB in
  memory, whatever the object size);
* ``PUT /objects/{key}`` streams the request body into ``AsyncS3Path.open("wb")``;
* ``GET /list/{prefix}`` lists a "directory" as JSON.

Run it with ``python examples/aiohttp_app.py``: by default against an embedded moto S3 server;
set ``AIOS3PATH_ENDPOINT_URL`` (plus AWS credentials in the environment) for a real endpoint
and ``AIOS3PATH_EXAMPLE_BUCKET`` for the bucket.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from aiohttp import web

from aios3path import AsyncS3Path, PureS3Path, S3Path, register_configuration_parameter

#: Bytes per chunk sent to the client or read from the request.
CHUNK = 1024 * 1024

ENDPOINT_ENV = "AIOS3PATH_ENDPOINT_URL"
BUCKET_ENV = "AIOS3PATH_EXAMPLE_BUCKET"


def create_app(root: AsyncS3Path) -> web.Application:
    """The application, serving the objects under ``root`` (a bucket or a prefix)."""
    routes = web.RouteTableDef()

    @routes.get("/objects/{key:.+}")
    async def download(request: web.Request) -> web.StreamResponse:
        key = request.match_info["key"]
        try:
            file = await (root / key).open("rb")
        except (FileNotFoundError, IsADirectoryError):  # a "directory" is no object either
            raise web.HTTPNotFound(text=f"no object {key!r}") from None
        async with file:
            response = web.StreamResponse()
            response.content_length = file.size
            stat = file.stat
            response.content_type = (stat.content_type if stat else None) or (
                "application/octet-stream"
            )
            if file.etag:
                response.headers["ETag"] = file.etag
            await response.prepare(request)
            while chunk := await file.read(CHUNK):
                await response.write(chunk)
            await response.write_eof()
        return response

    @routes.put("/objects/{key:.+}")
    async def upload(request: web.Request) -> web.Response:
        key = request.match_info["key"]
        async with (root / key).open("wb") as file:
            async for chunk in request.content.iter_chunked(CHUNK):
                await file.write(chunk)
            size = await file.tell()
        return web.json_response({"key": key, "size": size})

    @routes.get("/list/{prefix:.*}")
    async def listing(request: web.Request) -> web.Response:
        prefix = request.match_info["prefix"]
        directory = root / prefix if prefix.strip("/") else root
        names = [child.name async for child in directory.iterdir()]
        return web.json_response({"prefix": prefix, "entries": names})

    app = web.Application(client_max_size=1024**4)  # bodies stream; no size cap needed
    app.add_routes(routes)
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
    """Serve the example on http://127.0.0.1:8080."""
    with example_root() as root:
        print(f"serving {root.as_uri()} on http://127.0.0.1:8080")
        web.run_app(create_app(root), host="127.0.0.1", port=8080)


if __name__ == "__main__":
    main()
