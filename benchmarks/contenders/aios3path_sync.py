"""aios3path's sync shim (``S3Path``), s3path's API on aios3path's background event loop."""

from __future__ import annotations

from typing import Any

from contenders._common import Contender, payload, thread_map, version_of
from workloads import GLOB_PATTERN, LIST_PREFIX, RGLOB_PATTERN, TREE_PREFIX


class Aios3pathSync(Contender):
    name = "aios3path-sync"

    def versions(self) -> dict[str, str]:
        return {"aios3path": version_of("aios3path")}

    def start(self) -> None:
        from aios3path import PureS3Path, S3Path, register_configuration_parameter

        register_configuration_parameter(
            PureS3Path("/"),
            resource={
                "endpoint_url": self.endpoint,
                "aws_access_key_id": self.access_key,
                "aws_secret_access_key": self.secret_key,
                "region_name": self.region,
            },
        )
        self.root = S3Path("/" + self.bucket)
        (self.root / self.small_keys[0]).stat()

    def _p(self, key: str) -> Any:
        return self.root / key

    def w_get_small_seq(self, args: dict[str, Any]) -> int:
        return sum(len(self._p(key).read_bytes()) for key in self.small_keys)

    def w_get_small_conc(self, args: dict[str, Any]) -> int:
        return sum(
            thread_map(
                lambda k: len(self._p(k).read_bytes()), self.small_keys, self.sizes.concurrency
            )
        )

    def w_exists(self, args: dict[str, Any]) -> int:
        return sum(
            thread_map(lambda k: self._p(k).exists(), self.small_keys, self.sizes.concurrency)
        )

    def w_stat(self, args: dict[str, Any]) -> int:
        return sum(
            thread_map(lambda k: self._p(k).stat().st_size, self.small_keys, self.sizes.concurrency)
        )

    def w_iterdir(self, args: dict[str, Any]) -> int:
        return sum(1 for _ in self._p(LIST_PREFIX).iterdir())

    def w_list_flat(self, args: dict[str, Any]) -> int:
        return sum(1 for _ in self._p(LIST_PREFIX).rglob("*"))

    def w_glob(self, args: dict[str, Any]) -> int:
        return sum(1 for _ in self._p(LIST_PREFIX).glob(GLOB_PATTERN))

    def w_rglob(self, args: dict[str, Any]) -> int:
        return sum(1 for _ in self._p(TREE_PREFIX).rglob(RGLOB_PATTERN))

    def w_write_bytes(self, args: dict[str, Any]) -> int:
        self._p(args["key"]).write_bytes(payload(self.sizes.big))
        return self.sizes.big

    def w_read_bytes(self, args: dict[str, Any]) -> int:
        return len(self._p(args["key"]).read_bytes())

    def w_stream_write(self, args: dict[str, Any]) -> int:
        data, chunk = payload(self.sizes.big), self.sizes.chunk
        with self._p(args["key"]).open("wb") as f:
            for start in range(0, len(data), chunk):
                f.write(data[start : start + chunk])
        return len(data)

    def w_stream_read(self, args: dict[str, Any]) -> int:
        total = 0
        with self._p(args["key"]).open("rb") as f:
            while chunk := f.read(self.sizes.chunk):
                total += len(chunk)
        return total

    def w_upload(self, args: dict[str, Any]) -> int:
        return self._p(args["key"]).upload_from(args["local"])

    def w_download(self, args: dict[str, Any]) -> int:
        return self._p(args["key"]).download_to(args["local"])

    def w_rename(self, args: dict[str, Any]) -> None:
        self._p(args["src"]).rename(self._p(args["dst"]))

    def w_mem_stream_read(self, args: dict[str, Any]) -> int:
        return self.w_stream_read(args)

    def w_mem_stream_write(self, args: dict[str, Any]) -> int:
        buffer = args["buffer"]
        with self._p(args["key"]).open("wb") as f:
            for _ in range(args["size"] // len(buffer)):
                f.write(buffer)
        return args["size"]


CONTENDER = Aios3pathSync
