"""Fixtures of the companyos tests: a local S3-compatible server for the data-residency and backup tests."""

from __future__ import annotations

import boto3
import pytest
from moto.server import ThreadedMotoServer


@pytest.fixture(scope="session")
def s3_endpoint():
    """A local S3-compatible server (moto's, server mode) on 127.0.0.1, a free port."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_client(endpoint):
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )


def bucket_spec(code: str, bucket: str, endpoint: str) -> str:
    return (
        f"{code}=s3://{bucket}?endpoint_url={endpoint}&region_name=us-east-1"
        "&access_key=test&secret_key=test&addressing_style=path"
    )


def keys(endpoint, bucket) -> list[str]:
    listed = s3_client(endpoint).list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listed.get("Contents", []))
