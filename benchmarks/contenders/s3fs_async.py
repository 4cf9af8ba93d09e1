"""s3fs (fsspec) through its async API (``S3FileSystem(asynchronous=True)``).

The listings cache is off (``use_listings_cache=False``), otherwise every listing after the
first would be answered from memory. A prefix rename is what ``fs.mv(recursive=True)`` does:
``_copy`` then ``_rm``. s3fs has no async writer (``open_async`` is read-only), so the
streaming writes use its synchronous file object, ``fs.open(path, "wb")``.
"""

from __future__ import annotations

from typing import Any

from contenders._common import Contender, gather_bounded, payload, version_of
from workloads import GLOB_PATTERN, LIST_PREFIX, RGLOB_PATTERN, TREE_PREFIX


class S3fs(Contender):
    name = "s3fs"

    def versions(self) -> dict[str, str]:
        return {
            "s3fs": version_of("s3fs"),
            "fsspec": version_of("fsspec"),
            "aiobotocore": version_of("aiobotocore"),
        }

    def _options(self) -> dict[str, Any]:
        return {
            "key": self.access_key,
            "secret": self.secret_key,
            "endpoint_url": self.endpoint,
            "client_kwargs": {"region_name": self.region},
            "config_kwargs": {"max_pool_connections": 64},
            "use_listings_cache": False,
            "skip_instance_cache": True,
        }

    async def start(self) -> None:
        from s3fs import S3FileSystem

        self.fs = S3FileSystem(asynchronous=True, **self._options())
        await self.fs.set_session()
        self._sync_fs = None
        await self.fs._info(self._p(self.small_keys[0]))

    def _p(self, key: str) -> str:
        return f"{self.bucket}/{key}"

    async def w_get_small_seq(self, args: dict[str, Any]) -> int:
        total = 0
        for key in self.small_keys:
            total += len(await self.fs._cat_file(self._p(key)))
        return total

    async def w_get_small_conc(self, args: dict[str, Any]) -> int:
        async def one(key: str) -> int:
            return len(await self.fs._cat_file(self._p(key)))

        return sum(await gather_bounded(one, self.small_keys, self.sizes.concurrency))

    async def w_exists(self, args: dict[str, Any]) -> int:
        async def one(key: str) -> bool:
            return await self.fs._exists(self._p(key))

        return sum(await gather_bounded(one, self.small_keys, self.sizes.concurrency))

    async def w_stat(self, args: dict[str, Any]) -> int:
        async def one(key: str) -> int:
            return (await self.fs._info(self._p(key)))["size"]

        return sum(await gather_bounded(one, self.small_keys, self.sizes.concurrency))

    async def w_iterdir(self, args: dict[str, Any]) -> int:
        return len(await self.fs._ls(self._p(LIST_PREFIX), refresh=True))

    async def w_list_flat(self, args: dict[str, Any]) -> int:
        return len(await self.fs._find(self._p(LIST_PREFIX)))

    async def w_glob(self, args: dict[str, Any]) -> int:
        return len(await self.fs._glob(self._p(LIST_PREFIX + GLOB_PATTERN)))

    async def w_rglob(self, args: dict[str, Any]) -> int:
        return len(await self.fs._glob(self._p(TREE_PREFIX + "**/" + RGLOB_PATTERN)))

    async def w_write_bytes(self, args: dict[str, Any]) -> int:
        await self.fs._pipe_file(self._p(args["key"]), payload(self.sizes.big))
        return self.sizes.big

    async def w_read_bytes(self, args: dict[str, Any]) -> int:
        return len(await self.fs._cat_file(self._p(args["key"])))

    def _sync(self) -> Any:
        if self._sync_fs is None:
            from s3fs import S3FileSystem

            self._sync_fs = S3FileSystem(**self._options())
        return self._sync_fs

    def prepare(self, workload: str, args: dict[str, Any]) -> None:
        super().prepare(workload, args)
        if workload in ("stream_write", "mem_stream_write"):
            self._sync().info(self._p(self.small_keys[0]))  # its client exists before timing

    def w_stream_write(self, args: dict[str, Any]) -> int:
        data, chunk = payload(self.sizes.big), self.sizes.chunk
        view = memoryview(data)
        with self._sync().open(self._p(args["key"]), "wb") as f:
            for start in range(0, len(data), chunk):
                f.write(view[start : start + chunk])
        return len(data)

    async def w_stream_read(self, args: dict[str, Any]) -> int:
        total = 0
        f = await self.fs.open_async(self._p(args["key"]), "rb")
        async with f:
            while chunk := await f.read(self.sizes.chunk):
                total += len(chunk)
        return total

    async def w_upload(self, args: dict[str, Any]) -> int:
        await self.fs._put_file(args["local"], self._p(args["key"]))
        import os

        return os.path.getsize(args["local"])

    async def w_download(self, args: dict[str, Any]) -> int:
        await self.fs._get_file(self._p(args["key"]), args["local"])
        import os

        return os.path.getsize(args["local"])

    async def w_rename(self, args: dict[str, Any]) -> None:
        src, dst = self._p(args["src"].rstrip("/")), self._p(args["dst"].rstrip("/"))
        await self.fs._copy(src, dst, recursive=True)
        await self.fs._rm(src, recursive=True)

    async def w_mem_stream_read(self, args: dict[str, Any]) -> int:
        return await self.w_stream_read(args)

    def w_mem_stream_write(self, args: dict[str, Any]) -> int:
        buffer = args["buffer"]
        with self._sync().open(self._p(args["key"]), "wb") as f:
            for _ in range(args["size"] // len(buffer)):
                f.write(buffer)
        return args["size"]


CONTENDER = S3fs
