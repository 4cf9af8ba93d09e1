"""Fan S3 work out over Dask worker processes with ``S3Path``.

Paths pickle to their bucket and key alone, so they travel to workers as task arguments; each
worker process opens its own clients on first use. Registrations (endpoints, credentials,
parameters) reach the workers as a :class:`aios3path.ConfigurationSnapshot`, applied by a
worker plugin when each worker starts.

By default it starts an embedded moto S3 server (``pip install -e ".[examples,dask]"``); pass
``--endpoint-url`` and ``--bucket`` to use a real endpoint.
"""

from __future__ import annotations

import argparse
import hashlib
import os
from typing import Any

from distributed import Client, LocalCluster, WorkerPlugin

from aios3path import (
    ConfigurationSnapshot,
    PureS3Path,
    S3Path,
    configuration_map,
    register_configuration_parameter,
)
from aios3path.testing import MotoServer


class S3Configuration(WorkerPlugin):  # type: ignore[misc]
    """Applies the parent's aios3path registrations in every Dask worker."""

    name = "aios3path-configuration"

    def __init__(self, snapshot: ConfigurationSnapshot) -> None:
        self.snapshot = snapshot

    def setup(self, worker: Any) -> None:
        """Called by Dask in each worker process as it starts."""
        self.snapshot.apply()


def write_one(path: S3Path, index: int) -> int:
    """Task: write a small object; returns its size."""
    return path.write_bytes(f"object {index}\n".encode() * 10)


def checksum(path: S3Path) -> tuple[str, str, int]:
    """Task: read an object back; returns its key, MD5 and the worker's pid."""
    return path.key, hashlib.md5(path.read_bytes()).hexdigest(), os.getpid()


def fan_out(client: Client, root: S3Path, count: int) -> tuple[int, list[tuple[str, str, int]]]:
    """Write ``count`` objects under ``root`` from the workers, then read them all back."""
    client.register_plugin(S3Configuration(configuration_map.snapshot()))
    paths = [root / f"part-{i:05d}.txt" for i in range(count)]
    written = sum(client.gather(client.map(write_one, paths, range(count))))
    results = client.gather(client.map(checksum, paths))
    return written, results


def main() -> None:
    """Parse the command line, start a local cluster and fan out."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint-url", default=os.environ.get("AIOS3PATH_ENDPOINT_URL"))
    parser.add_argument("--bucket", help="bucket to use on a real endpoint")
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    server = None
    if args.endpoint_url:
        if not args.bucket:
            parser.error("--bucket is required with --endpoint-url")
        register_configuration_parameter(
            PureS3Path("/"), resource={"endpoint_url": args.endpoint_url}
        )
        root = S3Path("/", args.bucket, "aios3path-dask-fanout")
    else:
        server = MotoServer().start()
        register_configuration_parameter(PureS3Path("/"), resource=server.client_settings())
        root = S3Path("/dask-fanout")
        root.mkdir(exist_ok=True)
    try:
        with (
            LocalCluster(n_workers=2, threads_per_worker=2, processes=True) as cluster,
            Client(cluster) as client,
        ):
            written, results = fan_out(client, root, args.count)
        workers = {pid for _, _, pid in results}
        print(f"wrote {written} bytes in {args.count} objects from {len(workers)} worker processes")
        print(f"read them back: {len(results)} checksums, e.g. {results[0][0]} {results[0][1]}")
        root.rmdir()
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
