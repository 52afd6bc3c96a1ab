"""Reading an export into batches of rows, in a second process where possible.

Reading a file (decoding, CSV, dates, phone numbers, message keys) and
storing its rows (SQLite's index work) each take seconds per million rows,
storing the longer. They overlap: a child process forked after the header
is read turns records into batches of rows, with their tallies, and sends
each one down a pipe, while the parent stores the batch before. The child
holds no database or lock file open; it exits when its file is read, when
the parent stops reading (a full pipe makes it wait, a closed one ends
it), or when the parent is killed.

Where ``os.fork`` does not exist, the same batches are read in the process
itself, one after another.
"""

from __future__ import annotations

import fcntl
import gc
import os
import pickle
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, Pipe

from ..errors import SmsctlError
from .batches import outbound_tallies
from .records import ROW_ID, Rejected
from .source import ExportFile

# Rows sent and stored together: one INSERT statement each.
CHUNK_ROWS = 5_000
# The pipe's size in bytes: about one and a half batches (Linux's usual
# limit for a process that is not privileged).
PIPE_BYTES = 1 << 20
PR_SET_PDEATHSIG = 1  # prctl option, from <linux/prctl.h>
# Whether batches are read in a forked child (where the system can fork).
READ_IN_CHILD = hasattr(os, "fork")
# A batch is sent early once it holds this many rejected records, so that a
# file of bad rows is reported as it is read and its batches stay small.
CHUNK_REJECTIONS = 1_000


@dataclass
class Batch:
    """Rows of an export ready to store, and what else reading them found."""

    rows: list[tuple] = field(default_factory=list)  # each message at most once
    # Further records of messages in ``rows``, in rounds stored one after
    # another: round k holds each message's (k + 2)th record of the batch.
    repeats: list[list[tuple]] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)  # opt-out events
    rejections: list[tuple[int, str, str]] = field(default_factory=list)
    tallies: dict = field(default_factory=dict)  # outbound_tallies(rows)
    rows_read: int = 0  # records read for this batch, rejected ones included
    bytes_read: int = 0  # of the whole file so far, for progress
    sha256: str | None = None  # set on the last batch: the whole file's digest
    bytes_total: int | None = None  # set on the last batch: all the bytes read


class ReaderProcessError(SmsctlError):
    """The file could not be read to its end; what was stored stays, and
    running the same import again finishes it (exit 1)."""

    exit_code = 1


def read_batches(
    export: ExportFile,
    reader,
    build: Callable[[list[str]], tuple],
    events: list[tuple],
    bad: list[tuple[int, str, str]],
) -> Iterator[Batch]:
    """Batches of rows built from the records of ``reader``, the last one
    with the file's digest.

    ``build`` turns a record into a row, appending any opt-out event to
    ``events``; ``bad`` is where the reader puts records it could not read
    (line, reason, raw), in the order read; after each record ``reader``
    gives its line and raw text. A batch's rows hold each message once, and
    its further records of a message wait in the batch's repeats, in the
    order read, so that they are stored one round after another and every
    count stays exact.
    """
    batch = Batch()
    rows = batch.rows
    records: dict[str, int] = {}  # message id: its records in this batch
    read = 0  # records of this batch read
    rejected = 0  # of them, those ``build`` rejected; the rest are rows or repeats

    def sent() -> Batch:
        nonlocal batch, rows, read, rejected
        done = batch
        # The reader's own rejections are records it read but did not yield.
        done.rows_read = read + len(bad) - rejected
        done.events, done.rejections = events[:], bad[:]
        done.tallies = outbound_tallies(done.rows)
        done.bytes_read = export.bytes_read
        events.clear()
        bad.clear()
        records.clear()
        read = rejected = 0
        batch = Batch()
        rows = batch.rows
        return done

    for fields in reader:
        read += 1
        try:
            row = build(fields)
        except Rejected as exc:
            bad.append((reader.line, str(exc), reader.raw()))
            rejected += 1
        else:
            message_id = row[ROW_ID]
            earlier = records.get(message_id, 0)
            records[message_id] = earlier + 1
            if not earlier:
                rows.append(row)
            else:
                if earlier > len(batch.repeats):
                    batch.repeats.append([])
                batch.repeats[earlier - 1].append(row)
        # The reader adds its own rejections to ``bad`` between records.
        if read - rejected >= CHUNK_ROWS or len(bad) >= CHUNK_REJECTIONS:
            yield sent()
    last = sent()
    last.sha256 = export.sha256_of_rest()
    last.bytes_total = export.bytes_read
    last.bytes_read = export.size
    yield last


