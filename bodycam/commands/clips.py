"""clips search (the clerk's finder)."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from bodycam import output
from bodycam.audit import seals
from bodycam.commands import format_option, get_app
from bodycam.config import check_zone
from bodycam.errors import InputError
from bodycam.index import important
from bodycam.index.corrections import Correction, correct
from bodycam.index.evidence import get_clips
from bodycam.index.export import case_clips, export
from bodycam.index.queries import ClipFilter, search
from bodycam.index.reresolve import reresolve
from bodycam.index.show import clip_details
from bodycam.timeutil import parse_time, show

SOURCES = {"named": "file", "assignment": "device assignment"}
COLUMNS = ["id", "officer", "device", "start", "end", "duration", "sha256", "flags", "source_name"]


@click.group()
def clips() -> None:
    """Find clips."""


@clips.command("search")
@click.option("--officer", multiple=True, help="Badge number (repeatable).")
@click.option("--device", multiple=True, help="Device serial (repeatable).")
@click.option("--unit", help="Unit code.")
@click.option("--case", help="Case number: clips linked to it.")
@click.option("--event", help="Event or interrogation session id: clips of its officers or room in its window.")
@click.option("--from", "start", help="Clips overlapping from this time (ISO 8601; naive = --tz).")
@click.option("--to", "end", help="Clips overlapping up to this time.")
@click.option("--sha256", help="SHA-256 or a prefix of it.")
@click.option("--flag", help="Only clips with this flag (late_upload, unreadable, ...).")
@click.option("--kind", type=click.Choice(["dock", "interrogation"]))
@click.option("--limit", type=click.IntRange(1, 100000), default=100, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.pass_context
def clips_search(ctx: click.Context, officer: tuple[str, ...], device: tuple[str, ...], unit: str | None,
                 case: str | None, event: str | None, start: str | None, end: str | None, sha256: str | None,
                 flag: str | None, kind: str | None,
                 limit: int, offset: int, fmt: str) -> None:
    """Clips matching every filter given, by recording start."""
    app = get_app(ctx)
    zone = app.settings.zone

    def when(text: str | None, what: str) -> datetime | None:
        return parse_time(text, zone, what=what) if text else None

    if sha256 and not all(c in "0123456789abcdefABCDEF" for c in sha256):
        raise InputError(f"--sha256: {sha256!r} is not hexadecimal")
    f = ClipFilter(officers=officer, devices=device, unit=unit, case=case, event=event,
                   start=when(start, "--from"), end=when(end, "--to"),
                   sha256=sha256, flag=flag, kind=kind, limit=limit, offset=offset)
    db = app.ready_db()
    with db.read() as s:
        rows = search(s, f)
    app.audit("clip.search", "clips", {"filter": {k: v for k, v in f.__dict__.items() if v not in (None, (), {})},
                                        "results": len(rows)})
    if fmt == "json":
        click.echo(output.to_json(rows))
    elif fmt == "csv":
        click.echo(output.to_csv(rows, list(rows[0]) if rows else COLUMNS))
    else:
        shown = [{**r, "start": show(r["start"], zone), "end": show(r["end"], zone), "sha256": r["sha256"][:12],
                  "duration": f"{r['duration']:.1f}" if r["duration"] is not None else None} for r in rows]
        click.echo(output.table(shown, COLUMNS))


@clips.command("show")
@click.argument("clip", type=int)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def clips_show(ctx: click.Context, clip: int, fmt: str) -> None:
    """All metadata, where it is stored, retention and why, cases, events, custody history."""
    app = get_app(ctx)
    with app.ready_db().read() as s:
        d = clip_details(s, clip)
    app.audit("clip.view", f"clip:{clip}", {})
    if fmt == "json":
        click.echo(output.to_json(d))
        return
    zone = app.settings.zone
    lines = [
        f"clip {d['id']}  {d['kind']}  officer {d['officer'] or '-'}"
        + (f" (from the {SOURCES.get(d['officer_source'], d['officer_source'])})" if d["officer_source"] else "")
        + f"  device {d['device'] or '-'}",
        f"recorded   {show(d['start'], zone)} .. {show(d['end'], zone)} ({d['duration'] or 0:.1f} s, "
        f"time from {d['time_source']})",
        f"sha256     {d['sha256']}  ({d['size']} bytes)",
        f"stored     {d['store_key']}  version {d['store_version']}",
        f"uploaded   {show(d['uploaded_at'], zone)}  from {d['source_host']}:{d['source_path']}",
        f"retention  until {show(d['retention']['retain_until'], zone)}; " + "; ".join(d["retention"]["why"]),
    ]
    if d["retention"]["disposed_at"]:
        lines.append(f"disposed   {show(d['retention']['disposed_at'], zone)}: {d['retention']['disposed_reason']}")
    media = d["media"] or {}
    if media.get("video_codec"):
        lines.append(f"media      {media.get('video_codec')} {media.get('width')}x{media.get('height')} "
                     f"{media.get('fps') or 0:.2f} fps, audio {media.get('audio_codec') or '-'}")
    for f in d["flags"]:
        lines.append(f"flag       {f['flag']}: {f['detail']}")
    for c in d["corrections"]:
        lines.append(f"corrected  {c['field']}: was {c['old'] or '-'}, now {c['new'] or '-'} "
                     f"({c['source']}, {c['actor']}, {show(c['at'], zone)}: {c['reason']})")
    for a in d["attachments"]:
        lines.append(f"attached   {a['role']} {a['name']}  sha256 {a['sha256']}  {a['store_key']} "
                     f"version {a['store_version']}")
    for c in d["cases"]:
        state = "linked" if c["unlinked_at"] is None else f"unlinked {show(c['unlinked_at'], zone)}"
        lines.append(f"case       {c['case']} ({state}) by {c['linked_by']}: {c['reason']}")
    for e in d["events"]:
        lines.append(f"event      {e['event_id']} {e['scenario']} {show(e['start'], zone)} .. {show(e['end'], zone)}")
    lines.append("custody:")
    for e in d["custody"]:
        lines.append(f"  #{e['seq']} {show(e['at'], zone)} {e['actor']} {e['action']} {e['details']}")
    click.echo("\n".join(lines))


@clips.command("correct")
@click.argument("clip", type=int)
@click.option("--start", help="The true recording start (ISO 8601; naive = --tz); the length is kept.")
@click.option("--shift", type=float, help="Move the recording by this many seconds (e.g. -86400).")
@click.option("--officer", help="The badge of the officer who really recorded it.")
@click.option("--device", help="The serial of the device that really recorded it.")
@click.option("--reason", required=True, help="Why (audited, shown with the original values).")
@format_option
@click.pass_context
def clips_correct(ctx: click.Context, clip: int, start: str | None, shift: float | None, officer: str | None,
                  device: str | None, reason: str, fmt: str) -> None:
    """Correct a clip's recorded time, officer or device; the original values are kept and shown."""
    app = get_app(ctx)
    db = app.ready_db()
    if start is not None and shift is not None:
        raise InputError("give --start or --shift, not both")
    when = parse_time(start, app.settings.zone, what="--start") if start else None
    if shift is not None:
        with db.read() as s:
            (current,) = get_clips(s, [clip])
        if current.recorded_start is None:
            raise InputError(f"clip {clip}: has no recorded start to shift; give --start")
        when = current.recorded_start + timedelta(seconds=shift)
    changes = correct(db, app.store, app.settings.retention, clip, Correction(when, officer, device), reason,
                      app.actor, app.clock)
    rows = [{"field": c.field, "old": c.old, "new": c.new} for c in changes]
    if fmt == "json":
        click.echo(output.to_json({"clip": clip, "changes": rows}))
    else:
        click.echo(output.table(rows, ["field", "old", "new"]))


