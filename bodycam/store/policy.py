"""Store keys per role: an S3 bucket policy that the object store enforces, not bodycam.

Four keys, one per kind of host:

- ``ingest`` (dock and analysis hosts): write new objects with their retention, read, list;
  never delete, never touch a legal hold (ingest never needs one; RGW 16 does not evaluate
  the ``s3:object-lock-legal-hold`` condition, so "on but not off" cannot be granted there).
- ``reader`` (clerks, inspectors, auditors): read and list; write only seals (``seals/``,
  written by exports and `audit seal`: a new write-once version, never a change).
- ``holds`` (supervisors, `check`): what a reader may, and put legal holds on and off and
  extend retention (case links, holds, corrections).
- ``retention`` (the sweep): what a reader may, and delete object versions. The store's
  own lock (COMPLIANCE, legal holds) still refuses every version not yet due.

The owner's key (the one that ran `bodycam init`) stays with the administrator.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STORE_ROLES = ("ingest", "reader", "holds", "retention")
DEFAULT_USERS = {r: f"bodycam-{r}" for r in STORE_ROLES}

_READ_OBJECTS = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectRetention", "s3:GetObjectLegalHold"]
_READ_BUCKET = ["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketObjectLockConfiguration",
                "s3:GetBucketVersioning"]
_WRITE = ["s3:PutObject", "s3:PutObjectRetention", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
_NEVER = ["s3:BypassGovernanceRetention", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:DeleteBucket",
          "s3:PutBucketObjectLockConfiguration", "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration"]
_DELETE = ["s3:DeleteObject", "s3:DeleteObjectVersion"]
_HOLD = ["s3:PutObjectLegalHold"]


def bucket_policy(bucket: str, users: Mapping[str, str] | None = None, prefix: str = "") -> dict[str, Any]:
    """The policy for BUCKET (objects under PREFIX), with the RGW/MinIO user name of each store role."""
    names = {**DEFAULT_USERS, **(users or {})}
    unknown = sorted(set(names) - set(STORE_ROLES))
    if unknown:
        raise ValueError(f"unknown store role {unknown[0]!r} (one of {', '.join(STORE_ROLES)})")
    prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
    objects = f"arn:aws:s3:::{bucket}/{prefix}*"
    seals = f"arn:aws:s3:::{bucket}/{prefix}seals/*"
    whole = f"arn:aws:s3:::{bucket}"

    def who(*roles: str) -> dict[str, list[str]]:
        return {"AWS": [f"arn:aws:iam:::user/{names[r]}" for r in roles]}

    def allow(sid: str, roles: tuple[str, ...], actions: list[str], resources: list[str]) -> dict[str, Any]:
        return {"Sid": sid, "Effect": "Allow", "Principal": who(*roles), "Action": actions, "Resource": resources}

    def deny(sid: str, roles: tuple[str, ...], actions: list[str], resources: list[str]) -> dict[str, Any]:
        return {"Sid": sid, "Effect": "Deny", "Principal": who(*roles), "Action": actions, "Resource": resources}

    every = STORE_ROLES
    return {"Version": "2012-10-17", "Statement": [
        allow("EveryRoleReads", every, _READ_OBJECTS, [objects]),
        allow("EveryRoleLists", every, [*_READ_BUCKET, "s3:ListBucketMultipartUploads"], [whole]),
        allow("IngestWritesWithRetention", ("ingest",), _WRITE, [objects]),
        allow("OthersWriteOnlySeals", ("reader", "holds", "retention"), _WRITE, [seals]),
        allow("HoldsPutsHoldsAndExtendsRetention", ("holds",), [*_HOLD, "s3:PutObjectRetention"], [objects]),
        allow("RetentionDeletesVersions", ("retention",), _DELETE, [objects]),
        deny("OnlyRetentionDeletes", ("ingest", "reader", "holds"), _DELETE, [objects]),
        deny("OnlyHoldsTouchesHolds", ("ingest", "reader", "retention"), _HOLD, [objects]),
        deny("NoRoleChangesTheBucket", every, _NEVER, [whole, objects]),
    ]}
