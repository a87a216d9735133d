"""The tamper-evident audit log."""

from bodycam.audit.chain import record, verify

__all__ = ["record", "verify"]
