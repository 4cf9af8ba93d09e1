"""Multipart uploads declare CRC32 and hand every part's checksum to the completion.

botocore checksums each ``UploadPart`` by default; AWS refuses a completion whose parts carry
checksums the upload did not declare. Declaring CRC32 and passing the parts' checksums on is
what keeps multipart writes and copies working against AWS itself.
"""

from __future__ import annotations

from typing import Any

from aios3path import AsyncS3Path, PureS3Path, TransferConfig, register_configuration_parameter

MiB = 1024 * 1024


async def test_multipart_writes_and_copies_carry_crc32_checksums(
    bucket: AsyncS3Path, boto3_client: Any
) -> None:
    register_configuration_parameter(
        PureS3Path("/", bucket.bucket),
        parameters={
            "transfer_config": TransferConfig(
                multipart_threshold=5 * MiB,
                multipart_chunksize=5 * MiB,
                multipart_copy_threshold=5 * MiB,
                multipart_copy_chunksize=5 * MiB,
            )
        },
    )
    data = bytes(range(256)) * (11 * MiB // 256)
    source = bucket / "big.bin"
    await source.write_bytes(data)
    copy = await source.copy(bucket / "copy.bin")
    for key in (source.key, copy.key):
        head = boto3_client.head_object(Bucket=bucket.bucket, Key=key, ChecksumMode="ENABLED")
        assert head["ContentLength"] == len(data)
        # Stored only when the upload declared CRC32 and the completion listed the parts' ones.
        assert head.get("ChecksumCRC32")
    assert await copy.read_bytes() == data
