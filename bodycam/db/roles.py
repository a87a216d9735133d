"""Database roles: who may do what, enforced by PostgreSQL's GRANTs, not by checks in the client.

``bodycam roles init`` creates one group role (NOLOGIN) per :class:`Role`, makes
``bodycam_admin`` the owner of every table, sequence and function of the schema
(only an owner may drop a trigger or alter a table), and grants each runtime role
exactly :data:`GRANTS`. People and services log in with their own roles, members
of one group each (``bodycam users add``), so that the audit log names the person
(migration 0006 makes the database refuse any other name).

The embedded SQLite default has one operating-system user: roles are recorded,
not enforced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from bodycam.db.models import OfficerLogin
from bodycam.errors import InputError

PREFIX = "bodycam_"


class Role(StrEnum):
    DOCK = "dock"
    ANALYSIS = "analysis"
    CLERK = "clerk"
    INSPECTOR = "inspector"
    SUPERVISOR = "supervisor"
    RETENTION = "retention"
    AUDITOR = "auditor"
    OFFICER = "officer"
    ADMIN = "admin"

    @property
    def group(self) -> str:
        return PREFIX + self.value


ROLE_DUTIES: dict[Role, str] = {
    Role.DOCK: "ingest from docks and interrogation rooms; analyse inline; seal",
    Role.ANALYSIS: "take analysis jobs; record what the pictures show",
    Role.CLERK: "search, show, export (with an approval when required), request exports, correct clips",
    Role.INSPECTOR: "coverage reports; import required-recording events",
    Role.SUPERVISOR: "what a clerk and an inspector may; approve exports; link cases; place and release holds; "
                     "registries",
    Role.RETENTION: "plan and run the retention sweep (dispose clips past their retention)",
    Role.AUDITOR: "read everything; verify the audit chain and the seals; check",
    Role.OFFICER: "see the clips recorded under their own badge (row-level security), change nothing",
    Role.ADMIN: "owns the schema: migrations (`bodycam init`), roles and users",
}


@dataclass(frozen=True)
class Grant:
    privileges: tuple[str, ...]
    tables: tuple[str, ...]
    columns: tuple[str, ...] = ()
    """For UPDATE (or INSERT) of these columns only."""


REGISTRY = ("units", "officers", "devices", "device_assignments", "crew_shifts", "cases", "events", "event_officers")
INDEX = ("clips", "clip_flags", "clip_corrections", "attachments", "clip_sightings", "case_clips", "holds",
         "interrogation_sessions")
WORK = ("ingest_items", "analysis_jobs")
INCIDENTS = ("incidents", "incident_officers", "incident_links")
EVERY_TABLE = (*REGISTRY, *INDEX, *WORK, *INCIDENTS, "audit_events", "export_approvals", "officer_logins",
               "finding_reviews", "alembic_version")

_EVERYONE = (Grant(("SELECT",), ("alembic_version",)), Grant(("SELECT", "INSERT"), ("audit_events",)))
_READ_ALL = Grant(("SELECT",), EVERY_TABLE)
_ATTRIBUTION = ("officer_id", "officer_badge", "officer_source")
_CLERK = (
    _READ_ALL,
    Grant(("INSERT",), ("clip_corrections", "clip_flags")),
    Grant(("DELETE",), ("clip_flags",)),
    Grant(("UPDATE",), ("clips",), ("recorded_start", "recorded_end", "time_source", *_ATTRIBUTION,
                                    "device_id", "device_serial", "retain_until")),
    Grant(("INSERT",), ("export_approvals",)),  # a new request is undecided and unused (migration 0007)
    Grant(("INSERT", "UPDATE"), ("incident_links",)),  # links by hand, and unlinks (kept, with who and why)
    Grant(("UPDATE",), ("export_approvals",), ("used_at", "used_by", "export_id")),
)
_INSPECTOR = (
    _READ_ALL,
    Grant(("INSERT", "UPDATE", "DELETE"), ("events", "event_officers")),
    Grant(("INSERT",), ("officers", "units")),
    Grant(("INSERT", "UPDATE", "DELETE"), ("incidents", "incident_officers")),
    Grant(("INSERT", "UPDATE"), ("incident_links",)),  # the automatic links of an import
    Grant(("INSERT",), ("cases",)),  # a case number an incident names
)

GRANTS: dict[Role, tuple[Grant, ...]] = {
    Role.DOCK: (
        Grant(("SELECT",), (*REGISTRY, *INDEX, *WORK)),
        Grant(("INSERT",), ("clips", "clip_flags", "clip_corrections", "attachments", "clip_sightings", "case_clips",
                            "interrogation_sessions", "ingest_items", "analysis_jobs", "cases", "events",
                            "event_officers", "officers", "units", "devices")),
        Grant(("UPDATE",), ("ingest_items", "analysis_jobs", "interrogation_sessions")),
        Grant(("UPDATE",), ("clips",), (*_ATTRIBUTION, "discontinuities", "retain_until", "recorded_start",
                                        "recorded_end", "time_source")),  # segments placed after a pass
        Grant(("DELETE",), ("clip_flags",)),
        Grant(("SELECT",), INCIDENTS),
        Grant(("INSERT",), ("incident_links",)),  # late footage linked to the incidents it belongs to
    ),
    Role.ANALYSIS: (
        Grant(("SELECT",), ("clips", "clip_flags", "analysis_jobs", "attachments")),
        Grant(("INSERT", "DELETE"), ("clip_flags",)),
        Grant(("UPDATE",), ("analysis_jobs",)),
        Grant(("UPDATE",), ("clips",), ("discontinuities",)),
    ),
    Role.CLERK: _CLERK,
    Role.INSPECTOR: _INSPECTOR,
    Role.SUPERVISOR: (
        *_CLERK, *_INSPECTOR,
        Grant(("INSERT", "UPDATE"), ("case_clips", "holds", "cases", "officers", "units", "devices",
                                     "device_assignments", "crew_shifts")),
        Grant(("UPDATE",), ("export_approvals",), ("decision", "decided_by", "decided_at", "decision_note")),
        Grant(("INSERT",), ("finding_reviews",)),
    ),
    Role.RETENTION: (
        _READ_ALL,
        Grant(("UPDATE",), ("clips",), ("disposed_at", "disposed_reason", "disposal_started_at")),
        Grant(("UPDATE",), ("attachments",), ("disposed_at",)),
        Grant(("UPDATE",), ("holds",), ("released_at", "released_by", "release_reason")),
    ),
    Role.AUDITOR: (_READ_ALL,),
    Role.OFFICER: (Grant(("SELECT",), (*REGISTRY, *INCIDENTS, "clips", "clip_flags", "attachments",
                                       "clip_corrections",
                                       "clip_sightings", "case_clips", "holds", "interrogation_sessions",
                                       "officer_logins")),),
}


def runtime_roles() -> list[Role]:
    return [r for r in Role if r is not Role.ADMIN]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def grant_statements(schema: str, tables: set[str]) -> list[str]:
    """The GRANTs of every runtime role on SCHEMA's tables (those that exist), after revoking all: pure."""
    s = _ident(schema)
    out = []
    for role in runtime_roles():
        g = _ident(role.group)
        out.append(f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {g}")
        out.append(f"GRANT USAGE ON SCHEMA {s} TO {g}")
        out.append(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {s} TO {g}")
        for grant in (*_EVERYONE, *GRANTS[role]):
            names = [t for t in grant.tables if t in tables]
            if not names:
                continue
            cols = f" ({', '.join(grant.columns)})" if grant.columns else ""
            privs = ", ".join(f"{p}{cols}" for p in grant.privileges)
            out.append(f"GRANT {privs} ON {', '.join(f'{s}.{_ident(t)}' for t in names)} TO {g}")
    return out


@dataclass(frozen=True)
class RolesReport:
    schema: str
    created: list[str]
    owner: str
    grants: int


def require_postgresql(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        raise InputError("roles are PostgreSQL's: the embedded SQLite default has one operating-system user "
                         "(recorded, not enforced)")


def init_roles(session: Session) -> RolesReport:
    """Create the group roles (if missing), make bodycam_admin own the schema's objects, grant the rest."""
    require_postgresql(session)
    schema = str(session.execute(text("SELECT current_schema()")).scalar_one())
    created = [r.group for r in Role if _create_group(session, r.group)]
    me = str(session.execute(text("SELECT current_user")).scalar_one())
    admin = _ident(Role.ADMIN.group)
    session.execute(text(f"GRANT {admin} TO {_ident(me)}"))
    session.execute(text(f"GRANT USAGE, CREATE ON SCHEMA {_ident(schema)} TO {admin}"))
    _own(session, schema)
    return RolesReport(schema, created, Role.ADMIN.group, regrant(session))


def admin_owns_schema(session: Session) -> bool:
    """`roles init` has been run on this schema: bodycam_admin owns its tables (migrations then run as it)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    owner = session.execute(text("SELECT tableowner FROM pg_tables WHERE schemaname = current_schema() "
                                 "AND tablename = 'alembic_version'")).scalar()
    return owner == Role.ADMIN.group


def regrant(session: Session) -> int:
    """After a migration run as bodycam_admin: the same GRANTs again, now covering any new table."""
    schema = str(session.execute(text("SELECT current_schema()")).scalar_one())
    tables = set(session.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}).scalars())
    statements = grant_statements(schema, tables)
    for statement in statements:
        session.execute(text(statement))
    return len(statements)


def _exists(session: Session, name: str) -> bool:
    return bool(session.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).scalar())


def _create_group(session: Session, name: str) -> bool:
    if _exists(session, name):
        return False
    session.execute(text(f"CREATE ROLE {_ident(name)} NOLOGIN"))
    return True


def _own(session: Session, schema: str) -> None:
    admin = _ident(Role.ADMIN.group)
    for kind, query in (
        ("TABLE", "SELECT tablename FROM pg_tables WHERE schemaname = :s"),
        ("SEQUENCE", "SELECT sequencename FROM pg_sequences WHERE schemaname = :s"),
    ):
        for name in session.execute(text(query), {"s": schema}).scalars():
            session.execute(text(f"ALTER {kind} {_ident(schema)}.{_ident(name)} OWNER TO {admin}"))
    for signature in session.execute(text(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = :s"), {"s": schema}).scalars():
        session.execute(text(f"ALTER FUNCTION {signature} OWNER TO {admin}"))


_NAME = re.compile(r"^[a-z_][a-z0-9_.@-]{0,62}$")


def check_user_name(name: str) -> str:
    if not _NAME.match(name) or name.startswith(PREFIX) or name.startswith("pg_"):
        raise InputError(f"user name {name!r}: lower-case letters, digits, '_', '.', '@', '-', at most 63, "
                         f"not starting with {PREFIX!r} or 'pg_'")
    return name


def add_user(session: Session, name: str, role: Role, password: str | None, badge: str | None = None) -> bool:
    """A login role for a person or service, member of ROLE's group; True if it was created.
    An officer's login names its badge: it sees the clips recorded under that badge only."""
    require_postgresql(session)
    check_user_name(name)
    if (role is Role.OFFICER) != (badge is not None):
        raise InputError("--badge: required for --role officer, and only for it")
    if not _exists(session, role.group):
        raise InputError("no bodycam roles in this database yet: run `bodycam roles init` first")
    created = not _exists(session, name)
    if created:
        session.execute(text(f"CREATE ROLE {_ident(name)} LOGIN"))
    if password is not None:
        session.execute(text(f"ALTER ROLE {_ident(name)} PASSWORD {_literal(password)}"))
    session.execute(text(f"GRANT {_ident(role.group)} TO {_ident(name)}"))
    if badge is not None:
        session.execute(delete(OfficerLogin).where(OfficerLogin.login == name))
        session.add(OfficerLogin(login=name, badge=badge))
    return created


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def roles_of(session: Session, name: str) -> list[str]:
    """The bodycam groups NAME belongs to (directly or through another role)."""
    return [str(r) for r in session.execute(text(
        "SELECT rolname FROM pg_roles WHERE rolname LIKE 'bodycam\\_%' AND pg_has_role(:n, oid, 'MEMBER') "
        "ORDER BY rolname"), {"n": name}).scalars()]
