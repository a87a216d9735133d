"""roles, users (PostgreSQL), exports request / approve / refuse / list."""

from __future__ import annotations

import sys
from datetime import tzinfo

import click

from bodycam import output
from bodycam.commands import format_option, get_app
from bodycam.db import roles as db_roles
from bodycam.errors import InputError
from bodycam.index import approvals
from bodycam.store import policy as store_policy
from bodycam.timeutil import show


@click.group()
def roles() -> None:
    """Database roles that PostgreSQL enforces (the role matrix is in the README)."""


@roles.command("init")
@click.pass_context
def roles_init(ctx: click.Context) -> None:
    """Create the bodycam_* group roles, make bodycam_admin own the schema and grant each role its
    privileges (safe to run again; run it as the role that ran `bodycam init`)."""
    app = get_app(ctx)
    db = app.ready_db()
    with db.write() as s:
        report = db_roles.init_roles(s)
    app.audit("roles.init", "system", {"schema": report.schema, "created": report.created,
                                       "owner": report.owner, "grants": report.grants})
    click.echo(f"schema {report.schema}: owned by {report.owner}; {report.grants} grant statements applied")
    for name in report.created:
        click.echo(f"  created {name}")


@roles.command("list")
@format_option
@click.pass_context
def roles_list(ctx: click.Context, fmt: str) -> None:
    """Each role, its group and what it may do."""
    rows = [{"role": r.value, "group": r.group, "may": db_roles.ROLE_DUTIES[r]} for r in db_roles.Role]
    click.echo(output.to_json(rows) if fmt == "json" else output.table(rows, ["role", "group", "may"]))


@click.group()
def users() -> None:
    """Login roles for people and services (PostgreSQL)."""


@users.command("add")
@click.argument("name")
@click.option("--role", "role", required=True, type=click.Choice([r.value for r in db_roles.Role]))
@click.option("--badge", help="With --role officer: the officer's badge (they see only their own clips).")
@click.option("--password-stdin", is_flag=True, help="Read a password from the first line of stdin "
                                                     "(else log in by the server's other methods: peer, cert).")
@click.pass_context
def users_add(ctx: click.Context, name: str, role: str, badge: str | None, password_stdin: bool) -> None:
    """A login role NAME, member of ROLE's group (again: adds the group; audited)."""
    app = get_app(ctx)
    db = app.ready_db()
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    with db.write() as s:
        created = db_roles.add_user(s, name, db_roles.Role(role), password, badge)
    app.audit("user.add", f"user:{name}", {"role": role, "badge": badge, "created": created,
                                           "password_set": password is not None})
    click.echo(f"{'created' if created else 'updated'} {name}: member of {db_roles.Role(role).group}")


@click.group()
def exports() -> None:
    """Approved copying: request, a supervisor's decision, then `clips export --approval ID`."""


def _show(a: approvals.Approval, fmt: str, zone: tzinfo) -> None:
    if fmt == "json":
        click.echo(output.to_json(a.as_dict()))
        return
    click.echo(f"export request {a.id}: {a.state}; clips {', '.join(map(str, a.clip_ids))}")
    click.echo(f"  requested by {a.requested_by} at {show(a.requested_at, zone)}: {a.reason}"
               + (f" (for {a.recipient})" if a.recipient else ""))
    if a.decision:
        click.echo(f"  {a.decision} by {a.decided_by} at {show(a.decided_at, zone)}"
                   + (f": {a.decision_note}" if a.decision_note else ""))


@exports.command("request")
@click.argument("clip_ids", nargs=-1, required=True, type=int)
@click.option("--reason", required=True, help="Why the footage should leave the system (audited).")
@click.option("--recipient", help="Who is to receive the copies.")
@format_option
@click.pass_context
def exports_request(ctx: click.Context, clip_ids: tuple[int, ...], reason: str, recipient: str | None,
                    fmt: str) -> None:
    """Ask to copy CLIP_IDS out; prints the request's id for the approver."""
    app = get_app(ctx)
    db = app.ready_db()
    a = approvals.request(db, app.accountable, app.actor, list(clip_ids), reason, recipient, app.clock.now())
    _show(a, fmt, app.settings.zone)


def _decide(ctx: click.Context, approval_id: int, approve: bool, note: str | None, fmt: str) -> None:
    app = get_app(ctx)
    db = app.ready_db()
    a = approvals.decide(db, app.accountable, app.actor, approval_id, approve, note, app.clock.now())
    _show(a, fmt, app.settings.zone)


@exports.command("approve")
@click.argument("approval_id", type=int)
@click.option("--note", help="Why (audited).")
@format_option
@click.pass_context
def exports_approve(ctx: click.Context, approval_id: int, note: str | None, fmt: str) -> None:
    """Approve request APPROVAL_ID (a supervisor other than the requester; once)."""
    _decide(ctx, approval_id, True, note, fmt)


@exports.command("refuse")
@click.argument("approval_id", type=int)
@click.option("--note", required=True, help="Why (audited).")
@format_option
@click.pass_context
def exports_refuse(ctx: click.Context, approval_id: int, note: str, fmt: str) -> None:
    """Refuse request APPROVAL_ID (a supervisor other than the requester; once)."""
    _decide(ctx, approval_id, False, note, fmt)


@exports.command("list")
@click.option("--state", type=click.Choice(["pending", "approved", "refused", "used"]))
@format_option
@click.pass_context
def exports_list(ctx: click.Context, state: str | None, fmt: str) -> None:
    """Export requests, oldest first."""
    app = get_app(ctx)
    rows = approvals.listing(app.ready_db(), state)
    app.audit("export.list", "approvals", {"state": state, "count": len(rows)})
    if fmt == "json":
        click.echo(output.to_json([a.as_dict() for a in rows]))
        return
    zone = app.settings.zone
    click.echo(output.table([{"id": a.id, "state": a.state, "clips": ",".join(map(str, a.clip_ids)),
                              "requested_by": a.requested_by, "requested_at": show(a.requested_at, zone),
                              "decided_by": a.decided_by or "", "reason": a.reason} for a in rows],
                            ["id", "state", "clips", "requested_by", "requested_at", "decided_by", "reason"]))


COMMANDS = [roles, users, exports]


@roles.command("store-policy")
@click.option("--user", "users_", multiple=True, metavar="ROLE=NAME",
              help=f"The store's user name of a store role ({', '.join(store_policy.STORE_ROLES)}); "
                   "default bodycam-ROLE.")
@click.option("--apply", is_flag=True, help="Set it on the configured bucket (with the owner's key).")
@click.pass_context
def roles_store_policy(ctx: click.Context, users_: tuple[str, ...], apply: bool) -> None:
    """The bucket policy that gives each store role its key's rights (printed as JSON; --apply sets it)."""
    app = get_app(ctx)
    names: dict[str, str] = {}
    for item in users_:
        role, sep, name = item.partition("=")
        if not sep or role not in store_policy.STORE_ROLES or not name:
            raise InputError(f"--user {item!r}: ROLE=NAME with ROLE one of {', '.join(store_policy.STORE_ROLES)}")
        names[role] = name
    from bodycam.store.s3 import S3Store  # minio loads only here

    store = app.store
    if not isinstance(store, S3Store):
        raise InputError(f"store {store.url}: a local folder has no keys; bucket policies are S3's")
    policy = store_policy.bucket_policy(store.bucket, names, store.prefix)
    if apply:
        store.set_policy(policy)
        app.audit("store.policy", f"bucket:{store.bucket}", {"users": {**store_policy.DEFAULT_USERS, **names}})
    click.echo(output.to_json(policy))
