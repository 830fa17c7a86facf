"""The VEE store tests run on SQLite and on real PostgreSQL (the store tests' fixtures)."""

from tests.store.conftest import store, store_url

__all__ = ["store", "store_url"]
