"""Content-addressed model storage: a local directory (default) or S3; every read is verified."""

from fedledger.store.base import DEFAULT_MAX_BYTES, ModelStore, read_verified
from fedledger.store.errors import (
    HashMismatchError,
    InvalidUriError,
    ModelTooLargeError,
    ObjectNotFoundError,
    StoreError,
    StoreUnavailableError,
)
from fedledger.store.factory import open_store, store_root_of
from fedledger.store.local import LocalStore
from fedledger.store.s3 import S3Store, parse_s3_uri

__all__ = [
    "DEFAULT_MAX_BYTES",
    "HashMismatchError",
    "InvalidUriError",
    "LocalStore",
    "ModelStore",
    "ModelTooLargeError",
    "ObjectNotFoundError",
    "S3Store",
    "StoreError",
    "StoreUnavailableError",
    "open_store",
    "parse_s3_uri",
    "read_verified",
    "store_root_of",
]
