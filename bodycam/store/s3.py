"""S3 with Object Lock (MinIO, Ceph RGW): objects under COMPLIANCE retention.

We drive the multipart calls ourselves so that every request carries a
``Content-MD5`` the server verifies, memory stays bounded (``parallel_parts``
buffers of ``part_size``), and the SHA-256 of the whole stream is computed in
the same single read. RGW ignores ``x-amz-checksum-sha256``, so the SHA-256
lives in object metadata (when known before the upload starts) and in our
index, and we verify it ourselves. RGW's retention dates (nine fractional
digits) break ``Minio.get_object_retention``: we read them from HEAD headers.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, BinaryIO, TypeVar, cast
from urllib.parse import urlsplit

import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.datatypes import Part
from minio.error import InvalidResponseError, MinioException, S3Error
from minio.helpers import genheaders
from minio.retention import Retention

from bodycam.config import StoreSettings
from bodycam.errors import (
    BodycamError,
    BucketWithoutObjectLock,
    ConfigError,
    IntegrityError,
    ObjectNotFound,
    PermissionDenied,
    RetentionViolation,
    StoreAuthFailed,
    StoreError,
    StoreUnreachable,
)
from bodycam.store.base import Commit, ObjectInfo, ObjectStore, Progress, PutResult, Readable, read_full
from bodycam.timeutil import utcnow

T = TypeVar("T")
log = logging.getLogger(__name__)
SHA_META = "bodycam-sha256"
DELETE_CHUNK = 100
DELETE_PARALLEL = 8
AUTH_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken"}
MISSING_CODES = {"NoSuchKey", "NoSuchVersion", "ResourceNotFound", "NoSuchObject"}


class BucketMissing(StoreError):
    """The bucket does not exist (``init`` creates it)."""


def parse_s3_time(value: str) -> datetime:
    """ISO 8601 with any number of fractional digits (RGW sends nine)."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$", value.strip())
    if not m:
        raise StoreError(f"unreadable date from the store: {value!r}")
    frac = (m.group(2) or "0")[:6].ljust(6, "0")
    zone = m.group(3) or "Z"
    zone = "+00:00" if zone == "Z" else zone
    return datetime.fromisoformat(f"{m.group(1)}.{frac}{zone}").astimezone(UTC)


def _b64md5(data: bytes) -> tuple[str, str]:
    digest = hashlib.md5(data).digest()
    return base64.b64encode(digest).decode(), digest.hex()


