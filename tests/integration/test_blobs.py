"""The blob store's promises, kept alike by the folder and by a real S3-compatible bucket (SeaweedFS)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bidding.bids.model import Checksum
from bidding.blobs import HAND_OFF_SIZE, BlobMismatch, BlobStore, BlobTooLarge, S3BlobStore, blob_store
from bidding.settings import Settings
from tests import s3
from tests.s3 import S3Server


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


@pytest.fixture(params=["folder", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    settings = Settings(data_dir=tmp_path)
    if request.param == "s3":
        server: S3Server = request.getfixturevalue("s3_server")
        settings = Settings(
            data_dir=tmp_path, s3_url=server.new_bucket(), s3_access_key=s3.ACCESS_KEY, s3_secret_key=s3.SECRET_KEY
        )
    return blob_store(settings)


def stored(store: BlobStore) -> dict[str, bytes]:
    """Every blob kept, by key: the bucket's objects, or the folder's files (uploads in progress aside)."""
    if isinstance(store, S3BlobStore):
        return {name.rsplit("/", 1)[1]: data for name, data in s3.objects(store.client, store.bucket).items()}
    return {
        path.name: path.read_bytes()
        for path in store.folder.rglob("*")
        if path.is_file() and "uploads" not in path.parts
    }


async def test_a_blob_is_kept_under_its_sha256_and_read_back(store: BlobStore) -> None:
    data = b"%PDF-1.7 " * 100_000
    blob = await store.put_stream(chunks(data[:1000], data[1000:]), max_size=len(data))
    assert blob.sha256 == hashlib.sha256(data).digest() and blob.size == len(data)
    assert store.exists(blob.key)
    with store.open(blob.key) as source:
        assert source.read() == data
    again = await store.put_stream(chunks(data), max_size=len(data))
    assert again == blob and stored(store) == {blob.key: data}


async def test_too_large_or_mismatched_data_stores_nothing(store: BlobStore) -> None:
    with pytest.raises(BlobTooLarge):
        await store.put_stream(chunks(b"x" * 10, b"y"), max_size=10)
    with pytest.raises(BlobMismatch):
        await store.put_stream(chunks(b"x"), max_size=10, expected_sha256=hashlib.sha256(b"y").digest())
    assert stored(store) == {}
    assert not [path for path in store.folder.rglob("*") if path.is_file()]


async def test_a_missing_blob_is_a_key_error(store: BlobStore) -> None:
    key = hashlib.sha256(b"never stored").hexdigest()
    assert not store.exists(key)
    with pytest.raises(KeyError):
        store.reader(key)
    with pytest.raises(KeyError):
        store.reader("../../etc/passwd")


async def test_a_whole_upload_is_adopted_and_its_file_kept_until_deleted(store: BlobStore) -> None:
    upload_id = "ab" * 16
    data = b"age-encryption.org/v1\n" + bytes(range(256)) * 4000
    size = await store.append_upload(upload_id, 0, chunks(data[:5000]), limit=len(data), checksum=None)
    size = await store.append_upload(upload_id, size, chunks(data[5000:]), limit=len(data), checksum=None)
    sha256 = await store.upload_sha256(upload_id)
    assert size == len(data) and sha256 == hashlib.sha256(data).digest()
    blob = await store.adopt_upload(upload_id, sha256)
    assert store.upload_path(upload_id).read_bytes() == data
    store.delete_upload(upload_id)
    assert not store.upload_path(upload_id).exists()
    with store.open(blob.key) as source:
        assert source.read() == data


def test_settings_choose_the_store(tmp_path: Path) -> None:
    assert type(blob_store(Settings(data_dir=tmp_path))) is BlobStore
    bucket = blob_store(
        Settings(data_dir=tmp_path, s3_url="https://s3.example.org:9000/bids", s3_access_key="a", s3_secret_key="b")
    )
    assert isinstance(bucket, S3BlobStore) and bucket.bucket == "bids" and bucket.folder == tmp_path / "blobs"


async def test_an_upload_cut_short_keeps_what_arrived_and_resumes_from_there(store: BlobStore) -> None:
    upload_id = "cd" * 16
    data = os.urandom(3 * HAND_OFF_SIZE + 123)
    cut = 2 * HAND_OFF_SIZE + 77  # within a batch: some bytes written, some still gathered

    async def broken() -> AsyncIterator[bytes]:
        for start in range(0, cut, 64 * 1024):
            yield data[start : min(start + 64 * 1024, cut)]
        raise ConnectionResetError

    kept = await store.append_upload(upload_id, 0, broken(), limit=len(data), checksum=None)
    assert kept == cut and store.upload_path(upload_id).read_bytes() == data[:cut]
    size = await store.append_upload(upload_id, kept, chunks(data[kept:]), limit=len(data), checksum=None)
    assert size == len(data) and await store.upload_sha256(upload_id) == hashlib.sha256(data).digest()


async def test_a_sha256_checksum_from_the_first_byte_is_checked_with_the_one_running_hash(store: BlobStore) -> None:
    """A request from byte 0 checked against sha256 hashes its bytes once, and is still checked: a wrong digest
    counts nothing, the right one keeps the upload's SHA-256; a later request is checked against its own bytes."""
    upload_id = "ef" * 16
    data = os.urandom(2 * HAND_OFF_SIZE + 5)
    first, rest = data[: HAND_OFF_SIZE + 3], data[HAND_OFF_SIZE + 3 :]
    wrong = Checksum("sha256", hashlib.sha256(first + b"x").digest())
    with pytest.raises(BlobMismatch):
        await store.append_upload(upload_id, 0, chunks(first), limit=len(data), checksum=wrong)
    assert store.upload_path(upload_id).read_bytes() == b""
    right = Checksum("sha256", hashlib.sha256(first).digest())
    size = await store.append_upload(upload_id, 0, chunks(first), limit=len(data), checksum=right)
    own = Checksum("sha256", hashlib.sha256(rest).digest())
    size = await store.append_upload(upload_id, size, chunks(rest), limit=len(data), checksum=own)
    assert size == len(data) and await store.upload_sha256(upload_id) == hashlib.sha256(data).digest()
