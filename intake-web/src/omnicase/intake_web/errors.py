"""Failures intake-web answers with 503 (nothing stored, the sender retries)."""

from sqlalchemy.exc import DBAPIError

# The database (or the network under it) is unavailable or broke off: transient.
STORAGE_ERRORS = (DBAPIError, OSError, ConnectionError, TimeoutError)
