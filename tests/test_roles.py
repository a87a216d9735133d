"""Issue 14: roles enforced by PostgreSQL, not by checks in the client.

Each runtime role logs in as its own login role (a member of one bodycam_* group) and
tries, in raw SQL, what it may not do: the database refuses. Then each role runs the
commands of its job: they work, and the commands of other jobs are refused with exit 25
and nothing written. The matrix here is written out by hand, apart from bodycam's GRANTS,
so that a wrong grant fails a test instead of agreeing with itself.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bodycam.db.models import AuditEvent
from bodycam.db.roles import Role
from tests.conftest import RUN_ID, Bodycam, _pg_schema_url
from tests.media import age, make_clip

RUNTIME = [r for r in Role if r is not Role.ADMIN]


@dataclass
class Deployment:
    admin: Bodycam
    url: str
    logins: dict[Role, str]

    def url_for(self, role: Role) -> str:
        return make_url(self.url).set(username=self.logins[role]).render_as_string(hide_password=False)

    def as_(self, role: Role) -> Bodycam:
        return Bodycam({**self.admin.env, "BODYCAM_DATABASE_URL": self.url_for(role)}, self.admin.clock)


@pytest.fixture
def deployment(pg_base_url: str, tmp_path: Path) -> Iterator[Deployment]:
    gen = _pg_schema_url(pg_base_url)
    url = next(gen)
    admin = Bodycam({"BODYCAM_DATABASE_URL": url, "BODYCAM_STORE_URL": f"file://{tmp_path / 'objects'}",
                     "XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    admin("init")
    admin("roles", "init")
    tag = f"{RUN_ID}{uuid.uuid4().hex[:4]}"
    logins = {r: f"u{tag}_{r.value}" for r in Role}
    for role, login in logins.items():
        admin("users", "add", login, "--role", role.value, *(["--badge", "P1"] if role is Role.OFFICER else []))
    try:
        yield Deployment(admin, url, logins)
    finally:
        engine = create_engine(pg_base_url)
        with engine.begin() as conn:
            for login in logins.values():
                conn.execute(text(f'DROP ROLE IF EXISTS "{login}"'))
        engine.dispose()
        next(gen, None)


# (statement, roles that may run it); every statement touches no row, so only the privilege is tested
PROBES: list[tuple[str, set[Role]]] = [
    ("SELECT count(*) FROM clips", set(RUNTIME)),
    ("SELECT count(*) FROM ingest_items", set(RUNTIME) - {Role.ANALYSIS, Role.OFFICER}),
    ("SELECT count(*) FROM audit_events", set(RUNTIME)),
    ("INSERT INTO clips SELECT * FROM clips WHERE false", {Role.DOCK}),
    ("UPDATE clips SET sha256 = 'x' WHERE false", set()),
    ("UPDATE clips SET store_version = 'x' WHERE false", set()),
    ("UPDATE clips SET disposed_at = now() WHERE false", {Role.RETENTION}),
    ("UPDATE clips SET recorded_start = now() WHERE false", {Role.CLERK, Role.SUPERVISOR, Role.DOCK}),
    ("DELETE FROM clips WHERE false", set()),
    ("UPDATE audit_events SET actor = 'x' WHERE false", set()),
    ("DELETE FROM audit_events WHERE false", set()),
    ("INSERT INTO holds SELECT * FROM holds WHERE false", {Role.SUPERVISOR}),
    ("UPDATE holds SET released_at = now() WHERE false", {Role.SUPERVISOR, Role.RETENTION}),
    ("INSERT INTO case_clips SELECT * FROM case_clips WHERE false", {Role.SUPERVISOR, Role.DOCK}),
    ("DELETE FROM case_clips WHERE false", set()),
    ("UPDATE export_approvals SET decision = 'approved' WHERE false", {Role.SUPERVISOR}),
    ("UPDATE export_approvals SET used_at = now() WHERE false", {Role.CLERK, Role.SUPERVISOR}),
    ("INSERT INTO finding_reviews SELECT * FROM finding_reviews WHERE false", {Role.SUPERVISOR}),
    ("UPDATE analysis_jobs SET state = 'done' WHERE false", {Role.DOCK, Role.ANALYSIS}),
    ("INSERT INTO events SELECT * FROM events WHERE false", {Role.DOCK, Role.INSPECTOR, Role.SUPERVISOR}),
    ("INSERT INTO officers SELECT * FROM officers WHERE false", {Role.DOCK, Role.INSPECTOR, Role.SUPERVISOR}),
    ("INSERT INTO device_assignments SELECT * FROM device_assignments WHERE false", {Role.SUPERVISOR}),
    ("TRUNCATE clip_sightings", set()),
    ("DROP TRIGGER audit_events_identity ON audit_events", set()),
    ("ALTER TABLE clips DISABLE TRIGGER ALL", set()),
    ("ALTER TABLE audit_events OWNER TO CURRENT_USER", set()),
    ("CREATE TABLE sneaky (a int)", set()),
    ("SET ROLE bodycam_admin", set()),
]


def attempt(url: str, statement: str) -> str | None:
    """None if the statement ran; else the error (always rolled back)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            trans = conn.begin()
            try:
                conn.execute(text(statement))
                return None
            except DBAPIError as exc:
                return str(exc.orig).splitlines()[0]
            finally:
                trans.rollback()
    finally:
        engine.dispose()


