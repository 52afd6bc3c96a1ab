"""Run smsctl's benchmarks and print each figure as a ratio measured side by side.

Each figure alternates the smsctl command with its yardstick in one run on
this machine and reports the median of the per-pair ratios, so a noisy,
shared machine slows both sides alike.

    python -m bench.run                   # the full sizes of DESIGN.md
    python -m bench.run --scale 0.1       # a tenth of every size, for a quick look
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import smsctl
from smsctl.numbers import add_number, init_database
from smsctl.store import open_store

from bench.generate import pool_numbers, write_recipients, write_twilio_export, utc

NOW = "2026-12-04T12:00:00Z"
HERE = Path(__file__).resolve().parent
SMSCTL = [sys.executable, "-m", "smsctl"]
MET = {True: "yes", False: "NO", None: "-"}


@dataclass
class Measured:
    seconds: float
    code: int
    cpu: float = 0.0  # seconds of CPU, the command's own processes all counted


def cpu_of_children() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run_measured(command: list[str], env: dict | None = None) -> Measured:
    """Run ``command``; its wall time, exit code and CPU time.

    Writes still on their way to the disk (a database just copied, the
    command before's files) are flushed first, so that neither side of a
    pair pays for the other's.
    """
    os.sync()
    cpu_before = cpu_of_children()
    started = time.perf_counter()
    finished = subprocess.run(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if finished.returncode not in (0, 1):
        errors = finished.stderr.decode(errors="replace")
        raise SystemExit(f"benchmark command failed: {' '.join(command)}\n{errors}")
    return Measured(elapsed, finished.returncode, cpu_of_children() - cpu_before)


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from /proc."""
    found = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            children = handle.read().split()
    except OSError:
        return found
    for child in children:
        found += process_tree(int(child))
    return found


def proportional_kib(pid: int) -> int:
    """The memory ``pid`` holds, pages shared with other processes split
    between them (PSS, in KiB); 0 once it has exited."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_memory_kib(command: list[str], env: dict) -> int:
    """Run ``command``; the most memory it and its child processes held together.

    The import reads its file in a forked child, so the peak resident size of
    one process would leave part out, and adding the two would count the
    pages they share twice. Their PSS, summed every 10 ms, counts each once.
    """
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    peak = 0
    while process.poll() is None:
        peak = max(peak, sum(proportional_kib(p) for p in process_tree(process.pid)))
        time.sleep(0.01)
    if process.returncode not in (0, 1):
        raise SystemExit(f"benchmark command failed: {' '.join(command)}")
    return peak


def console_script() -> list[str]:
    """The installed ``smsctl`` command beside this interpreter, as a user runs it."""
    script = Path(sys.executable).parent / "smsctl"
    return [str(script)] if script.exists() else SMSCTL


def smsctl_env(db: Path) -> dict:
    env = dict(os.environ, SMSCTL_DB=str(db), SMSCTL_NOW=NOW, TZ="UTC")
    return env


def new_pool(db: Path, senders: list[str]) -> None:
    for suffix in ("", "-wal", "-shm", ".import-lock"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    os.environ["SMSCTL_NOW"] = "2026-01-01T00:00:00Z"  # added long before the texts
    init_database(db, senders[0])
    store = open_store(db)
    for number in senders[1:]:
        add_number(store, number)
    store.close()


def store_only(db: Path, csv_path: Path) -> Measured:
    """The seconds the import of ``csv_path`` spends storing alone (see
    bench/store_only.py)."""
    os.sync()
    finished = subprocess.run(
        [sys.executable, "-m", "bench.store_only", str(db), str(csv_path)],
        env=smsctl_env(db),
        capture_output=True,
        check=True,
    )
    return Measured(json.loads(finished.stdout)["seconds"], 0)


def sqlite_import(csv_path: Path, work: Path) -> list[str]:
    target = work / "yardstick.db"
    target.unlink(missing_ok=True)
    return ["sqlite3", str(target), f".import --csv {csv_path} raw"]


def pairs(
    first, second, count: int
) -> tuple[list[float], list[Measured], list[Measured]]:
    """Run the two sides alternately; per-pair ratios and each side's measures."""
    ratios, ours, theirs = [], [], []
    for _ in range(count):
        a = first()
        b = second()
        ours.append(a)
        theirs.append(b)
        ratios.append(a.seconds / b.seconds)
    return ratios, ours, theirs


def figure(
    name: str, ratios: list[float], goal: str, limit: float, detail: str
) -> dict:
    median = statistics.median(ratios)
    return {
        "figure": name,
        "ratio": round(median, 2),
        "goal": goal,
        "met": median <= limit,
        "detail": detail,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply every data size by this (default 1)",
    )
    parser.add_argument(
        "--pairs", type=int, default=20, help="pairs for the fast figures (default 20)"
    )
    parser.add_argument(
        "--slow-pairs",
        type=int,
        default=3,
        help="pairs for imports and batch picks (default 3)",
    )
    parser.add_argument("--work", type=Path, default=HERE / "out")
    args = parser.parse_args(argv)
    if shutil.which("sqlite3") is None:
        raise SystemExit("the sqlite3 shell is needed: apt-get install sqlite3")
    # An installed package has its bytecode compiled (pip does it for a wheel,
    # make install here); without it, and with PYTHONDONTWRITEBYTECODE set,
    # every smsctl process would compile its modules from source again.
    compileall.compile_dir(Path(smsctl.__file__).parent, quiet=1)
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    big, mid, small, tiny = (
        max(100, int(n * args.scale)) for n in (1_000_000, 300_000, 100_000, 10_000)
    )
    senders = pool_numbers(50)
    end = utc(NOW)
    files = {}
    for rows in (big, mid, small, tiny):
        files[rows] = work / f"twilio_{rows}.csv"
        if not files[rows].exists():
            print(f"generating a {rows:,}-row Twilio export...", file=sys.stderr)
            write_twilio_export(files[rows], rows, senders, end)
    recipients = work / f"recipients_{small}.csv"
    if not recipients.exists():
        write_recipients(recipients, small)
    results = []

    # Import: smsctl into a fresh pool against the sqlite3 shell's .import.
    big_db = work / "big.db"

    def import_big() -> Measured:
        new_pool(big_db, senders)
        return run_measured(
            SMSCTL + ["logs", "import", str(files[big]), "--quiet"], smsctl_env(big_db)
        )

    ratios, ours, theirs = pairs(
        import_big,
        lambda: run_measured(sqlite_import(files[big], work)),
        args.slow_pairs,
    )
    # However well its two processes overlap, an import takes at least its
    # CPU time shared evenly over the machine's cores.
    cores = len(os.sched_getaffinity(0))
    least = statistics.median(a.cpu / cores / b.seconds for a, b in zip(ours, theirs))
    results.append(
        figure(
            f"import {big:,} rows",
            ratios,
            "<= 2x",
            2.0,
            f"smsctl median {statistics.median(m.seconds for m in ours):.2f} s; "
            f"CPU {statistics.median(m.cpu for m in ours):.1f} s, "
            f"so at least {least:.2f}x on {cores} cores",
        )
    )

    # The floor under that figure: the same import's storing alone, every
    # batch read beforehand. Informational: no goal of its own.
    def store_big() -> Measured:
        new_pool(big_db, senders)
        return store_only(big_db, files[big])

    ratios, ours, _ = pairs(
        store_big,
        lambda: run_measured(sqlite_import(files[big], work)),
        args.slow_pairs,
    )
    results.append(
        {
            **figure(
                f"import {big:,} rows, storing alone (its floor)",
                ratios,
                "-",
                0,
                f"storing median {statistics.median(m.seconds for m in ours):.2f} s",
            ),
            "met": None,
        }
    )

    # Memory: the import's page cache (32 MiB) fills as its indexes grow, and
    # is full by a few hundred thousand rows; from there the peak must stay.
    peaks = {}
    for rows in (big, mid, small):
        memory_db = work / "memory.db"
        new_pool(memory_db, senders)
        peaks[rows] = peak_memory_kib(
            SMSCTL + ["logs", "import", str(files[rows]), "--quiet"],
            smsctl_env(memory_db),
        )
    results.append(
        {
            "figure": f"import peak memory (PSS) {big:,} vs {mid:,} rows",
            "ratio": round(peaks[big] / peaks[mid], 2),
            "goal": "< 100 MiB, flat",
            "met": peaks[big] < 100 * 1024 and peaks[big] / peaks[mid] < 1.1,
            "detail": f"{peaks[big] / 1024:.1f} MiB vs {peaks[mid] / 1024:.1f} MiB "
            f"({small:,} rows: {peaks[small] / 1024:.1f} MiB)",
        }
    )

    # Cold pick against the interpreter doing nothing.
    pick_command = console_script()
    ratios, ours, theirs = pairs(
        lambda: run_measured(
            pick_command + ["send-from", "pick", "--to", "+14155559876", "--dry-run"],
            smsctl_env(big_db),
        ),
        lambda: run_measured([sys.executable, "-c", "pass"]),
        args.pairs,
    )
    results.append(
        figure(
            f"cold pick, 50 numbers, {big:,} messages",
            ratios,
            "<= 8x",
            8.0,
            f"{statistics.median(m.seconds for m in ours) * 1000:.0f} ms "
            f"vs {statistics.median(m.seconds for m in theirs) * 1000:.0f} ms",
        )
    )

    # Batch pick of many recipients against .import of the same CSV.
    batch_db = work / "batch.db"

    def batch_pick() -> Measured:
        for suffix in ("", "-wal", "-shm"):
            Path(str(batch_db) + suffix).unlink(missing_ok=True)
        shutil.copy(big_db, batch_db)
        return run_measured(
            pick_command + ["send-from", "pick", "--file", str(recipients)],
            smsctl_env(batch_db),
        )

    ratios, ours, _ = pairs(
        batch_pick,
        lambda: run_measured(sqlite_import(recipients, work)),
        args.slow_pairs,
    )
    results.append(
        figure(
            f"batch pick {small:,} recipients",
            ratios,
            "<= 10x",
            10.0,
            f"smsctl median {statistics.median(m.seconds for m in ours):.2f} s",
        )
    )

    # Listing growth: the same listing over many messages and over few.
    tiny_db = work / "tiny.db"
    new_pool(tiny_db, senders)
    run_measured(
        SMSCTL + ["logs", "import", str(files[tiny]), "--quiet"], smsctl_env(tiny_db)
    )
    for extra in ([], ["--all-time"]):
        listing = pick_command + ["numbers", "list", "--format", "json", *extra]
        ratios, ours, theirs = pairs(
            lambda: run_measured(listing, smsctl_env(big_db)),
            lambda: run_measured(listing, smsctl_env(tiny_db)),
            args.pairs,
        )
        results.append(
            figure(
                f"numbers list {' '.join(extra) or '(period)'}, "
                f"{big:,} vs {tiny:,} messages",
                ratios,
                "<= 1.5x",
                1.5,
                f"{statistics.median(m.seconds for m in ours) * 1000:.0f} ms vs "
                f"{statistics.median(m.seconds for m in theirs) * 1000:.0f} ms",
            )
        )

    print(f"{'figure':58} {'ratio':>6}  {'goal':16} met   detail")
    for r in results:
        print(
            f"{r['figure']:58} {r['ratio']:>6}  {r['goal']:16} "
            f"{MET[r['met']]:3}   {r['detail']}"
        )
    (work / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
