"""obstore (Rust object_store), its async functions, used the obvious way.

obstore has no glob: the obvious way is a delimited listing of the directory filtered with
``fnmatch`` (its ``prefix`` is a whole path segment, so ``k-004`` cannot narrow a listing).
Prefix renames list the keys and ``rename_async`` each (copy + delete), 64 at a time.
Streaming reads iterate the ``get_async`` response; streaming writes use ``open_writer_async``.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any

from contenders._common import Contender, gather_bounded, payload, version_of
from workloads import GLOB_PATTERN, LIST_PREFIX, RGLOB_PATTERN, TREE_PREFIX


class Obstore(Contender):
    name = "obstore"

    def versions(self) -> dict[str, str]:
        return {"obstore": version_of("obstore")}

    async def start(self) -> None:
        import obstore
        from obstore.store import S3Store

        self.obs = obstore
        self.store = S3Store(
            self.bucket,
            endpoint=self.endpoint,
            access_key_id=self.access_key,
            secret_access_key=self.secret_key,
            region=self.region,
            virtual_hosted_style_request=False,
            client_options={"allow_http": True},
        )
        await obstore.head_async(self.store, self.small_keys[0])

    async def _get(self, key: str) -> bytes:
        result = await self.obs.get_async(self.store, key)
        return await result.bytes_async()

    async def w_get_small_seq(self, args: dict[str, Any]) -> int:
        total = 0
        for key in self.small_keys:
            total += len(await self._get(key))
        return total

    async def w_get_small_conc(self, args: dict[str, Any]) -> int:
        async def one(key: str) -> int:
            return len(await self._get(key))

        return sum(await gather_bounded(one, self.small_keys, self.sizes.concurrency))

    async def w_exists(self, args: dict[str, Any]) -> int:
        async def one(key: str) -> bool:
            try:
                await self.obs.head_async(self.store, key)
            except FileNotFoundError:
                return False
            return True

        return sum(await gather_bounded(one, self.small_keys, self.sizes.concurrency))

    async def w_stat(self, args: dict[str, Any]) -> int:
        async def one(key: str) -> int:
            return (await self.obs.head_async(self.store, key))["size"]

        return sum(await gather_bounded(one, self.small_keys, self.sizes.concurrency))

    async def w_iterdir(self, args: dict[str, Any]) -> int:
        result = await self.obs.list_with_delimiter_async(self.store, LIST_PREFIX.rstrip("/"))
        return len(result["objects"]) + len(result["common_prefixes"])

    async def w_list_flat(self, args: dict[str, Any]) -> int:
        count = 0
        async for batch in self.obs.list(self.store, LIST_PREFIX.rstrip("/"), chunk_size=1000):
            count += len(batch)
        return count

    async def w_glob(self, args: dict[str, Any]) -> int:
        result = await self.obs.list_with_delimiter_async(self.store, LIST_PREFIX.rstrip("/"))
        return sum(
            fnmatch.fnmatchcase(meta["path"].rsplit("/", 1)[-1], GLOB_PATTERN)
            for meta in result["objects"]
        )

    async def w_rglob(self, args: dict[str, Any]) -> int:
        count = 0
        async for batch in self.obs.list(self.store, TREE_PREFIX.rstrip("/"), chunk_size=1000):
            count += sum(
                fnmatch.fnmatchcase(meta["path"].rsplit("/", 1)[-1], RGLOB_PATTERN)
                for meta in batch
            )
        return count

    async def w_write_bytes(self, args: dict[str, Any]) -> int:
        await self.obs.put_async(self.store, args["key"], payload(self.sizes.big))
        return self.sizes.big

    async def w_read_bytes(self, args: dict[str, Any]) -> int:
        return len(await self._get(args["key"]))

    async def w_stream_write(self, args: dict[str, Any]) -> int:
        data, chunk = payload(self.sizes.big), self.sizes.chunk
        view = memoryview(data)
        async with self.obs.open_writer_async(self.store, args["key"]) as f:
            for start in range(0, len(data), chunk):
                await f.write(view[start : start + chunk])
        return len(data)

    async def w_stream_read(self, args: dict[str, Any]) -> int:
        result = await self.obs.get_async(self.store, args["key"])
        total = 0
        async for chunk in result.stream(min_chunk_size=self.sizes.chunk):
            total += len(chunk)
        return total

    async def w_upload(self, args: dict[str, Any]) -> int:
        await self.obs.put_async(self.store, args["key"], Path(args["local"]))
        return Path(args["local"]).stat().st_size

    async def w_download(self, args: dict[str, Any]) -> int:
        result = await self.obs.get_async(self.store, args["key"])
        total = 0
        with open(args["local"], "wb") as f:
            async for chunk in result:
                f.write(chunk)
                total += len(chunk)
        return total

    async def w_rename(self, args: dict[str, Any]) -> None:
        src, dst = args["src"], args["dst"]
        keys = [
            meta["path"]
            async for batch in self.obs.list(self.store, src.rstrip("/"), chunk_size=1000)
            for meta in batch
        ]

        async def move(key: str) -> None:
            await self.obs.rename_async(self.store, key, dst + key[len(src) :])

        await gather_bounded(move, keys, 64)

    async def w_mem_stream_read(self, args: dict[str, Any]) -> int:
        return await self.w_stream_read(args)

    async def w_mem_stream_write(self, args: dict[str, Any]) -> int:
        buffer = args["buffer"]
        async with self.obs.open_writer_async(self.store, args["key"]) as f:
            for _ in range(args["size"] // len(buffer)):
                await f.write(buffer)
        return args["size"]


CONTENDER = Obstore
