"""Failures intake-web answers with 503 (nothing stored, the sender retries)."""

from sqlalchemy.exc import DBAPIError

from omnicase.kit.s3 import BlobStoreError

# The database or the blob store (or the network under them) is unavailable or broke off: transient.
STORAGE_ERRORS = (DBAPIError, BlobStoreError, OSError, ConnectionError, TimeoutError)
