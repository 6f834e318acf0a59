"""moto's S3 server on a free loopback port, with the models bucket the validators read."""

from __future__ import annotations

import os

import boto3
from moto.server import ThreadedMotoServer

from fedledger.store.s3 import S3Store

from .ports import free_port


def start_s3_store() -> tuple[ThreadedMotoServer, S3Store, str]:
    """A started moto S3 server (the caller stops it), the store `s3://models/fl` on it, and
    the server's endpoint URL."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(
        Bucket="models"
    )
    return moto, S3Store("models", "fl", endpoint_url=endpoint, region="us-east-1"), endpoint
