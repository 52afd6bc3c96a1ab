"""The Typer application: every command group, assembled."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from ..render import REDACT_ENV
from . import config, drips, logs, numbers, optouts, overview, send_from, setup
from .common import new_group

app = new_group(
    "Keep a pool of SMS send-from numbers, pick the sender for each text, "
    "import delivery logs, and see each number's health and the period's bill.",
    name="smsctl",
)
setup.register(app)
overview.register(app)
app.add_typer(numbers.app, name="numbers")
app.add_typer(send_from.app, name="send-from")
app.add_typer(logs.app, name="logs")
app.add_typer(drips.app, name="drips")
app.add_typer(optouts.app, name="optouts")
app.add_typer(config.app, name="config")


@app.callback()
def root(
    redact: Annotated[
        bool,
        typer.Option(
            "--redact",
            envvar=REDACT_ENV,
            help="Mask phone numbers in errors and warnings, for logs to be shared.",
        ),
    ] = False,
) -> None:
    """Keep a pool of SMS send-from numbers, pick the sender for each text,
    import delivery logs, and see each number's health and the period's bill."""
    if redact:
        os.environ[REDACT_ENV] = "1"


def run_app() -> None:
    app(prog_name="smsctl")
