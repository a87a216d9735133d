"""bodycam demo: see the whole path on synthetic footage, in under a minute."""

from __future__ import annotations

from pathlib import Path

import click

from bodycam import output
from bodycam.coverage.render import render
from bodycam.demo.run import run_demo
from bodycam.timeutil import show, utcnow


@click.command()
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-output"),
              show_default=True, help="Parent folder; each run makes a fresh instance inside it.")
def demo(folder: Path) -> None:
    """Synthesize a small unit's day with ffmpeg, ingest it, show the clerk's and inspector's view."""
    target = folder.absolute() / utcnow().strftime("%Y%m%dT%H%M%SZ")
    r = run_demo(target, lambda m: click.echo(m, err=True))
    zone = r.app.settings.zone
    click.echo("\n== Evidence clerk: every clip of officer P100001 (bodycam clips search --officer P100001)")
    rows = [{**c, "start": show(c["start"], zone), "end": show(c["end"], zone), "sha256": c["sha256"][:16],
             "flags": c["flags"], "officers": ", ".join(c["officers"])} for c in r.clerk]
    click.echo(output.table(rows, ["id", "device", "officers", "start", "end", "sha256", "flags"]))
    click.echo("\n== Inspector: what the ingest flagged")
    click.echo(output.table(r.flags, ["clip", "file", "flag", "detail"]))
    click.echo("\n== Inspector: interrogation sessions against their manifests")
    click.echo(output.table(r.sessions, ["session", "listed", "missing"]))
    click.echo(f"\n== Inspector: coverage gaps (bodycam gaps report; events from {r.files['events']})")
    click.echo(render(r.gaps, "table", zone))
    click.echo(f"\n== Dispatch records and their footage (bodycam incidents import {r.files['cad'].name})")
    click.echo(output.table([{**i, "start": show(i["start"], zone)} for i in r.incidents],
                            ["incident", "type", "start", "clips"]))
    for item in r.links:
        click.echo(f"  {item['incident']} <- clip {item['clip']}: {item['reason']}")
    q = r.queue
    click.echo(f"\n== Link rate (bodycam incidents queue): {q.link_rate:.1%} of {q.clips} clip(s) belong to an "
               f"incident or a case; {len(q.unlinked_clips)} to nothing; incidents without footage: "
               f"{', '.join(i['incident'] for i in q.incidents_without_footage) or 'none'}")
    click.echo(output.table([{**x, "link_rate": f"{x['link_rate']:.1%}"} for x in q.by_officer],
                            ["officer", "clips", "to_incident", "to_case", "unlinked", "link_rate"]))
    click.echo("\n== Legal review gate (bodycam cases check XS-2026-0077)")
    for label, ready in (("before the late file", r.before), ("after it arrived", r.after)):
        click.echo(f"{label}: " + ("READY" if ready.ready else f"NOT READY ({len(ready.problems)} problem(s))"))
        for problem in ready.problems:
            click.echo(f"  {problem.subject}: {problem.what}")
    click.echo(f"\naudit chain: {r.audit_events} events, verified")
    env = (f"BODYCAM_DATABASE_URL=sqlite:///{target / 'bodycam.db'} BODYCAM_STORE_URL=file://{target / 'objects'}"
           " BODYCAM_TZ=Asia/Shanghai")
    click.echo(f"\nexplore it:\n  export {env}\n  bodycam clips search --flag late_upload\n"
               "  bodycam gaps report --from 2026-01-01 --to 2027-01-01 --format json\n  bodycam audit log")


COMMANDS = [demo]