class S3Store(ObjectStore):
    def __init__(
        self,
        bucket: str,
        prefix: str,
        client: Minio | list[tuple[str, Minio]],
        endpoint: str,
        part_size: int,
        parallel_parts: int,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.gateways: list[tuple[str, Minio]] = client if isinstance(client, list) else [(endpoint, client)]
        """Endpoints of one store (RGW gateways of one Ceph cluster, MinIO nodes): any of them serves any
        request, a multipart upload included, so a request that cannot reach one goes to the next."""
        self._at = 0
        self._moving = threading.Lock()
        self.part_size = part_size
        self.parallel_parts = parallel_parts
        self._slots = threading.BoundedSemaphore(parallel_parts + 1)
        """Parts in memory, for the whole process: however many files upload at once,
        part buffers never take more than (parallel_parts + 1) × part_size."""
        self.url = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"

    @property
    def client(self) -> Minio:
        return self.gateways[self._at][1]

    @property
    def endpoint(self) -> str:
        return self.gateways[self._at][0]

    def _move_on(self, failed: int, reason: str) -> None:
        """The endpoint at index ``failed`` did not answer: use the next one (once, whichever thread saw it)."""
        with self._moving:
            if self._at == failed:
                self._at = (failed + 1) % len(self.gateways)
                log.warning("S3 endpoint %s unreachable (%s); moving to %s", self.gateways[failed][0], reason,
                            self.endpoint)

    @classmethod
    def from_settings(cls, url: str, cfg: StoreSettings) -> S3Store:
        rest = url.removeprefix("s3://")
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise ConfigError("store.url: s3:// needs a bucket, e.g. s3://evidence")
        endpoints = list(cfg.endpoints) or ([cfg.endpoint] if cfg.endpoint else [])
        if not endpoints:
            raise ConfigError("store.endpoint: required for an s3:// store (e.g. https://minio:9000), "
                              "or store.endpoints: a list of a cluster's endpoints")
        if cfg.access_key is None or cfg.secret_key is None:
            raise ConfigError("store.access_key and store.secret_key: required for an s3:// store")
        gateways = [(e, cls._client(e, cfg)) for e in endpoints]
        prefix = prefix.strip("/")
        return cls(bucket, prefix + "/" if prefix else "", gateways, endpoints[0],
                   cfg.part_size_mb * 1024 * 1024, cfg.parallel_parts)

    @staticmethod
    def _client(endpoint: str, cfg: StoreSettings) -> Minio:
        key = "store.endpoints" if cfg.endpoints else "store.endpoint"
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"{key}: {endpoint!r} is not http(s)://host[:port]")
        assert cfg.access_key is not None and cfg.secret_key is not None
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=min(5.0, cfg.timeout_seconds), read=cfg.timeout_seconds),
            maxsize=max(cfg.parallel_parts, DELETE_PARALLEL) + 4,
            retries=urllib3.Retry(
                total=3, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]
            ),
        )
        return Minio(
            parts.netloc,
            access_key=cfg.access_key.get_secret_value(),
            secret_key=cfg.secret_key.get_secret_value(),
            region=cfg.region,
            secure=parts.scheme == "https",
            http_client=http,
        )

    # -- error translation ------------------------------------------------------
    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """One request, through ``self.client`` (``fn`` reads it at each try): an endpoint that cannot be
        reached (after urllib3's own retries) hands the request to the next, each endpoint tried once."""
        for tried in range(len(self.gateways)):
            at = self._at
            try:
                return fn()
            except BodycamError:
                raise
            except S3Error as exc:
                raise self._translate(what, exc) from None
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                reason = str(getattr(exc, "reason", None) or exc)
                if tried + 1 < len(self.gateways):
                    self._move_on(at, reason)
                    continue
                names = ", ".join(e for e, _ in self.gateways)
                raise StoreUnreachable(f"cannot reach S3 endpoint {names}: {reason}") from None
            except (InvalidResponseError, MinioException) as exc:
                raise StoreError(f"{self.url}: {what}: {exc}") from None
        raise AssertionError("unreachable")

    def _translate(self, what: str, exc: S3Error) -> BodycamError:
        code = exc.code or ""
        if code in AUTH_CODES:
            return StoreAuthFailed(f"S3 endpoint {self.endpoint} refused the credentials ({code})")
        if code in MISSING_CODES:
            return ObjectNotFound(f"{self.url}: {what}: not found ({code})")
        if code == "NoSuchBucket":
            return BucketMissing(f"bucket {self.bucket} does not exist: run `bodycam init`")
        if code == "AccessDenied":
            return PermissionDenied(f"S3 endpoint {self.endpoint} denied {what} to this key "
                                    f"(AccessDenied): its bucket policy does not allow it (deploy/s3-policy.json)")
        return StoreError(f"{self.url}: {what}: {code or 'error'}: {exc.message}")

    # -- set-up -----------------------------------------------------------------
    def set_policy(self, policy: dict[str, Any]) -> None:
        """Replace the bucket's policy (the per-role keys of bodycam.store.policy)."""
        body = json.dumps(policy)
        self._call("set bucket policy", lambda: self.client.set_bucket_policy(self.bucket, body))

    def ensure(self) -> None:
        try:
            self.check()
        except BucketMissing:
            self._call("make_bucket", lambda: self.client.make_bucket(self.bucket, object_lock=True))
            self.check()

    def check(self) -> None:
        def lock_config() -> Any:
            return self.client.get_object_lock_config(self.bucket)

        try:
            self._call("object lock configuration", lock_config)
        except BucketMissing:
            raise
        except StoreError as exc:
            if "ObjectLockConfigurationNotFound" in str(exc) or "InvalidRequest" in str(exc):
                raise BucketWithoutObjectLock(
                    f"bucket {self.bucket} at {self.endpoint} has no Object Lock; "
                    "evidence needs a bucket created with object lock enabled"
                ) from None
            raise

    # -- writing ------------------------------------------------------------------
    def put(
        self,
        key: str,
        stream: Readable,
        *,
        retain_until: datetime,
        legal_hold: bool = False,
        sha256: str | None = None,
        metadata: dict[str, str] | None = None,
        progress: Progress | None = None,
        commit: Commit | None = None,
    ) -> PutResult | None:
        name = self.prefix + key
        meta = dict(metadata or {})
        first = self._read_part(stream)
        if len(first) < self.part_size:  # one request: we know the SHA-256 before sending
            try:
                return self._put_single(key, name, first, meta, retain_until, legal_hold, sha256, progress, commit)
            finally:
                if first:
                    self._slots.release()
        digest = hashlib.sha256(first)
        if progress:
            progress(len(first))
        if sha256 is not None:
            meta[SHA_META] = sha256
        handoff = [first]
        del first  # _multipart drops each part as soon as it is sent: no frame here may keep one alive
        return self._multipart(key, name, handoff, digest, stream, meta, retain_until,
                               legal_hold, sha256, progress, commit)

    def _read_part(self, stream: Readable) -> bytes:
        """The next part, once the process-wide budget has room for it. A non-empty
        part holds a slot until whoever is done with it calls ``_slots.release()``."""
        self._slots.acquire()
        try:
            data = read_full(stream, self.part_size)
        except BaseException:
            self._slots.release()
            raise
        if not data:
            self._slots.release()
        return data

    def _put_single(self, key: str, name: str, data: bytes, meta: dict[str, str], retain_until: datetime,
                    legal_hold: bool, sha256: str | None, progress: Progress | None,
                    commit: Commit | None) -> PutResult | None:
        got = hashlib.sha256(data).hexdigest()
        if progress:
            progress(len(data))
        self._expect(key, got, sha256)
        if commit is not None and not commit(got):
            return None
        meta[SHA_META] = got
        headers = self._headers(meta, retain_until, legal_hold)
        b64, hexmd5 = _b64md5(data)
        headers["Content-MD5"] = b64
        result = self._call(
            f"put {key}",
            lambda: self.client._put_object(self.bucket, name, data, headers),
        )
        etag = result.etag or hexmd5
        if etag != hexmd5:
            raise IntegrityError(f"{key}: store ETag {etag} != MD5 {hexmd5} of the bytes sent")
        return PutResult(key, result.version_id or "", etag, got, len(data))

    def _headers(self, meta: dict[str, str], retain_until: datetime, legal_hold: bool) -> dict[str, Any]:
        headers: dict[str, Any] = genheaders(
            cast(Any, meta), None, None, Retention(COMPLIANCE, retain_until.astimezone(UTC)), legal_hold
        )
        headers["Content-Type"] = "application/octet-stream"
        return headers

    @staticmethod
    def _expect(key: str, got: str, expected: str | None) -> None:
        if expected is not None and got != expected:
            raise IntegrityError(f"{key}: streamed SHA-256 {got} != expected {expected}; nothing stored")

    def _multipart(
        self,
        key: str,
        name: str,
        handoff: list[bytes],
        digest: Any,
        stream: Readable,
        meta: dict[str, str],
        retain_until: datetime,
        legal_hold: bool,
        sha256: str | None,
        progress: Progress | None,
        commit: Commit | None,
    ) -> PutResult | None:
        """Upload the part in ``handoff`` (taking it, and its slot, over) and the rest
        of ``stream`` in parts."""
        headers = self._headers(meta, retain_until, legal_hold)
        try:
            upload_id: str = self._call(
                f"start upload of {key}",
                lambda: self.client._create_multipart_upload(self.bucket, name, headers),
            )
        except BaseException:
            handoff.clear()
            self._slots.release()
            raise
        md5s: dict[int, bytes] = {}
        parts: list[Part] = []
        size = 0

        def send(number: int, holder: list[bytes]) -> Part:
            """Upload one part; the part is handed over in ``holder`` so that no reference
            (the executor keeps a task's arguments until it returns) outlives its slot."""
            try:
                b64, hexmd5 = _b64md5(holder[0])
                md5s[number] = bytes.fromhex(hexmd5)
                etag = self._call(
                    f"upload part {number} of {key}",
                    lambda: self.client._upload_part(
                        self.bucket, name, holder[0], {"Content-MD5": b64}, upload_id, number
                    ),
                )
            finally:
                holder.clear()  # the part's last reference goes before its slot: the budget counts parts that exist
                self._slots.release()
            if etag and etag.strip('"') != hexmd5:
                raise IntegrityError(f"{key}: part {number} ETag {etag} != MD5 {hexmd5}")
            return Part(number, hexmd5)

        unsent = handoff.pop()  # read and holding a slot, not yet handed to send()
        try:
            with ThreadPoolExecutor(self.parallel_parts) as pool:
                inflight: list[Future[Part]] = []
                number = 1
                while unsent:
                    size += len(unsent)
                    inflight.append(pool.submit(send, number, [unsent]))
                    unsent = b""  # only send() holds the part now: freed once it is uploaded
                    if len(inflight) >= self.parallel_parts:
                        parts.append(inflight.pop(0).result())
                    unsent = self._read_part(stream)
                    if unsent:
                        digest.update(unsent)
                        if progress:
                            progress(len(unsent))
                    number += 1
                parts.extend(f.result() for f in inflight)
            got = digest.hexdigest()
            self._expect(key, got, sha256)
            if commit is not None and not commit(got):
                self._abort(name, upload_id)
                return None
            result = self._call(
                f"complete upload of {key}",
                lambda: self.client._complete_multipart_upload(self.bucket, name, upload_id, parts),
            )
        except BaseException:
            if unsent:
                self._slots.release()
            self._abort(name, upload_id)
            raise
        expected_etag = hashlib.md5(b"".join(md5s[p.part_number] for p in parts)).hexdigest()
        expected_etag += f"-{len(parts)}"
        version = result.version_id or ""
        info = self.stat(key, version)  # the multipart result's ETag is empty on RGW
        if info.etag != expected_etag or info.size != size:
            raise IntegrityError(
                f"{key}: stored ETag/size {info.etag}/{info.size} != sent {expected_etag}/{size}"
            )
        return PutResult(key, version, info.etag, got, size)

    def _abort(self, name: str, upload_id: str) -> None:
        with contextlib.suppress(Exception):  # the original failure is what matters
            self.client._abort_multipart_upload(self.bucket, name, upload_id)

    def sweep_incomplete(self, older_than: timedelta) -> list[str]:
        """Abort multipart uploads under our prefix started over ``older_than`` ago:
        S3 has no owner process to ask, so age is the only sign that nobody will
        complete them (a 2 GiB upload takes seconds to minutes)."""
        cutoff = utcnow() - older_than
        removed: list[str] = []
        key_marker: str | None = None
        while True:  # pages by key only: minio 7.2 drops NextUploadIdMarker; a later sweep gets the rest
            page = self._call("list unfinished uploads", partial(
                self.client._list_multipart_uploads, self.bucket, prefix=self.prefix or None,
                key_marker=key_marker))
            for up in page.uploads:
                started = up.initiated_time
                if up.upload_id and started is not None and started < cutoff:
                    self._call(f"abort upload of {up.object_name}", partial(
                        self.client._abort_multipart_upload, self.bucket, up.object_name, up.upload_id))
                    removed.append(f"{up.object_name} upload {up.upload_id} started {started.isoformat()}")
            if not page.is_truncated or not page.next_key_marker or page.next_key_marker == key_marker:
                return removed
            key_marker = page.next_key_marker

    # -- reading ------------------------------------------------------------------
    def open(self, key: str, version: str) -> AbstractContextManager[BinaryIO]:
        @contextmanager
        def opened() -> Iterator[BinaryIO]:
            resp = self._call(
                f"get {key}",
                lambda: self.client.get_object(self.bucket, self.prefix + key, version_id=version or None),
            )
            try:
                yield cast(BinaryIO, resp)
            finally:
                resp.close()
                resp.release_conn()

        return opened()

    def stat(self, key: str, version: str) -> ObjectInfo:
        obj = self._call(
            f"stat {key}",
            lambda: self.client.stat_object(self.bucket, self.prefix + key, version_id=version or None),
        )
        headers = {k.lower(): v for k, v in (obj.metadata or {}).items()}
        until = headers.get("x-amz-object-lock-retain-until-date")
        return ObjectInfo(
            key=key,
            version=obj.version_id or version,
            size=int(obj.size or 0),
            etag=(obj.etag or "").strip('"'),
            sha256=headers.get(f"x-amz-meta-{SHA_META}"),
            retain_until=parse_s3_time(until) if until else None,
            legal_hold=headers.get("x-amz-object-lock-legal-hold", "").upper() == "ON",
            mode=headers.get("x-amz-object-lock-mode"),
        )

    # -- locks ----------------------------------------------------------------------
    def extend_retention(self, key: str, version: str, until: datetime) -> None:
        current = self.stat(key, version).retain_until
        if current is not None and until < current:
            raise RetentionViolation(
                f"{key} version {version}: retention ends {current.isoformat()}; "
                f"refusing to shorten it to {until.isoformat()}"
            )
        self._call(
            f"extend retention of {key}",
            lambda: self.client.set_object_retention(
                self.bucket, self.prefix + key, Retention(COMPLIANCE, until.astimezone(UTC)),
                version_id=version,
            ),
        )

    def set_legal_hold(self, key: str, version: str, on: bool) -> None:
        method = self.client.enable_object_legal_hold if on else self.client.disable_object_legal_hold
        self._call(
            f"legal hold on {key}",
            lambda: method(self.bucket, self.prefix + key, version_id=version),
        )

    def delete(self, key: str, version: str) -> None:
        info = self.stat(key, version)
        if info.legal_hold:
            raise RetentionViolation(f"{key} version {version}: under legal hold; not deleted")
        if info.retain_until is not None and info.retain_until > utcnow():
            raise RetentionViolation(
                f"{key} version {version}: locked until {info.retain_until.isoformat()}; not deleted"
            )
        try:
            self._call(
                f"delete {key}",
                lambda: self.client.remove_object(self.bucket, self.prefix + key, version_id=version),
            )
        except (StoreError, PermissionDenied) as exc:
            if "AccessDenied" in str(exc):
                raise RetentionViolation(f"{key} version {version}: the store refused the delete "
                                         "(its lock, or this key's bucket policy)") from None
            raise

    def delete_many(self, versions: list[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
        """One DeleteObjects request per 1,000 versions, without any governance bypass:
        COMPLIANCE-locked or held versions are refused by the store itself."""
        from minio.deleteobjects import DeleteObject

        out: dict[tuple[str, str], str | None] = dict.fromkeys(versions)
        names = {(self.prefix + k, v): (k, v) for k, v in versions}
        chunks = [list(names)[i:i + DELETE_CHUNK] for i in range(0, len(names), DELETE_CHUNK)]

        def send(chunk: list[tuple[str, str]]) -> list[Any]:
            return self._call("delete objects", lambda: list(self.client.remove_objects(
                self.bucket, [DeleteObject(n, v) for n, v in chunk])))

        # RGW works through one request's keys one by one: several requests in flight go faster
        with ThreadPoolExecutor(DELETE_PARALLEL) as pool:
            errors = [e for errs in pool.map(send, chunks) for e in errs]
        for err in errors:
            item = names.get((err.name or "", err.version_id or ""))
            if item is None:
                continue
            out[item] = "missing" if err.code in MISSING_CODES else f"refused by the store: {err.code} {err.message}"
        return out

    def list(self, prefix: str = "") -> Iterator[tuple[str, str, int]]:
        objects = self._call(
            "list",
            lambda: list(
                self.client.list_objects(
                    self.bucket, prefix=self.prefix + prefix, recursive=True, include_version=True
                )
            ),
        )
        for obj in objects:
            if obj.is_delete_marker:
                continue
            yield obj.object_name[len(self.prefix):], obj.version_id or "", int(obj.size or 0)
