"""Incidents: calls for service (警情) from dispatch (CAD) exports, the clips that belong to them, and the
queues of what belongs to nothing (docs/incidents.md)."""
