"""The ``bodycam`` command: a thin click layer over the library.

Errors are handled in one place (:func:`main`): a :class:`BodycamError` prints
one line and exits with its own code; anything else is a bug, exit 70, with
the traceback only under ``--debug``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from typing import Any

import click

from bodycam import __version__, logs
from bodycam.commands import (  # noqa: F401 (cases adds to registry's group)
    access,
    admin,
    analyse,
    cases,
    clips,
    demo,
    gaps,
    incidents,
    ingest,
    registry,
    retention,
)
from bodycam.errors import INTERNAL_ERROR_EXIT, BodycamError, PermissionDenied
from bodycam.memory import return_big_buffers
from bodycam.names import shown


class BodycamGroup(click.Group):
    """Turns a :class:`BodycamError` into its one line and exit code, inside click, so
    that ``main`` and in-process tests (``CliRunner``) see the same exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BodycamError as exc:
            if (ctx.obj or {}).get("debug"):
                traceback.print_exc()
            if isinstance(exc, PermissionDenied):
                _record_denial(ctx, exc)
            click.echo(f"bodycam: error: {shown(str(exc))}", err=True)
            ctx.exit(exc.exit_code)


def _record_denial(ctx: click.Context, exc: PermissionDenied) -> None:
    """A refused attempt is an access too: audited under the same identity (its own transaction; the
    refused work was rolled back). If even that is refused, the refusal stands unrecorded."""
    app, command = (ctx.obj or {}).get("app"), (ctx.obj or {}).get("command", "")
    if app is None:
        return
    with contextlib.suppress(BodycamError):
        app.audit("access.denied", f"command:{command}", {"error": str(exc)})


@click.group(cls=BodycamGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="bodycam")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="TOML settings file.")
@click.option("--database-url", help="SQLAlchemy URL (overrides BODYCAM_DATABASE_URL).")
@click.option("--store-url", help="file://DIR or s3://BUCKET (overrides BODYCAM_STORE_URL).")
@click.option("--actor", help="On whose behalf (one printable line), recorded beside the authenticated identity "
              "(the database role; on SQLite the OS user), never instead of it.")
@click.option("--tz", help="Zone for naive times and for display (default: UTC).")
@click.option("--log-format", type=click.Choice(logs.FORMATS),
              help="Log lines on stderr: text (default) or JSON, one object per line (log_format).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, database_url: str | None,
        store_url: str | None, actor: str | None, tz: str | None, log_format: str | None, debug: bool) -> None:
    """bodycam: body-worn-camera and interrogation footage, kept as evidence."""
    from bodycam.app import App

    overrides: dict[str, Any] = {
        "database.url": database_url,
        "store.url": store_url,
        "actor": actor,
        "tz": tz,
        "log_format": log_format,
    }
    logs.setup(log_format or os.environ.get("BODYCAM_LOG_FORMAT", "text"), debug)
    given = ctx.obj or {}  # in-process tests hand a clock here; there is no option or variable for it
    ctx.obj = {"debug": debug, "factory": lambda: App.load(config_path, overrides, given.get("clock"),
                                                           check_clock=given.get("check_clock", True))}
    ctx.call_on_close(lambda: ctx.obj.get("app") and ctx.obj["app"].close())


for command in [*access.COMMANDS, *admin.COMMANDS, *analyse.COMMANDS, *clips.COMMANDS, *demo.COMMANDS,
                *gaps.COMMANDS, *incidents.COMMANDS, *ingest.COMMANDS, *registry.COMMANDS, *retention.COMMANDS]:
    cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    return_big_buffers()
    debug = "--debug" in (argv if argv is not None else sys.argv[1:]) or bool(os.environ.get("BODYCAM_DEBUG"))
    try:
        code = cli.main(args=argv, prog_name="bodycam", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("bodycam: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except BodycamError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"bodycam: error: {shown(str(exc))}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("bodycam: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug: say so plainly
        if debug:
            traceback.print_exc()
        click.echo(f"bodycam: internal error: {type(exc).__name__}: {shown(str(exc))} (rerun with --debug)", err=True)
        sys.exit(INTERNAL_ERROR_EXIT)
    sys.exit(code if isinstance(code, int) else 0)  # ctx.exit(n) comes back as a return value
