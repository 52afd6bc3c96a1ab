"""Time an import's storing alone: the file read whole into memory first,
then its batches stored as ``smsctl logs import`` stores them.

Reading and storing run side by side in two processes (see
smsctl/importing/pipeline.py), so no import of the file can be quicker
than its storing alone: this is the floor under the import's figure.

    python -m bench.store_only DB FILE   # prints {"seconds": ..., "added": ...}

DB must hold a pool already. The batches of a million rows take about a
gigabyte while they wait in memory.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from smsctl.importing import run
from smsctl.store import open_store


def store_only(db: Path, export: Path) -> dict:
    """Import ``export`` into ``db`` with every batch read before any is stored;
    the seconds from the first batch stored to the import's end."""
    started: list[float] = []

    def read_beforehand(produce, keep_fds, name):
        batches = list(produce())
        started.append(time.perf_counter())
        return iter(batches)

    # The importer's own path, with the reading process swapped for the
    # batches read beforehand.
    reading, run.batches_from_child = run.batches_from_child, read_beforehand
    store = open_store(db)
    try:
        (result,) = run.import_files(store, [export], run.ImportOptions())
    finally:
        store.close()
        run.batches_from_child = reading
    if result.error:
        raise SystemExit(result.error)
    return {"seconds": time.perf_counter() - started[0], "added": result.added}


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python -m bench.store_only DB FILE")
    print(json.dumps(store_only(Path(sys.argv[1]), Path(sys.argv[2]))))
