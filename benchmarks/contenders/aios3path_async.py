"""aios3path's async API (``AsyncS3Path``): the baseline of every ratio."""

from __future__ import annotations

from typing import Any

from contenders._common import Contender, gather_bounded, payload, version_of
from workloads import GLOB_PATTERN, LIST_PREFIX, RGLOB_PATTERN, TREE_PREFIX


class Aios3pathAsync(Contender):
    name = "aios3path"

    def versions(self) -> dict[str, str]:
        return {"aios3path": version_of("aios3path"), "aiobotocore": version_of("aiobotocore")}

    async def start(self) -> None:
        from aios3path import AsyncS3Path, PureS3Path, register_configuration_parameter

        register_configuration_parameter(
            PureS3Path("/"),
            resource={
                "endpoint_url": self.endpoint,
                "aws_access_key_id": self.access_key,
                "aws_secret_access_key": self.secret_key,
                "region_name": self.region,
            },
        )
        self.root = AsyncS3Path("/" + self.bucket)
        await (self.root / self.small_keys[0]).stat()  # the client exists before timing

    async def close(self) -> None:
        import aios3path

        await aios3path.aclose()

    def _p(self, key: str) -> Any:
        return self.root / key

    # -- small objects

    async def w_get_small_seq(self, args: dict[str, Any]) -> int:
        total = 0
        for key in self.small_keys:
            total += len(await self._p(key).read_bytes())
        return total

    async def w_get_small_conc(self, args: dict[str, Any]) -> int:
        async def one(key: str) -> int:
            return len(await self._p(key).read_bytes())

        return sum(await gather_bounded(one, self.small_keys, self.sizes.concurrency))

    async def w_exists(self, args: dict[str, Any]) -> int:
        async def one(key: str) -> bool:
            return await self._p(key).exists()

        return sum(await gather_bounded(one, self.small_keys, self.sizes.concurrency))

    async def w_stat(self, args: dict[str, Any]) -> int:
        async def one(key: str) -> int:
            return (await self._p(key).stat()).st_size

        return sum(await gather_bounded(one, self.small_keys, self.sizes.concurrency))

    # -- listings

    async def w_iterdir(self, args: dict[str, Any]) -> int:
        return sum([1 async for _ in self._p(LIST_PREFIX).iterdir()])

    async def w_list_flat(self, args: dict[str, Any]) -> int:
        return sum([1 async for _ in self._p(LIST_PREFIX).rglob("*")])

    async def w_glob(self, args: dict[str, Any]) -> int:
        return sum([1 async for _ in self._p(LIST_PREFIX).glob(GLOB_PATTERN)])

    async def w_rglob(self, args: dict[str, Any]) -> int:
        return sum([1 async for _ in self._p(TREE_PREFIX).rglob(RGLOB_PATTERN)])

    # -- large objects

    async def w_write_bytes(self, args: dict[str, Any]) -> int:
        await self._p(args["key"]).write_bytes(payload(self.sizes.big))
        return self.sizes.big

    async def w_read_bytes(self, args: dict[str, Any]) -> int:
        return len(await self._p(args["key"]).read_bytes())

    async def w_stream_write(self, args: dict[str, Any]) -> int:
        data, chunk = payload(self.sizes.big), self.sizes.chunk
        async with self._p(args["key"]).open("wb") as f:
            for start in range(0, len(data), chunk):
                await f.write(data[start : start + chunk])
        return len(data)

    async def w_stream_read(self, args: dict[str, Any]) -> int:
        total = 0
        async with self._p(args["key"]).open("rb") as f:
            while chunk := await f.read(self.sizes.chunk):
                total += len(chunk)
        return total

    async def w_upload(self, args: dict[str, Any]) -> int:
        return await self._p(args["key"]).upload_from(args["local"])

    async def w_download(self, args: dict[str, Any]) -> int:
        return await self._p(args["key"]).download_to(args["local"])

    async def w_rename(self, args: dict[str, Any]) -> None:
        await self._p(args["src"]).rename(self._p(args["dst"]))

    # -- memory (fresh process): reuse one buffer so only the library's memory shows

    async def w_mem_stream_read(self, args: dict[str, Any]) -> int:
        return await self.w_stream_read(args)

    async def w_mem_stream_write(self, args: dict[str, Any]) -> int:
        buffer = args["buffer"]
        async with self._p(args["key"]).open("wb") as f:
            for _ in range(args["size"] // len(buffer)):
                await f.write(buffer)
        return args["size"]


CONTENDER = Aios3pathAsync
