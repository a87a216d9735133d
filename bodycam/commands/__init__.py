"""Click commands, one module per area; each stays thin over the library."""

from __future__ import annotations

from typing import Any

import click

from bodycam import logs
from bodycam.app import App


def get_app(ctx: click.Context) -> App:
    """The App for this invocation, loaded once on first use."""
    obj: dict[str, Any] = ctx.find_root().obj
    obj["command"] = ctx.command_path.removeprefix(ctx.find_root().info_name or "").strip()
    if "app" not in obj:
        obj["app"] = obj["factory"]()
        if obj["app"].settings.log_format == "json":  # from a settings file (option and variable: seen earlier)
            logs.setup("json", obj.get("debug", False))
    app: App = obj["app"]
    return app


format_option = click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
    help="Output for people (table) or scripts (json).",
)