def test_the_database_refuses_each_role_what_it_may_not_do_even_in_raw_sql(deployment: Deployment) -> None:
    wrong = []
    for role in RUNTIME:
        url = deployment.url_for(role)
        for statement, allowed in PROBES:
            error = attempt(url, statement)
            if (error is None) != (role in allowed):
                wrong.append(f"{role.value}: {statement}: {'ran' if error is None else error}")
            elif error is not None:
                assert "permission denied" in error or "must be owner" in error or "must be member" in error, error
    assert wrong == []


def test_the_admin_role_owns_the_schema_and_the_runtime_roles_own_nothing(deployment: Deployment) -> None:
    engine = create_engine(deployment.url)
    with engine.connect() as conn:
        owners = set(conn.execute(text(
            "SELECT tableowner FROM pg_tables WHERE schemaname = current_schema()")).scalars())
    engine.dispose()
    assert owners == {"bodycam_admin"}


def test_an_audit_event_under_another_role_is_refused_for_every_role(deployment: Deployment) -> None:
    for role in RUNTIME:
        error = attempt(deployment.url_for(role),
                        "INSERT INTO audit_events (seq, at, actor, action, subject, details, prev_hash, hash) "
                        "VALUES (999999, now(), 'the chief', 'x', 'x', '{}', 'p', 'h')")
        assert error is not None and "names the connected role" in error, (role, error)


def _dock(tmp_path: Path) -> Path:
    dock = tmp_path / "dock"
    age(make_clip(dock / "CAM1" / "CAM1_P1_20261101080000.mp4", 1.0),
        make_clip(dock / "CAM1" / "CAM1_P1_20261101090000.mp4", 1.0, pattern="smptebars"))
    return dock


def _refused(bodycam: Bodycam, *args: str) -> None:
    """Exit 25 with one line, nothing written but the record of the refused attempt itself."""
    before = _events(bodycam)
    result = bodycam(*args, check=False)
    assert result.exit_code == 25, (args, result.exit_code, result.stderr)
    assert "permission denied" in result.stderr and "\n" not in result.stderr.strip()
    after = _events(bodycam)
    assert len(after) == len(before) + 1, args
    last = after[-1]
    assert last.action == "access.denied" and last.subject == f"command:{args[0]} {args[1]}"
    assert last.actor == bodycam.app().db.identity()


