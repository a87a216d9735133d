"""The object-store seam: one contract, a local write-once folder and S3 Object Lock."""

from __future__ import annotations

from bodycam.clock import Clock
from bodycam.config import Settings
from bodycam.errors import ConfigError
from bodycam.store.base import ObjectInfo, ObjectStore, PutResult

__all__ = ["ObjectInfo", "ObjectStore", "PutResult", "open_store"]


def open_store(settings: Settings, clock: Clock | None = None) -> ObjectStore:
    """The store named by ``store.url``; nothing is contacted until it is used.

    ``clock`` is what a local folder judges its locks by (an S3 server uses its own)."""
    url = settings.store_url
    if url.startswith("file://"):
        from bodycam.store.local import LocalStore

        return LocalStore(url.removeprefix("file://"), clock)
    if url.startswith("s3://"):
        from bodycam.store.s3 import S3Store

        return S3Store.from_settings(url, settings.store)
    raise ConfigError(f"store.url: {url!r} is neither file://DIR nor s3://BUCKET")