def batches_from_child(
    produce: Callable[[], Iterator[Batch]], keep_fds: list[int], name: str
) -> Iterator[Batch]:
    """The batches ``produce`` yields, read in a forked child process.

    ``name`` is the file's, for errors. ``keep_fds`` are the descriptors
    the child reads from (the export); it
    closes every other one it inherited, the database's and the import
    lock's among them. Without ``os.fork`` (READ_IN_CHILD false),
    ``produce`` runs here.
    """
    if not READ_IN_CHILD:
        yield from produce()
        return
    receiver, sender = Pipe(duplex=False)
    _deepen(sender)
    # Objects that exist now are left out of the child's garbage collections,
    # which would otherwise write to them and so copy the parent's memory.
    gc.freeze()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        _run_child(produce, sender, [sender.fileno(), *keep_fds], name, parent)
    gc.unfreeze()
    sender.close()
    finished = False
    try:
        while not finished:
            try:
                item = receiver.recv()
            except EOFError:
                raise ReaderProcessError(
                    f"{name}: the process reading it ended before the file did; "
                    "run the same import again to finish it"
                ) from None
            if isinstance(item, BaseException):
                raise item
            finished = item.sha256 is not None
            yield item
            item = None  # not held while the next batch arrives
    finally:
        receiver.close()
        if not finished:
            _end_child(pid)
        os.waitpid(pid, 0)


def _deepen(sender: Connection) -> None:
    """Let the pipe hold more than one batch where the system allows, so that
    neither process stalls whenever the other is briefly slower (a commit,
    a batch of new hours to parse)."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_size is None:
        return
    try:
        fcntl.fcntl(sender.fileno(), set_size, PIPE_BYTES)
    except OSError:
        pass  # a smaller system limit: the default size works, a little slower


def _run_child(
    produce: Callable[[], Iterator[Batch]],
    sender: Connection,
    keep: list[int],
    name: str,
    parent: int,
) -> None:
    """The child's whole life: send every batch, then exit without cleanup."""
    code = 0
    try:
        # Ctrl-C is the parent's to handle; it ends this process.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _end_with_parent(parent)
        _close_fds_except(keep)
        # Nothing is written here; a child that outlives a killed parent must
        # not keep a caller's output pipes open.
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.close(null)
        for batch in produce():
            sender.send(batch)
    except BrokenPipeError:
        code = 1  # the parent stopped reading
    except BaseException as exc:  # noqa: BLE001 - handed to the parent
        code = 1
        if isinstance(exc, OSError):
            exc = ReaderProcessError(
                f"{name}: reading stopped ({exc.strerror or exc}); "
                "run the same import again to finish it"
            )
        try:
            sender.send(_picklable(exc))
        except BaseException:  # noqa: BLE001 - the parent is gone
            pass
    finally:
        # No interpreter shutdown: it could flush the parent's buffers again
        # or close the parent's database connection under it.
        os._exit(code)


def _end_with_parent(parent: int) -> None:
    """Ask Linux to kill this process when ``parent`` dies, even while it is
    stopped; elsewhere the closed pipe ends it at its next send."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request
        os._exit(1)


def _picklable(exc: BaseException) -> BaseException:
    try:
        return pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - any exception may fail to pickle
        return ReaderProcessError(f"reading the file failed: {exc!r}")


def _close_fds_except(keep: list[int]) -> None:
    """Close every inherited descriptor above stderr except those in ``keep``."""
    start = 3
    for fd in sorted(set(keep)):
        if fd >= start:
            os.closerange(start, fd)
            start = fd + 1
    os.closerange(start, os.sysconf("SC_OPEN_MAX"))


def _end_child(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
