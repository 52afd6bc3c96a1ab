"""``python -m smsctl``: the same as the ``smsctl`` command."""

from smsctl.cli import run

run()
