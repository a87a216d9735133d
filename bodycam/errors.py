"""One exception hierarchy; every class carries its exit code (as in borg).

The CLI catches :class:`BodycamError` in one place, prints ``str(err)`` on one
line and exits with ``err.exit_code``. The table in the README is generated
from :data:`EXIT_CODES` and a test keeps the two in step.
"""

from __future__ import annotations


class BodycamError(Exception):
    """Base class: a user-facing failure with a one-line message."""

    exit_code = 1
    summary = "error"


class UsageError(BodycamError):
    exit_code = 2
    summary = "bad command-line usage"


class IngestIncomplete(BodycamError):
    exit_code = 3
    summary = "some source files failed to ingest; they were left untouched at the source"


class SweepBusy(BodycamError):
    exit_code = 5
    summary = "another retention sweep is running"


class PolicyNotPlanned(BodycamError):
    exit_code = 6
    summary = "the retention policy changed since the last plan: run `bodycam retention plan` first"


# -- configuration ---------------------------------------------------------
class ConfigError(BodycamError):
    exit_code = 10
    summary = "configuration file unreadable or invalid"


class UnknownConfigKey(ConfigError):
    exit_code = 11
    summary = "unknown configuration key"


class InvalidConfigValue(ConfigError):
    exit_code = 12
    summary = "configuration value of the wrong type or out of range"


# -- database --------------------------------------------------------------
class DatabaseUnreachable(BodycamError):
    exit_code = 20
    summary = "database cannot be reached"


class SchemaTooOld(BodycamError):
    exit_code = 21
    summary = "database schema missing or older than this version: run `bodycam init`"


class SchemaTooNew(BodycamError):
    exit_code = 22
    summary = "database schema newer than this version of bodycam"


# -- object store ----------------------------------------------------------
class StoreUnreachable(BodycamError):
    exit_code = 30
    summary = "object store endpoint cannot be reached"


class StoreAuthFailed(BodycamError):
    exit_code = 31
    summary = "object store refused the credentials or denied access"


class BucketWithoutObjectLock(BodycamError):
    exit_code = 32
    summary = "bucket exists without S3 Object Lock"


class RetentionViolation(BodycamError):
    exit_code = 33
    summary = "refused: would delete or shorten the hold of locked or held footage"


class ObjectNotFound(BodycamError):
    exit_code = 34
    summary = "object or version not found in the store"


class IntegrityError(BodycamError):
    exit_code = 35
    summary = "stored bytes do not match their recorded SHA-256"


class RecordsDisagree(BodycamError):
    exit_code = 37
    summary = "the index, the audit log and the store disagree (`bodycam check` names each)"


class StoreError(BodycamError):
    exit_code = 36
    summary = "object store failed the request"


# -- audit -----------------------------------------------------------------
class AuditChainBroken(BodycamError):
    exit_code = 40
    summary = "audit chain does not verify"


# -- input -----------------------------------------------------------------
class InputError(BodycamError):
    exit_code = 50
    summary = "bad input file or argument"


class NotFound(BodycamError):
    exit_code = 51
    summary = "no such record"


class DatabaseBusy(BodycamError):
    exit_code = 24
    summary = "the database stayed locked by another process for the whole wait: try again"


class PermissionDenied(BodycamError):
    exit_code = 25
    summary = "the database or the store refused: the authenticated role may not do this (see the role matrix)"


class RuleRefused(BodycamError):
    exit_code = 26
    summary = "the database refused a change its rules forbid (a trigger): nothing was written"


class ApprovalRequired(BodycamError):
    exit_code = 13
    summary = "export.approval is required: export with --approval ID of an approved, unused request"


class ClockUntrusted(BodycamError):
    exit_code = 23
    summary = "this host's clock and the database server's disagree: fix the time before ingesting or sweeping"


class AnalysisError(BodycamError):
    exit_code = 52
    summary = "a stored file cannot be read for picture analysis (the clip is kept and flagged)"


# -- environment -----------------------------------------------------------
class MissingTool(BodycamError):
    exit_code = 60
    summary = "a required external program (ffmpeg) is missing"


FINDINGS_EXIT = 4
"""Not an error: `gaps report` found coverage gaps (for scripts and cron)."""

INTERNAL_ERROR_EXIT = 70
"""Exit code for an unexpected exception (a bug): the traceback shows with --debug."""


def exit_code_table() -> list[tuple[int, str, str]]:
    """(code, class name, summary) for every error class, sorted by code."""
    rows: dict[int, tuple[int, str, str]] = {}
    queue: list[type[BodycamError]] = [BodycamError]
    while queue:  # breadth first: a subclass that reuses its parent's code does not replace it
        cls = queue.pop(0)
        rows.setdefault(cls.exit_code, (cls.exit_code, cls.__name__, cls.summary))
        queue.extend(cls.__subclasses__())
    rows[INTERNAL_ERROR_EXIT] = (INTERNAL_ERROR_EXIT, "(internal)", "unexpected error: a bug")
    rows[FINDINGS_EXIT] = (FINDINGS_EXIT, "(findings)",
                           "gaps report: coverage findings were reported; cases check: a case is not ready for "
                           "legal review")
    return sorted(rows.values())
