"""A progress bar for long imports, on a terminal only."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator


@contextmanager
def import_progress(enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    """Yields a callback (file, bytes done, bytes total) drawing a bar on stderr."""
    if not (enabled and sys.stderr.isatty()):
        yield lambda name, done, total: None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    tasks: dict[str, int] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:

        def advance(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total or None)
            bar.update(tasks[name], completed=done)

        yield advance
