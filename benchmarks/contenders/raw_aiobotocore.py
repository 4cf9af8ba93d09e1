"""Raw aiobotocore calls, written the obvious way: the floor of an aiobotocore library.

Small requests are one call each. Large objects move the way every aiobotocore library (and
boto3's s3transfer) moves them: 8 MiB parts, 10 in flight (aios3path's defaults), as a
multipart upload or as ranged GETs; streaming reads are one GET whose body is read 1 MiB at a
time. The client gets 64 connections, like every contender.
"""

from __future__ import annotations

import asyncio
import fnmatch
import os
from collections.abc import AsyncIterator, Iterable
from typing import Any

from contenders._common import Contender, gather_bounded, payload, version_of
from workloads import GLOB_PATTERN, LIST_PREFIX, RGLOB_PATTERN, TREE_PREFIX, MiB

PART = 8 * MiB
PARTS_IN_FLIGHT = 10


class RawAiobotocore(Contender):
    name = "aiobotocore"

    def versions(self) -> dict[str, str]:
        return {"aiobotocore": version_of("aiobotocore"), "botocore": version_of("botocore")}

    async def start(self) -> None:
        from aiobotocore.config import AioConfig
        from aiobotocore.session import get_session

        self._client_cm = get_session().create_client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=AioConfig(max_pool_connections=64),
        )
        self.client = await self._client_cm.__aenter__()
        from botocore.exceptions import ClientError

        self.ClientError = ClientError
        await self.client.head_bucket(Bucket=self.bucket)

    async def close(self) -> None:
        await self._client_cm.__aexit__(None, None, None)

    # -- small objects

    async def _get(self, key: str) -> bytes:
        response = await self.client.get_object(Bucket=self.bucket, Key=key)
        async with response["Body"] as body:
            return await body.read()

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
                await self.client.head_object(Bucket=self.bucket, Key=key)
            except self.ClientError as error:
                if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                    return False
                raise
            return True

        return sum(await gather_bounded(one, self.small_keys, self.sizes.concurrency))

    async def w_stat(self, args: dict[str, Any]) -> int:
        async def one(key: str) -> int:
            head = await self.client.head_object(Bucket=self.bucket, Key=key)
            return int(head["ContentLength"])

        return sum(await gather_bounded(one, self.small_keys, self.sizes.concurrency))

    # -- listings

    async def _pages(self, prefix: str, delimiter: str | None = None) -> AsyncIterator[dict]:
        paginator = self.client.get_paginator("list_objects_v2")
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if delimiter:
            kwargs["Delimiter"] = delimiter
        async for page in paginator.paginate(**kwargs):
            yield page

    async def w_iterdir(self, args: dict[str, Any]) -> int:
        count = 0
        async for page in self._pages(LIST_PREFIX, "/"):
            count += len(page.get("Contents", ())) + len(page.get("CommonPrefixes", ()))
        return count

    async def w_list_flat(self, args: dict[str, Any]) -> int:
        count = 0
        async for page in self._pages(LIST_PREFIX):
            count += len(page.get("Contents", ()))
        return count

    async def w_glob(self, args: dict[str, Any]) -> int:
        literal = GLOB_PATTERN.split("*", 1)[0]
        count = 0
        async for page in self._pages(LIST_PREFIX + literal, "/"):
            for item in page.get("Contents", ()):
                name = item["Key"][len(LIST_PREFIX) :]
                count += fnmatch.fnmatchcase(name, GLOB_PATTERN)
        return count

    async def w_rglob(self, args: dict[str, Any]) -> int:
        count = 0
        async for page in self._pages(TREE_PREFIX):
            for item in page.get("Contents", ()):
                count += fnmatch.fnmatchcase(item["Key"].rsplit("/", 1)[-1], RGLOB_PATTERN)
        return count

    # -- large objects: multipart uploads and ranged GETs, 10 parts in flight

    async def _upload_parts(self, key: str, parts: Iterable[Any]) -> None:
        created = await self.client.create_multipart_upload(Bucket=self.bucket, Key=key)
        upload_id = created["UploadId"]
        semaphore = asyncio.Semaphore(PARTS_IN_FLIGHT)
        done: list[dict[str, Any]] = []

        async def send(number: int, body: Any) -> None:
            try:
                response = await self.client.upload_part(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=bytes(body),
                )
                done.append({"PartNumber": number, "ETag": response["ETag"]})
            finally:
                semaphore.release()

        tasks = []
        try:
            for number, body in enumerate(parts, start=1):
                await semaphore.acquire()
                tasks.append(asyncio.ensure_future(send(number, body)))
            await asyncio.gather(*tasks)
            done.sort(key=lambda p: p["PartNumber"])
            await self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done}
            )
        except BaseException:
            for task in tasks:
                task.cancel()
            await self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id
            )
            raise

    async def _ranged_get(self, key: str, sink: Any) -> int:
        head = await self.client.head_object(Bucket=self.bucket, Key=key)
        size = int(head["ContentLength"])

        async def part(start: int) -> None:
            end = min(start + PART, size) - 1
            response = await self.client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end}", IfMatch=head["ETag"]
            )
            async with response["Body"] as body:
                sink(start, await body.read())

        await gather_bounded(part, range(0, size, PART), PARTS_IN_FLIGHT)
        return size

    async def w_write_bytes(self, args: dict[str, Any]) -> int:
        data = payload(self.sizes.big)
        view = memoryview(data)
        parts = (view[i : i + PART] for i in range(0, len(data), PART))
        await self._upload_parts(args["key"], parts)
        return len(data)

    async def w_read_bytes(self, args: dict[str, Any]) -> int:
        head = await self.client.head_object(Bucket=self.bucket, Key=args["key"])
        buffer = bytearray(int(head["ContentLength"]))

        def sink(start: int, data: bytes) -> None:
            buffer[start : start + len(data)] = data

        await self._ranged_get(args["key"], sink)
        return len(bytes(buffer))

    def _buffered_parts(self, chunks: Iterable[Any]) -> Iterable[bytes]:
        buffer = bytearray()
        for chunk in chunks:
            buffer += chunk
            if len(buffer) >= PART:
                yield bytes(buffer)
                buffer.clear()
        if buffer:
            yield bytes(buffer)

    async def w_stream_write(self, args: dict[str, Any]) -> int:
        data, chunk = payload(self.sizes.big), self.sizes.chunk
        view = memoryview(data)
        pieces = (view[i : i + chunk] for i in range(0, len(data), chunk))
        await self._upload_parts(args["key"], self._buffered_parts(pieces))
        return len(data)

    async def w_stream_read(self, args: dict[str, Any]) -> int:
        response = await self.client.get_object(Bucket=self.bucket, Key=args["key"])
        total = 0
        async with response["Body"] as body:
            while chunk := await body.read(self.sizes.chunk):
                total += len(chunk)
        return total

    async def w_upload(self, args: dict[str, Any]) -> int:
        size = os.path.getsize(args["local"])
        with open(args["local"], "rb") as f:
            await self._upload_parts(args["key"], iter(lambda: f.read(PART), b""))
        return size

    async def w_download(self, args: dict[str, Any]) -> int:
        fd = os.open(args["local"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            return await self._ranged_get(
                args["key"], lambda start, data: os.pwrite(fd, data, start)
            )
        finally:
            os.close(fd)

    async def w_rename(self, args: dict[str, Any]) -> None:
        src, dst = args["src"], args["dst"]
        keys = [item["Key"] async for page in self._pages(src) for item in page.get("Contents", ())]

        async def copy(key: str) -> None:
            await self.client.copy_object(
                Bucket=self.bucket,
                Key=dst + key[len(src) :],
                CopySource={"Bucket": self.bucket, "Key": key},
            )

        await gather_bounded(copy, keys, 64)
        for start in range(0, len(keys), 1000):
            await self.client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": k} for k in keys[start : start + 1000]], "Quiet": True},
            )

    # -- memory

    async def w_mem_stream_read(self, args: dict[str, Any]) -> int:
        return await self.w_stream_read(args)

    async def w_mem_stream_write(self, args: dict[str, Any]) -> int:
        buffer = args["buffer"]
        pieces = (buffer for _ in range(args["size"] // len(buffer)))
        await self._upload_parts(args["key"], self._buffered_parts(pieces))
        return args["size"]


CONTENDER = RawAiobotocore