@clips.command("reresolve")
@click.option("--pattern", required=True, help="File-name regex with named groups start and/or officer (and device).")
@click.option("--device", multiple=True, help="Only clips of this device serial (repeatable).")
@click.option("--source-tz", help="Zone of the times in the names (default: --tz).")
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@format_option
@click.pass_context
def clips_reresolve(ctx: click.Context, pattern: str, device: tuple[str, ...], source_tz: str | None,
                    dry_run: bool, fmt: str) -> None:
    """Apply a naming pattern to clips already stored: a time from the container or the mtime, and a missing
    or assignment-derived officer, become corrections (audited, the old values kept)."""
    app = get_app(ctx)
    try:
        zone = ZoneInfo(check_zone(source_tz)) if source_tz else app.settings.zone
    except ValueError as exc:
        raise InputError(f"--source-tz: {exc}") from None
    done = reresolve(app.ready_db(), app.store, app.settings.retention, pattern, zone, device, app.actor, app.clock,
                     dry_run=dry_run)
    rows: list[dict[str, Any]] = [{"clip": p.clip_id, "source_name": p.source_name,
             "start": p.correction.start, "officer": p.correction.officer,
             "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in changes]} for p, changes in done]
    if fmt == "json":
        click.echo(output.to_json({"dry_run": dry_run, "clips": rows}))
        return
    click.echo(f"{len(rows)} clip(s) {'would change' if dry_run else 'corrected'}")
    click.echo(output.table([{**r, "start": show(r["start"], app.settings.zone) if r["start"] else "-"}
                             for r in rows], ["clip", "source_name", "start", "officer"]))


@clips.command("export")
@click.argument("clip_ids", nargs=-1, type=int)
@click.option("--case", help="A case's disclosure: every clip linked to it, one receipt naming the case.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the copies and the custody receipt.")
@click.option("--reason", required=True, help="Why the footage leaves the system (on the receipt, audited).")
@click.option("--recipient", help="Who receives the copies (on the receipt, audited).")
@click.option("--approval", type=int, help="The approved export request (`bodycam exports`): needed when "
                                           "export.approval = \"required\"; spent on this export.")
@click.pass_context
def clips_export(ctx: click.Context, clip_ids: tuple[int, ...], case: str | None, out: Path, reason: str,
                 recipient: str | None, approval: int | None) -> None:
    """Copy clips (or a case's clips) out into a new custody-<time> folder under --out, with verified
    SHA-256s and a custody receipt (exit 35 on a mismatch; a failed export leaves no folder)."""
    app = get_app(ctx)
    db = app.ready_db()
    if bool(clip_ids) == bool(case):
        raise InputError("give CLIP_IDS or --case CASE")
    with db.read() as s:
        if case:
            clip_ids = tuple(case_clips(s, case))
        total = sum(c.size for c in get_clips(s, list(clip_ids)))
    with click.progressbar(length=total, label=f"exporting {len(clip_ids)} clip(s)", file=sys.stderr,
                           show_eta=True) as bar:
        done, receipt = export(db, app.store, list(clip_ids), out, reason, app.actor, progress=bar.update,
                               recipient=recipient, clock=app.clock, approval=approval,
                               approval_required=app.settings.export.approval == "required",
                               identity=app.accountable, case=case)
    for e in done:
        click.echo(f"{e.sha256}  {e.path}")
    click.echo(f"receipt: {receipt} and {receipt.with_suffix('.txt')}")
    seals.write(db, app.store, app.clock, app.actor, "export")


@clips.command("mark-important")
@click.argument("clip", type=int)
@click.option("--reason", required=True, help="Why the clip matters (audited).")
@click.pass_context
def clips_mark_important(ctx: click.Context, clip: int, reason: str) -> None:
    """Mark a clip important (重要标记): kept as evidence is, and in the queue, until a supervisor reviews it."""
    app = get_app(ctx)
    done = important.mark(app.ready_db(), app.store, clip, reason, app.actor, app.clock)
    if done.already:
        click.echo(f"clip {clip}: already marked important, not yet reviewed")
        return
    click.echo(f"clip {clip}: marked important; kept until reviewed"
               + ("" if done.store_hold else " (the store's legal hold waits for `bodycam check` with the holds key)"))


@clips.command("review-important")
@click.argument("clip", type=int)
@click.option("--note", required=True, help="What the review found (audited).")
@click.pass_context
def clips_review_important(ctx: click.Context, clip: int, note: str) -> None:
    """Review an important mark: from now on the clip is kept as its cases, holds and the policy say."""
    app = get_app(ctx)
    released = important.review(app.ready_db(), app.store, clip, note, app.actor, app.clock)
    click.echo(f"clip {clip}: reviewed; " + ("its store legal hold is off (nothing else holds it)" if released
                                              else "still held (a case, a hold, or the store's lock)"))


@clips.command("important")
@format_option
@click.pass_context
def clips_important(ctx: click.Context, fmt: str) -> None:
    """The queue: clips marked important and not yet reviewed, oldest mark first."""
    app = get_app(ctx)
    with app.ready_db().read() as s:
        rows = important.queue(s)
    app.audit("clips.important_queue", "clips", {"count": len(rows)})
    if fmt == "json":
        click.echo(output.to_json(rows))
        return
    zone = app.settings.zone
    click.echo(output.table([{**r, "recorded_start": show(r["recorded_start"], zone),  # type: ignore[arg-type]
                              "marked_at": show(r["marked_at"], zone)} for r in rows],  # type: ignore[arg-type]
                            ["clip", "officer", "device", "recorded_start", "marked_at", "marked"]))


COMMANDS = [clips]
