"""aios3path quick start: both APIs, per-prefix configuration, and what each call did.

By default it starts an embedded moto S3 server on 127.0.0.1 (``pip install -e ".[examples]"``)
and works there, so it never touches your AWS account. To run it against a real endpoint, say
so explicitly::

    python examples/quickstart.py --endpoint-url https://s3.example.com --bucket my-bucket

(credentials and region then come from the usual AWS environment variables and files; the
example writes under a fresh ``aios3path-quickstart-<8 hex digits>/`` prefix of that bucket
and removes it afterwards, also when a step fails). ``AIOS3PATH_ENDPOINT_URL`` can stand in
for ``--endpoint-url``; ``--bucket`` is needed either way.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import uuid
from contextlib import ExitStack

from aios3path import (
    AsyncS3Path,
    PureS3Path,
    S3Path,
    aclose,
    configuration_map,
    register_configuration_parameter,
)
from aios3path.testing import MotoServer


def show(what: str, value: object = "") -> None:
    """Print one step of the tour."""
    print(f"  {what:<52} {value}")


async def async_tour(root: AsyncS3Path) -> None:
    """The async API: every method that does I/O is awaited."""
    print("\nAsyncS3Path (await ...):")
    report = root / "reports" / "2024" / "summary.txt"
    show(f"await write_text() to {report}", await report.write_text("hello from asyncio\n"))
    show("await read_text()", repr(await report.read_text()))
    checks = (await report.exists(), await report.is_file(), await report.parent.is_dir())
    show("await exists() / is_file() / parent.is_dir()", checks)
    stat = await report.stat()
    assert stat is not None
    show("await stat(): size, content type", (stat.st_size, stat.content_type))
    days = [root / "reports" / "2024" / f"day-{i:02d}.csv" for i in range(5)]
    await asyncio.gather(*(day.write_text(f"day,{i}\n") for i, day in enumerate(days)))
    show("5 concurrent writes with asyncio.gather", "done")
    children = [p.name async for p in (root / "reports" / "2024").iterdir()]
    show("async for child in iterdir()", children)
    matches = [p.name async for p in root.glob("reports/2024/day-0[0-2].csv")]
    show('async for m in glob("reports/2024/day-0[0-2].csv")', matches)
    moved = await (root / "reports" / "2024").rename(root / "archive" / "2024")
    show("await rename() of a whole prefix", moved)
    show("files now under archive/", sorted([p.name async for p in moved.rglob("*.csv")]))


def sync_tour(root: S3Path) -> None:
    """The sync API (a drop-in for s3path): the same methods, no await."""
    print("\nS3Path (no await, s3path-compatible):")
    notes = root / "notes" / "todo.md"
    show(f"write_text() to {notes}", notes.write_text("- try aios3path\n"))
    show("read_text()", repr(notes.read_text()))
    show("list(root.iterdir())", sorted(p.name for p in root.iterdir()))
    show("walk(): directories seen", [str(d.relative_to(root)) for d, _, _ in root.walk()])
    notes.unlink()
    show("unlink(); exists()", notes.exists())


async def configuration_tour(root: AsyncS3Path) -> None:
    """Per-prefix defaults: the nearest registered prefix wins."""
    print("\nPer-prefix configuration:")
    secure = root / "secure"
    register_configuration_parameter(
        PureS3Path(str(secure)),
        parameters={
            "ServerSideEncryption": "AES256",
            "ContentType": "application/json",
            "Metadata": {"owner": "quickstart"},
        },
    )
    document = secure / "config.json"
    await document.write_text('{"encrypted": true}')
    stat = await document.stat()
    assert stat is not None
    show(f"registered parameters for {secure}/", "SSE + ContentType + Metadata")
    show("a write below it carries them: content type", stat.content_type)
    show("                                user metadata", dict(stat.metadata))
    await (root / "plain.txt").write_text("x")
    plain = await (root / "plain.txt").stat()
    show("a write elsewhere does not (content type)", plain.content_type if plain else None)


async def main_async(root: AsyncS3Path) -> None:
    """Run the async parts, then close this loop's clients."""
    try:
        await async_tour(root)
        await configuration_tour(root)
    finally:
        await aclose()


def main() -> None:
    """Parse the command line, pick the server and run the tour."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--endpoint-url",
        default=os.environ.get("AIOS3PATH_ENDPOINT_URL"),
        help="a real S3 endpoint to use instead of the embedded moto server",
    )
    parser.add_argument("--bucket", help="the bucket to use on a real endpoint (required there)")
    args = parser.parse_args()

    with ExitStack() as stack:
        if args.endpoint_url:
            if not args.bucket:
                parser.error(
                    "--bucket is required with --endpoint-url or AIOS3PATH_ENDPOINT_URL "
                    "(nothing is created)"
                )
            register_configuration_parameter(
                PureS3Path("/"), resource={"endpoint_url": args.endpoint_url}
            )
            root_path = PureS3Path("/", args.bucket, f"aios3path-quickstart-{uuid.uuid4().hex[:8]}")
            print(f"Using {args.endpoint_url}, writing under s3:/{root_path}/")
            created_bucket = False
        else:
            server = stack.enter_context(MotoServer())
            register_configuration_parameter(PureS3Path("/"), resource=server.client_settings())
            root_path = PureS3Path("/quickstart-bucket")
            print(f"Started an embedded moto S3 server at {server.endpoint_url}")
            S3Path(root_path).mkdir()
            created_bucket = True
            print(f"Created bucket s3:/{root_path}")

        try:
            asyncio.run(main_async(AsyncS3Path(root_path)))
            sync_tour(S3Path(root_path))
        finally:
            root = S3Path(root_path)
            if created_bucket:
                root.rmdir()
                print(f"\nRemoved bucket s3:/{root_path} and everything in it.")
            elif root.exists():
                root.rmdir()
                print(f"\nRemoved s3:/{root_path}/ and everything under it.")
            configuration_map.reset()
    print("Done.")


if __name__ == "__main__":
    main()
