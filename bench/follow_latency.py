"""Follow latency: lines appended at a fixed rate; the time from a write to the screen.

For each rate (2,000 and 10,000 lines/s by default) and each tool:

1. a fresh copy of the benchmark's ``oos.log`` (2,000,000 lines) is made
   under bench/.work/follow/, and the tool opened on it in tmux at 200x50
   (oos-tui on a workspace holding only that file, sent ``2`` for the
   Events screen; ``tail -n 60 -f`` is the floor);
2. once the file's last line is on screen, we wait for the tool to settle
   (its CPU under 10 % of a core for three seconds in a row, at most 90 s);
3. a writer process (this script with ``--writer``) appends pipe lines
   through ``pipe.write_line`` at the rate, in small batches every 2 ms,
   each line carrying its sequence number (``FW00001234``); every half
   second one line is a marker, and the writer records the
   ``time.monotonic()`` at which the write that held it returned;
4. meanwhile the pane is captured every ~5 ms through tmux's control mode;
   a marker counts as on screen at the first capture (its end) that shows it
   or any later line (at 10,000 lines/s a line may scroll past between two
   captures). Latency = that time minus the write time.

Reported per tool and rate: p50 / p95 / max latency, markers lost (never on
screen within 5 s of the writer's end), markers seen themselves, the tool's
CPU % during the writing and its RSS at the end. For oos-tui, the
``oos-tui events 'source:follow-writer' --json`` count at the end is compared
with the lines written.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import (
    SCRATCH,
    ProcTree,
    Terminal,
    base_parser,
    emit,
    latency_summary,
    lnav_file,
    load_workspace,
    oos_tui_bin,
    open_viewer,
    parse_args,
    tool_list,
    uptime,
    versions,
    viewers,
)

SEQ = re.compile(r"FW(\d{8})")
FOLLOW_TOOLS = "ours-solo,toolong,lnav,tail"
TICK = 0.002


def write_lines(path: Path, rate: int, seconds: float, base_ts: float, out: Path) -> None:
    """The writer: append ``rate`` lines/s to ``path`` for ``seconds``; a marker every 0.5 s."""
    from oos_tui.formats import pipe

    every = max(1, rate // 2)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    markers: list[tuple[int, float]] = []
    written = 0
    began = time.monotonic()
    wall0 = time.time()
    try:
        while True:
            elapsed = time.monotonic() - began
            if elapsed >= seconds:
                break
            due = min(int(elapsed * rate) + 1, int(seconds * rate)) - written
            if due > 0:
                ts = max(wall0 + elapsed, base_ts + 1.0 + elapsed)
                lines = []
                marks = []
                for seq in range(written, written + due):
                    mark = seq % every == 0
                    data = {
                        "message": f"FW{seq:08d} {'MARK' if mark else 'line'} follow benchmark",
                        "correlation_id": f"{seq:016x}",
                        "worker": "worker_asr_1",
                    }
                    event = "COMPLETE" if seq % 3 else "PROCESS"
                    lines.append(
                        pipe.write_line(ts, event, "podcast", "follow-writer", f"fw_{seq}", data)
                    )
                    if mark:
                        marks.append(seq)
                os.write(fd, b"".join(lines))
                done = time.monotonic()
                markers.extend((seq, done) for seq in marks)
                written += due
            time.sleep(TICK)
    finally:
        os.close(fd)
    took = time.monotonic() - began
    out.write_text(
        json.dumps(
            {"written": written, "seconds": took, "rate": written / took, "markers": markers}
        )
    )


def _cli_count(folder: Path) -> int | None:
    done = subprocess.run(
        [oos_tui_bin(), "-w", str(folder), "events", "source:follow-writer", "--json"],
        capture_output=True,
        check=False,
    )
    return done.stdout.count(b"\n") if done.returncode == 0 else None


def follow_once(
    doc: dict[str, Any], tool: str, rate: int, seconds: float, grace: float = 5.0
) -> dict[str, Any] | None:
    """One tool at one rate; None when the tool is not installed."""
    folder = SCRATCH / "follow" / tool
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    file = folder / "oos.log"
    shutil.copyfile(lnav_file(doc) if tool == "lnav" else Path(doc["workspace"]) / "oos.log", file)
    found = viewers(doc, [tool], follow_file=file)
    if not found:
        shutil.rmtree(folder, ignore_errors=True)
        return None
    viewer = found[0]
    log = folder.parent / f"{tool}-writer.json"
    result: dict[str, Any] = {"rate": rate, "seconds": seconds}
    with Terminal() as term:
        opened = open_viewer(term, viewer, doc["markers"]["oos"], 120.0)
        result["first_screen"] = opened["last_line"]
        if opened["last_line"] is None:
            result["error"] = "the file's last line never showed: " + term.capture()[-300:]
            return result
        proc = ProcTree(term.pane_pid())
        result["settle_seconds"] = proc.settle()
        cpu0, wall0 = proc.cpu(), time.monotonic()
        writer = start_writer(file, rate, seconds, doc["end_ts"], log)
        seen: dict[int, float] = {}
        direct: set[int] = set()
        captures = 0
        highest = -1
        visible: list[int] = []
        stop_at: float | None = None
        while True:
            screen = term.capture()
            now = time.monotonic()
            captures += 1
            visible = [int(m) for m in SEQ.findall(screen)]
            if visible:
                top = max(visible)
                if top > highest:
                    for seq in range(highest + 1, top + 1):
                        seen[seq] = now
                    highest = top
                direct.update(visible)
            if stop_at is None and writer.poll() is not None:
                stop_at = now + grace
                result["cpu_percent"] = 100 * (proc.cpu() - cpu0) / (now - wall0)
            if stop_at is not None:
                info = json.loads(log.read_text())
                if highest >= info["written"] - 1 or now > stop_at:
                    break
            time.sleep(0.005)
        result["rss_mb"] = proc.rss() / 1e6
        result["captures_per_s"] = captures / max(1e-9, time.monotonic() - wall0)
    info = json.loads(log.read_text())
    latencies = []
    lost = 0
    seen_direct = 0
    for seq, wrote in info["markers"]:
        if seq in seen:
            latencies.append(max(0.0, seen[seq] - wrote))
            seen_direct += seq in direct
        else:
            lost += 1
    result.update(
        {
            "written": info["written"],
            "achieved_rate": info["rate"],
            "markers": len(info["markers"]),
            "lost": lost,
            "markers_seen_themselves": seen_direct,
            "latency": latency_summary(latencies),
            "latencies": latencies,
        }
    )
    if tool.startswith("ours"):
        result["cli_count"] = _cli_count(folder)
    shutil.rmtree(folder, ignore_errors=True)
    log.unlink(missing_ok=True)
    return result


def start_writer(
    file: Path, rate: int, seconds: float, base_ts: float, log: Path
) -> subprocess.Popen[bytes]:
    """This script as the writer process: ``rate`` lines/s into ``file`` for ``seconds``.

    The memory soak starts the same writer, so both measure the same load.
    """
    return subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--writer",
            str(file),
            "--rate",
            str(rate),
            "--seconds",
            str(seconds),
            "--base-ts",
            str(base_ts),
            "--log",
            str(log),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__)
    parser.add_argument("--tools", default=FOLLOW_TOOLS, help=f"default {FOLLOW_TOOLS}")
    parser.add_argument("--rates", default="2000,10000", help="lines/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=20.0, help="writing time per run")
    parser.add_argument("--writer", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--base-ts", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--log", type=Path, help=argparse.SUPPRESS)
    args = parse_args(parser, argv)
    if args.writer is not None:
        write_lines(args.writer, args.rate, args.seconds, args.base_ts, args.log)
        return 0
    doc = load_workspace(args.workspace)
    rates = [int(r) for r in args.rates.split(",") if r.strip()]
    seconds = 1.5 if args.smoke else args.seconds
    tools = tool_list(args.tools)
    result: dict[str, Any] = {
        "what": "seconds from a line's write to it (or a later line) on screen",
        "load_before": uptime(),
        "rates": rates,
        "seconds": seconds,
        "versions": versions(),
        "runs": {},
    }
    print(f"follow latency: {seconds:g} s per run, rates {rates}; {uptime()}")
    for rate in rates:
        per: dict[str, Any] = {}
        for tool in tools:
            res = follow_once(doc, tool, rate, seconds)
            if res is None:
                continue
            per[tool] = res
            lat = res.get("latency")
            shown = (
                f"p50 {lat['p50'] * 1000:6.0f}  p95 {lat['p95'] * 1000:6.0f}  "
                f"max {lat['max'] * 1000:6.0f} ms"
                if lat
                else res.get("error", "nothing seen")
            )
            print(
                f"  {rate:>6}/s {tool:<10} {shown}  lost {res.get('lost')}/{res.get('markers')}"
                f"  cpu {res.get('cpu_percent', 0):5.1f} %  rss {res.get('rss_mb', 0):6.1f} MB"
                + (
                    f"  cli count {res['cli_count']}/{res['written']}" if "cli_count" in res else ""
                ),
                flush=True,
            )
        result["runs"][str(rate)] = per
    emit(result, args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
