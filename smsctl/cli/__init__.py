"""The smsctl command line: one module per command group, no SQL, no rules.

Importing this package stays cheap: the Typer application lives in
:mod:`smsctl.cli.app` and is loaded only when the fast pick path declines.
"""

from __future__ import annotations

import signal
import sys

# What an interrupted command says, whichever moment Ctrl-C came.
INTERRUPTED = "interrupted (a change it had already saved is kept)"


def run() -> None:
    """The ``smsctl`` console script and ``python -m smsctl``: main(), after
    which Ctrl-C is no longer heeded.

    Once a command has done its work and said so, an interruption could
    only spoil the exit, as Python shuts down, with a traceback or a death
    by the signal.
    """
    try:
        main()
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def main() -> None:
    """Run the command in sys.argv; Ctrl-C before it runs is one line."""
    try:
        from .quick import quick_pick

        code = quick_pick(sys.argv[1:])
        if code is not None:
            raise SystemExit(code)
        from .app import run_app

        run_app()
    except (KeyboardInterrupt, RuntimeError) as exc:
        # Ctrl-C while modules load, before a command runs (commands say what
        # an interruption leaves themselves). Python 3.11 wraps one that
        # lands while a class is being made in a RuntimeError.
        if isinstance(exc, RuntimeError) and not isinstance(
            exc.__cause__, KeyboardInterrupt
        ):
            raise
        _say_interrupted()
        raise SystemExit(130) from None
    except SystemExit as exc:
        # Typer ends a command interrupted while it reads its arguments
        # with 130 and no word.
        if exc.code == 130 and not _error_written():
            _say_interrupted()
        raise


def _say_interrupted() -> None:
    sys.stderr.write(f"Error: {INTERRUPTED}\n")


def _error_written() -> bool:
    """Whether this process wrote an error line (render.error) already."""
    render = sys.modules.get("smsctl.render")
    return render is not None and render.errors_written > 0
