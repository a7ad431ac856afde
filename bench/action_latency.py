"""Action latency: retrying one dead letter until the store has committed it, and ``status --json``.

The retries run on a copy of the benchmark workspace under
bench/.work/action-ws (logs hard-linked, the store copied: 100,000 tasks and
10,000 dead letters), so the benchmark's own store stays as built. A
separate read connection polls the store every ~2 ms for the dead-letter row;
the row gone is the retry committed (CONTRACT §5: one transaction).

* console: oos-tui in tmux at 200x50 on the copy, key ``3`` (Queues); once
  it has settled (CPU under 10 % of a core: its history indexed), per retry
  ``r`` on the selected dead letter and, when the confirmation shows (its
  title names the row), ``y``. Timed from the ``y`` keypress to the row gone;
  the time from ``r`` to the confirmation on screen is reported beside it.
  Skipped, and said so, when the Queues screen is not built.
* CLI: ``oos-tui -w WS retry ID``, from spawn to the row gone (commit) and to
  the process's exit.
* ``oos-tui -w WS status --json`` wall time on the big store (read-only).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import (
    SCRATCH,
    ProcTree,
    Terminal,
    Viewer,
    base_parser,
    emit,
    fmt_triple,
    load_workspace,
    oos_tui_bin,
    parse_args,
    summary,
    uptime,
    versions,
)

CONFIRM = re.compile(r"Retry dead letter (\d+)")


def copy_workspace(ws: Path) -> Path:
    """A copy to act on: every file hard-linked except the store, which is copied."""
    dest = SCRATCH / "action-ws"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(ws, dest, copy_function=os.link, ignore=shutil.ignore_patterns("data"))
    (dest / "data").mkdir()
    for path in (ws / "data").iterdir():
        if path.is_file():
            shutil.copyfile(path, dest / "data" / path.name)
    return dest


def _row_exists(conn: sqlite3.Connection, dead_id: int) -> bool:
    return conn.execute("SELECT 1 FROM dead_letter WHERE id = ?", (dead_id,)).fetchone() is not None


def _wait_gone(conn: sqlite3.Connection, dead_id: int, timeout: float) -> float | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _row_exists(conn, dead_id):
            return time.monotonic()
        time.sleep(0.002)
    return None


def _connect(ws: Path) -> sqlite3.Connection:
    return sqlite3.connect(ws / "data" / "oos.db", isolation_level=None, timeout=5)


def cli_retry(ws: Path, runs: int) -> dict[str, Any]:
    """``oos-tui retry ID``: spawn → committed, spawn → exit."""
    conn = _connect(ws)
    ids = [
        r[0] for r in conn.execute("SELECT id FROM dead_letter ORDER BY id DESC LIMIT ?", (runs,))
    ]
    commit: list[float] = []
    exits: list[float] = []
    errors: list[str] = []
    for dead_id in ids:
        began = time.monotonic()
        proc = subprocess.Popen(
            [oos_tui_bin(), "-w", str(ws), "retry", str(dead_id)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        gone = _wait_gone(conn, dead_id, 30.0)
        out, err = proc.communicate(timeout=60)
        ended = time.monotonic()
        if gone is None or proc.returncode != 0:
            errors.append((err or out).decode(errors="replace").strip()[-300:])
            continue
        commit.append(gone - began)
        exits.append(ended - began)
    conn.close()
    return {"commit": summary(commit), "exit": summary(exits), "errors": errors}


def tui_retry(ws: Path, runs: int) -> dict[str, Any]:
    """The console: Queues screen, ``r`` then ``y``; keypress ``y`` → committed."""
    conn = _connect(ws)
    viewer = Viewer("ours", [oos_tui_bin(), "-w", str(ws)])
    commit: list[float] = []
    shown: list[float] = []
    errors: list[str] = []
    dead_id = 0
    with Terminal() as term:
        term.spawn(viewer.argv, viewer.env)
        seen, screen = term.wait_for(lambda s: bool(s.strip()), 60.0)
        if seen is None:
            return {"error": "the console never drew a frame"}
        term.send("3")
        seen, screen = term.wait_for(lambda s: "Dead letters" in s or "dead letter" in s, 60.0)
        if seen is None or "not built" in screen.lower() or "arrive with issue" in screen:
            return {"error": "the Queues screen is not built yet", "screen": screen[-400:]}
        # Measured once the console has settled (its history indexed), as an operator finds it.
        settle = ProcTree(term.pane_pid()).settle(limit=120.0)
        for run in range(runs):
            if run:
                # The next ``r`` must act on a fresh row: wait for the table's next store poll.
                row = re.compile(rf"^\s+{dead_id}\s", re.MULTILINE)

                def row_gone(screen: str, row: re.Pattern[str] = row) -> bool:
                    return row.search(screen) is None

                term.wait_for(row_gone, 15.0)
            pressed = time.monotonic()
            term.send("r")
            seen, screen = term.wait_for(lambda s: CONFIRM.search(s) is not None, 10.0)
            match = CONFIRM.search(screen)
            if seen is None or match is None:
                errors.append("no confirmation: " + screen[-300:])
                term.send("Escape")
                continue
            dead_id = int(match.group(1))
            shown.append(seen - pressed)
            confirmed = time.monotonic()
            term.send("y")
            gone = _wait_gone(conn, dead_id, 30.0)
            if gone is None:
                errors.append(f"dead letter {dead_id} still there 30 s after y")
                continue
            commit.append(gone - confirmed)
    conn.close()
    return {
        "commit": summary(commit),
        "confirm_shown": summary(shown),
        "settle_s": settle,
        "errors": errors,
    }


def status_time(ws: Path, runs: int) -> dict[str, Any]:
    """``oos-tui status --json`` wall time."""
    times: list[float] = []
    for _ in range(runs):
        began = time.perf_counter()
        done = subprocess.run(
            [oos_tui_bin(), "-w", str(ws), "status", "--json"], capture_output=True, check=False
        )
        times.append(time.perf_counter() - began)
        if done.returncode not in (0, 1):
            return {"error": done.stderr.decode(errors="replace")[-300:]}
    return summary(times) or {}


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__)
    parser.set_defaults(runs=5)
    parser.add_argument("--skip-tui", action="store_true", help="only the CLI and status")
    args = parse_args(parser, argv)
    doc = load_workspace(args.workspace)
    runs = 1 if args.smoke else args.runs
    print(f"action latency: {runs} run(s); {uptime()}")
    result: dict[str, Any] = {
        "what": "seconds; retry: until the dead-letter row is gone from the store",
        "load_before": uptime(),
        "runs": runs,
        "versions": versions(),
    }
    copy = copy_workspace(Path(doc["workspace"]))
    try:
        result["cli_retry"] = cli_retry(copy, runs)
        print(
            f"  CLI retry: committed {fmt_triple(result['cli_retry']['commit'])}, "
            f"exited {fmt_triple(result['cli_retry']['exit'])}"
        )
        if not args.skip_tui:
            result["tui_retry"] = tui_retry(copy, runs)
            tui = result["tui_retry"]
            if "error" in tui:
                print(f"  console retry: {tui['error']}")
            else:
                print(
                    f"  console retry: y -> committed {fmt_triple(tui['commit'])}; "
                    f"r -> confirmation {fmt_triple(tui['confirm_shown'])}"
                )
            for err in tui.get("errors", []):
                print(f"    {err}")
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    result["status"] = status_time(Path(doc["workspace"]), 2 if args.smoke else max(5, runs))
    status = result["status"]
    print(f"  status --json: {fmt_triple(status) if 'min' in status else status}")
    emit(result, args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
