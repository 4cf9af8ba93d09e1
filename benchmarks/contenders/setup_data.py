"""Creates and checks the benchmark's data (untimed), over raw aiobotocore."""

from __future__ import annotations

import random
from typing import Any

from contenders._common import gather_bounded
from contenders.raw_aiobotocore import PART, RawAiobotocore


class SetupData(RawAiobotocore):
    name = "setup"

    async def start(self) -> None:
        try:
            await super().start()  # ends with HeadBucket
        except self.ClientError:
            await self.client.create_bucket(Bucket=self.bucket)

    async def populate(self, args: dict[str, Any]) -> int:
        """PUT ``args["keys"]``, each ``args["size"]`` bytes, 64 at a time."""
        size = args["size"]
        body = random.Random(size).randbytes(size)

        async def put(key: str) -> None:
            await self.client.put_object(Bucket=self.bucket, Key=key, Body=body)

        await gather_bounded(put, args["keys"], 64)
        return len(args["keys"])

    async def put_big(self, args: dict[str, Any]) -> int:
        """A multipart object of ``args["size"]`` random bytes, made part by part."""
        size = args["size"]
        rng = random.Random(size)
        parts = (rng.randbytes(min(PART, size - start)) for start in range(0, size, PART))
        await self._upload_parts(args["key"], parts)
        return size

    async def count(self, args: dict[str, Any]) -> int:
        total = 0
        async for page in self._pages(args["prefix"]):
            total += len(page.get("Contents", ()))
        return total

    async def head_size(self, args: dict[str, Any]) -> int:
        try:
            head = await self.client.head_object(Bucket=self.bucket, Key=args["key"])
        except self.ClientError:
            return -1
        return int(head["ContentLength"])

    async def delete_prefix(self, args: dict[str, Any]) -> int:
        keys = [
            item["Key"]
            async for page in self._pages(args["prefix"])
            for item in page.get("Contents", ())
        ]
        for start in range(0, len(keys), 1000):
            await self.client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": k} for k in keys[start : start + 1000]], "Quiet": True},
            )
        return len(keys)


CONTENDER = SetupData
