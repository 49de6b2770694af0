"""The platform on an S3-compatible bucket (a real SeaweedFS): documents and sealed bids are kept there, by SHA-256,
and read back from there to be downloaded and opened; the local folder keeps nothing but uploads in progress."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from tests import s3
from tests.conftest import PostgresServer
from tests.e2e.conftest import Clients, Server
from tests.e2e.test_bids import assert_documents_read
from tests.e2e.test_log import Platform
from tests.s3 import S3Server


@pytest.fixture(scope="module")
def platform(
    postgres: PostgresServer, s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    made = Platform(
        postgres.create_database("bidding_e2e_s3"),
        tmp_path_factory.mktemp("s3-platform"),
        BIDDING_S3_URL=s3_server.new_bucket(),
        BIDDING_S3_ACCESS_KEY=s3.ACCESS_KEY,
        BIDDING_S3_SECRET_KEY=s3.SECRET_KEY,
    )
    seeded = subprocess.run(
        [sys.executable, "-m", "bidding", "seed-demo"], env=made.environment(), capture_output=True, text=True
    )
    assert seeded.returncode == 0, seeded.stderr
    made.start()
    yield made
    made.stop()


def test_documents_and_sealed_bids_are_objects_named_by_their_sha256(platform: Platform, s3_server: S3Server) -> None:
    documents = set(platform.sql("SELECT array_agg(encode(sha256, 'hex')) FROM tender_documents"))
    envelopes = set(platform.sql("SELECT array_agg(encode(envelope_sha256, 'hex')) FROM bids"))
    assert documents and len(envelopes) >= 5
    objects = s3_server.objects(platform.settings["BIDDING_S3_URL"])
    assert set(objects) == {f"{key[:2]}/{key}" for key in documents | envelopes}
    assert all(hashlib.sha256(data).hexdigest() == name[3:] for name, data in objects.items())
    kept = [path for path in (platform.data_dir / "blobs").rglob("*") if path.is_file()]
    assert kept == [], "with a bucket, the blob folder keeps only uploads in progress"


def test_documents_download_and_bids_open_from_the_bucket(platform: Platform) -> None:
    clients = Clients(Server(platform.url, platform.database_url, platform.environment()))
    try:
        agent = clients.api("agent")
        tender_id = platform.sql("SELECT id FROM tenders WHERE reference = 'SFJY-GC-2026-002'")
        document_id, sha256 = platform.sql(
            "SELECT array[id::text, encode(sha256, 'hex')] FROM tender_documents WHERE tender_id = $1 LIMIT 1",
            tender_id,
        )
        downloaded = agent.get(f"/api/v1/tenders/{tender_id}/documents/{document_id}")
        assert downloaded.status_code == 200, downloaded.text
        assert hashlib.sha256(downloaded.content).hexdigest() == sha256 == downloaded.headers["x-content-sha256"]
        assert downloaded.headers["content-length"] == str(len(downloaded.content))
        assert downloaded.headers["content-disposition"].startswith("attachment; filename")

        # The demo's opening read its bids from the bucket; a supervisor reads one again, decrypted on the fly.
        record = httpx.get(f"{platform.url}/api/v1/tenders/{tender_id}/opening/record")
        lines = json.loads(record.content)["lines"]
        assert len(lines) >= 3 and all(line["outcome"] == "opened" for line in lines)
        assert_documents_read(clients.api("supervisor1"), int(lines[0]["bid"]))
    finally:
        clients.close()