def _events(bodycam: Bodycam) -> list[AuditEvent]:
    with bodycam.app().db.read() as s:
        return list(s.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def test_each_role_runs_the_commands_of_its_job_and_no_others(deployment: Deployment, tmp_path: Path) -> None:
    d = deployment
    dock, analysis, clerk, inspector, supervisor, retention, auditor, _ = (d.as_(r) for r in RUNTIME)
    officers = tmp_path / "officers.csv"
    officers.write_text("badge,name,unit\nP1,Zhang Wei,PS-01\n")
    cases = tmp_path / "cases.csv"
    cases.write_text("number,title,status,opened_at,closed_at\nC-1,theft,open,2026-11-01T00:00:00Z,\n")
    events = tmp_path / "events.csv"
    events.write_text("event_id,scenario,start,end,officers,unit\n"
                      "E1,dispatch,2026-11-01T08:00:00Z,2026-11-01T08:00:01Z,P1,PS-01\n")

    assignments = tmp_path / "assignments.csv"
    assignments.write_text("device,officer,start,end\nCAM9,P1,2026-10-01T00:00:00Z,\n")
    devices = tmp_path / "devices.csv"
    devices.write_text("serial,kind,unit\nCAM9,body_camera,PS-01\n")
    supervisor("officers", "import", str(officers))
    supervisor("devices", "import", str(devices))
    _refused(dock, "assignments", "import", str(assignments))
    supervisor("assignments", "import", str(assignments))
    supervisor("cases", "import", str(cases))
    dock("ingest", "run", str(_dock(tmp_path)), "--no-analyse")
    _refused(clerk, "analyse", "run")
    analysis("analyse", "run")
    found = clerk.json("clips", "search", "--officer", "P1")
    ids = [str(c["id"]) for c in found]
    assert len(ids) == 2
    clerk("clips", "show", ids[0])
    clerk("clips", "correct", ids[0], "--shift", "60", "--reason", "camera clock")
    _refused(analysis, "clips", "correct", ids[0], "--shift", "60", "--reason", "x")
    _refused(clerk, "cases", "link", "C-1", ids[0], "--reason", "arrest")
    supervisor("cases", "link", "C-1", ids[0], "--reason", "arrest")
    _refused(clerk, "retention", "hold", ids[1], "--reason", "x")
    _refused(inspector, "cases", "link", "C-1", ids[1], "--reason", "x")
    inspector("events", "import", str(events))
    events.write_text(events.read_text() + "E2,dispatch,2026-11-01T09:00:00Z,2026-11-01T09:00:01Z,P1,PS-01\n")
    _refused(clerk, "events", "import", str(events))
    assert inspector("gaps", "report", "--from", "2026-11-01", "--to", "2026-11-02", check=False).exit_code in (0, 4)
    retention("retention", "plan")
    clerk.advance(days=400)  # the clock is shared: the policy now lets clip 2 go; only the role stops a clerk
    _refused(clerk, "retention", "dispose", ids[1], "--reason", "x")
    retention.check_clock = False
    retention("retention", "dispose", ids[1], "--reason", "past retention")
    auditor("audit", "verify")
    auditor("audit", "log", "--limit", "5")
    _refused(auditor, "clips", "correct", ids[0], "--shift", "1", "--reason", "x")

    with d.admin.app().db.read() as s:
        actors = {a.split(" on behalf of ")[0] for a in s.scalars(select(AuditEvent.actor))}
    assert actors <= {"bodycam", *d.logins.values()}
    assert {d.logins[r] for r in (Role.DOCK, Role.ANALYSIS, Role.CLERK, Role.SUPERVISOR, Role.INSPECTOR,
                                  Role.RETENTION, Role.AUDITOR)} <= actors


def test_an_export_needs_a_supervisors_approval_used_once(deployment: Deployment, tmp_path: Path) -> None:
    d = deployment
    for b in (d.admin,):
        b.env["BODYCAM_EXPORT_APPROVAL"] = "required"
    clerk, supervisor = d.as_(Role.CLERK), d.as_(Role.SUPERVISOR)
    d.as_(Role.DOCK)("ingest", "run", str(_dock(tmp_path)), "--no-analyse")
    ids = [str(c["id"]) for c in clerk.json("clips", "search")]
    out = tmp_path / "usb"

    result = clerk("clips", "export", *ids, "--out", str(out), "--reason", "court", check=False)
    assert result.exit_code == 13 and "--approval" in result.stderr
    request = clerk.json("exports", "request", *ids, "--reason", "court 2026-12-01", "--recipient", "Judge Li")
    assert request["state"] == "pending" and request["requested_by"] == d.logins[Role.CLERK]

    result = clerk("exports", "approve", str(request["id"]), check=False)
    assert result.exit_code == 50 and "another supervisor" in result.stderr
    second = supervisor.json("exports", "request", ids[0], "--reason", "press")
    result = clerk("exports", "approve", str(second["id"]), check=False)
    assert result.exit_code == 25 and "permission denied" in result.stderr  # a clerk decides nothing
    result = supervisor("exports", "approve", str(second["id"]), check=False)
    assert result.exit_code == 50 and "another supervisor" in result.stderr
    assert attempt(d.url_for(Role.SUPERVISOR), f"UPDATE export_approvals SET decision = 'approved', "
                   f"decided_by = session_user, decided_at = now() WHERE id = {second['id']}") is not None

    result = clerk("clips", "export", *ids, "--out", str(out), "--reason", "court", "--approval",
                   str(request["id"]), check=False)
    assert result.exit_code == 13 and "not decided" in result.stderr
    approved = supervisor.json("exports", "approve", str(request["id"]), "--note", "order 77")
    assert approved["state"] == "approved" and approved["decided_by"] == d.logins[Role.SUPERVISOR]
    result = clerk("clips", "export", ids[0], "--out", str(out), "--reason", "court", "--approval",
                   str(request["id"]), check=False)
    assert result.exit_code == 13 and "approved for clips" in result.stderr
    clerk("clips", "export", *ids, "--out", str(out), "--reason", "court", "--approval", str(request["id"]))
    result = clerk("clips", "export", *ids, "--out", str(out), "--reason", "court", "--approval",
                   str(request["id"]), check=False)
    assert result.exit_code == 13 and "already used" in result.stderr
    assert len(list(out.glob("custody-*"))) == 1

    log = d.as_(Role.AUDITOR).json("audit", "log", "--subject", f"approval:{request['id']}")
    assert [e["action"] for e in reversed(log)] == ["export.requested", "export.approved"]
    started = d.as_(Role.AUDITOR).json("audit", "log", "--action", "export.started")
    assert json.loads(json.dumps(started[0]["details"]))["approval"] == request["id"]


def test_an_officer_sees_only_the_clips_recorded_under_their_badge(deployment: Deployment, tmp_path: Path) -> None:
    dock = tmp_path / "dock"
    age(make_clip(dock / "CAM1" / "CAM1_P1_20261101080000.mp4", 1.0),
        make_clip(dock / "CAM2" / "CAM2_P2_20261101080000.mp4", 1.0, pattern="smptebars"))
    deployment.as_(Role.DOCK)("ingest", "run", str(dock), "--no-analyse")
    everyone = {c["officer"]: c["id"] for c in deployment.as_(Role.CLERK).json("clips", "search")}
    officer = deployment.as_(Role.OFFICER)  # badge P1
    assert [c["officer"] for c in officer.json("clips", "search")] == ["P1"]
    officer("clips", "show", str(everyone["P1"]))
    result = officer("clips", "show", str(everyone["P2"]), check=False)
    assert result.exit_code == 51  # another officer's clip does not exist for them
    url = deployment.url_for(Role.OFFICER)
    assert attempt(url, "UPDATE clips SET recorded_start = now() WHERE false") is not None
    engine = create_engine(url)
    with engine.connect() as conn:
        badges = list(conn.execute(text("SELECT officer_badge FROM clips")).scalars())
        flags = list(conn.execute(text("SELECT DISTINCT clip_id FROM clip_flags")).scalars())
    engine.dispose()
    assert badges == ["P1"] and set(flags) <= {everyone["P1"]}


def test_users_add_refuses_an_officer_without_a_badge_and_a_badge_without_an_officer(
        deployment: Deployment) -> None:
    result = deployment.admin("users", "add", f"x{RUN_ID}", "--role", "officer", check=False)
    assert result.exit_code == 50 and "--badge" in result.stderr
    result = deployment.admin("users", "add", f"x{RUN_ID}", "--role", "clerk", "--badge", "P1", check=False)
    assert result.exit_code == 50 and "--badge" in result.stderr
