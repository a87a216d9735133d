"""The demo: until ingest lands, initialise the embedded default and self-check."""

from __future__ import annotations

import click

from bodycam.commands import admin


@click.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Initialise the embedded default and run the self-check."""
    ctx.invoke(admin.init)
    ctx.invoke(admin.check)


COMMANDS = [demo]
