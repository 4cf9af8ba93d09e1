"""A plain synchronous script using ``S3Path`` (the s3path-compatible API).

It writes and reads text, a CSV file and a JSON document through ``S3Path.open``, uploads a
large local file with a progress callback (boto3's documented ``ProgressPercentage``, taught
to size an ``S3Path`` source too) in concurrent 5 MiB parts, downloads it back, and lists
what it made.

Run it with ``python examples/sync_script.py``: by default against an embedded moto S3 server;
set ``AIOS3PATH_ENDPOINT_URL`` (plus AWS credentials in the environment) for a real endpoint
and ``AIOS3PATH_EXAMPLE_BUCKET`` for the bucket.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aios3path import PureS3Path, S3Path, TransferConfig, register_configuration_parameter

MiB = 1024 * 1024
ENDPOINT_ENV = "AIOS3PATH_ENDPOINT_URL"
BUCKET_ENV = "AIOS3PATH_EXAMPLE_BUCKET"


class ProgressPercentage:
    """boto3's progress callback example: prints how much of a file has moved.

    aios3path instantiates it with the *source* of each transfer: the local file name (a
    ``str``) for uploads, the ``S3Path`` for downloads; boto3's original only handles the
    first, so the size is taken from ``stat()`` for S3 sources.
    """

    def __init__(self, filename: str | S3Path) -> None:
        self._filename = filename
        if isinstance(filename, str):
            self._size = float(os.path.getsize(filename))
        else:
            stat = filename.stat()
            self._size = float(stat.st_size if stat is not None else 0)
        self._seen_so_far = 0
        self._lock = threading.Lock()

    def __call__(self, bytes_amount: int) -> None:
        with self._lock:
            self._seen_so_far += bytes_amount
            percentage = (self._seen_so_far / self._size) * 100
            sys.stdout.write(
                f"\r{self._filename}  {self._seen_so_far} / {self._size}  ({percentage:.2f}%)"
            )
            sys.stdout.flush()


def _make_local_file(path: Path, size: int) -> str:
    """Write ``size`` pseudo-random bytes to ``path``; returns their SHA-256."""
    digest = hashlib.sha256()
    block = os.urandom(MiB)
    with path.open("wb") as file:
        written = 0
        while written < size:
            chunk = block[: min(MiB, size - written)]
            file.write(chunk)
            digest.update(chunk)
            written += len(chunk)
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(MiB):
            digest.update(chunk)
    return digest.hexdigest()


def run(root: S3Path, workdir: Path, big_size: int = 12 * MiB) -> dict[str, Any]:
    """Everything the example does, under ``root``, with local files in ``workdir``."""
    # Big objects move in concurrent 5 MiB parts; uploads report progress.
    register_configuration_parameter(
        root,
        parameters={
            "transfer_config": TransferConfig(
                multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=4
            ),
            "callback_class": ProgressPercentage,
        },
    )
    notes = root / "notes.txt"
    notes.write_text("hello from aios3path\n")

    table = root / "tables" / "numbers.csv"
    with table.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["n", "square"])
        writer.writerows([n, n * n] for n in range(10))
    with table.open(newline="") as file:
        rows = list(csv.DictReader(file))

    document = root / "config.json"
    with document.open("w") as file:
        json.dump({"rows": len(rows), "notes": str(notes)}, file)
    with document.open() as file:
        config = json.load(file)

    local = workdir / "big.bin"
    checksum = _make_local_file(local, big_size)
    big = root / "uploads" / "big.bin"
    big.upload_from(local)  # prints the progress bar
    print()
    back = workdir / "big-downloaded.bin"
    big.download_to(back)  # prints the progress bar
    print()

    stat = big.stat()  # None only for buckets
    return {
        "notes": notes.read_text(),
        "rows": rows,
        "config": config,
        "uploaded": stat.st_size if stat else None,
        "round_trip_ok": _sha256(back) == checksum,
        "listing": sorted(child.name for child in root.iterdir()),
    }


@contextlib.contextmanager
def example_root() -> Iterator[S3Path]:
    """The bucket to use: on an embedded moto server unless ``AIOS3PATH_ENDPOINT_URL`` is set."""
    bucket = os.environ.get(BUCKET_ENV, "aios3path-example")
    endpoint = os.environ.get(ENDPOINT_ENV)
    if endpoint:
        register_configuration_parameter(PureS3Path("/"), resource={"endpoint_url": endpoint})
        yield S3Path("/", bucket)
        return
    from aios3path.testing import MotoServer

    with MotoServer() as server:
        register_configuration_parameter(PureS3Path("/"), resource=server.client_settings())
        S3Path("/", bucket).mkdir(exist_ok=True)
        yield S3Path("/", bucket)


def main() -> int:
    """Run the example; returns the exit status."""
    with example_root() as root, tempfile.TemporaryDirectory() as workdir:
        summary = run(root, Path(workdir))
    print(json.dumps(summary, indent=2))
    return 0 if summary["round_trip_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
