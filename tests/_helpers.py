"""Small helpers shared by the tests (set-up and checks that bypass aios3path)."""

from __future__ import annotations

import uuid
from typing import Any


def new_bucket_name() -> str:
    """A fresh, valid bucket name."""
    return f"t-{uuid.uuid4().hex[:20]}"


def put(client: Any, bucket: str, key: str, body: bytes | str = b"") -> None:
    """Create an object with boto3 (test set-up that does not go through aios3path)."""
    client.put_object(Bucket=bucket, Key=key, Body=body.encode() if isinstance(body, str) else body)


def keys_of(client: Any, bucket: str, prefix: str = "") -> list[str]:
    """Every key in ``bucket`` under ``prefix``, read with boto3."""
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(item["Key"] for item in page.get("Contents", ()))
    return keys
