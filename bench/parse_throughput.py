"""Parse throughput of every log format against a bare orjson floor and ripgrep.

Generates realistic seeded lines for each format through the formats' own
writers, writes them to a temporary file, then times (each run reads the
file, splits it into lines and handles every line):

* parse:     ``format.parse`` of every line (pylog: of every grouped record)
* timestamp: ``format.timestamp`` of every line (pylog: of every record start)
* floor:     the least any reader must do: ``split(b"|", 5)`` + ``orjson.loads``
             of the JSON (pipe), ``orjson.loads`` (ai, app), a UTF-8 decode (pylog)
* rg:        ``rg -c .`` over the same file, when ripgrep is on PATH

Results are kept as a real reader keeps them, so the cyclic GC's cost is
included; ``--no-gc`` shows the figures without it.

Usage: python bench/parse_throughput.py [--lines N] [--runs R] [--seed S] [--json] [--no-gc]
"""

from __future__ import annotations

import argparse
import gc
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from oos_tui.formats import ai as ai_format
from oos_tui.formats import applog as app_format
from oos_tui.formats import get_format
from oos_tui.formats import pipe as pipe_format
from oos_tui.formats import pylog as pylog_format

START = 1_759_111_219.0
WORDS = [
    "queue",
    "worker",
    "feed",
    "episode",
    "transcript",
    "audio",
    "segment",
    "retry",
    "timeout",
    "backoff",
    "model",
    "inference",
    "token",
    "batch",
    "download",
    "upload",
    "cache",
    "index",
    "vector",
    "embedding",
    "summary",
    "chapter",
]
FEEDS = [
    f"{name}{n}"
    for name in ("TechPodcast", "NewsDaily", "ScienceHour", "AIWeekly")
    for n in range(12)
]
SERVICES = ["worker", "scheduler", "api", "ingest", "asr", "summarizer", "redis", "postgres"]
ERRORS = [
    "ConnectionError: timed out after 30s",
    "HTTP 503 from upstream | retry later",
    "ValueError: invalid audio header",
    "RuntimeError: CUDA out of memory",
]


def _words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(low, high)))


def _message(rng: random.Random) -> str:
    if rng.random() < 0.02:
        return _words(rng, 300, 600)
    return _words(rng, 3, 14)


def _corrupt(rng: random.Random, line: bytes) -> bytes:
    body = line.rstrip(b"\n")
    choice = rng.randrange(4)
    if choice == 0:
        body = body[: rng.randrange(1, len(body))]
    elif choice == 1:
        body = b"\xff\xfe garbage " + body[:40]
    elif choice == 2:
        body = body.replace(b"|", b";", 3)
    else:
        body = b"not a log line at all"
    return body + b"\n"


def gen_pipe(rng: random.Random, n: int) -> bytes:
    out = []
    for i in range(n):
        ts = START + i * 0.05
        feed = rng.choice(FEEDS)
        item = f"{feed}_{rng.randrange(100_000):05d}"
        roll = rng.random()
        event = (
            "FAIL"
            if roll < 0.05
            else "RETRY"
            if roll < 0.07
            else rng.choice(("DISCOVER", "PROCESS", "COMPLETE", "SKIP"))
        )
        data: dict[str, Any] = {
            "url": f"https://feeds.example.com/{feed.lower()}/{rng.randrange(10**6)}",
            "title": _message(rng).title(),
            "correlation_id": f"{rng.getrandbits(64):016x}",
        }
        if event == "FAIL":
            data["error"] = rng.choice(ERRORS)
        if rng.random() < 0.3:
            data["meta"] = {
                "duration_s": round(rng.uniform(60, 7200), 1),
                "lang": rng.choice(("en", "de", "fr")),
                "chapters": [{"t": k * 60, "title": _words(rng, 1, 4)} for k in range(3)],
            }
        line = pipe_format.write_line(ts, event, "podcast", feed, item, data)
        out.append(_corrupt(rng, line) if rng.random() < 0.005 else line)
    return b"".join(out)


def gen_ai(rng: random.Random, n: int) -> bytes:
    out = []
    for i in range(n):
        ts = START + i * 0.05
        roll = rng.random()
        event = (
            "error"
            if roll < 0.05
            else "pattern"
            if roll < 0.08
            else rng.choice(("start", "stop", "decision", "metric", "metric", "metric"))
        )
        details: dict[str, Any] = {"action": rng.choice(WORDS) + "_" + rng.choice(WORDS)}
        if event == "error":
            details = {"message": rng.choice(ERRORS), "item_id": f"item_{rng.randrange(10**5)}"}
        elif event == "decision":
            details["description"] = _message(rng)
            details["confidence"] = round(rng.random(), 3)
        analysis = None
        if rng.random() < 0.2:
            analysis = {
                "model": "gpt-x",
                "scores": [round(rng.random(), 3) for _ in range(5)],
                "reasoning": {"steps": [_words(rng, 3, 8) for _ in range(3)]},
            }
        metrics = {
            "cpu_percent": round(rng.uniform(0, 100), 1),
            "memory_percent": round(rng.uniform(10, 90), 1),
            "disk_percent": round(rng.uniform(30, 80), 1),
            "load_avg": [round(rng.uniform(0, 4), 2) for _ in range(3)],
        }
        line = ai_format.write_line(
            ts,
            event,
            rng.choice(("system", "ai", "pipeline")),
            rng.choice(SERVICES),
            details,
            metrics,
            None,
            analysis,
        )
        out.append(_corrupt(rng, line) if rng.random() < 0.005 else line)
    return b"".join(out)


def gen_app(rng: random.Random, n: int) -> bytes:
    out = []
    for i in range(n):
        ts = START + i * 0.05
        roll = rng.random()
        level = (
            "ERROR" if roll < 0.05 else "WARNING" if roll < 0.1 else rng.choice(("INFO", "DEBUG"))
        )
        if rng.random() < 0.1:
            line = app_format.write_container_line(
                ts,
                None,
                rng.choice(SERVICES),
                _message(rng),
                stream="stderr" if roll < 0.1 else "stdout",
            )
        else:
            line = app_format.write_line(
                ts,
                level,
                rng.choice(SERVICES),
                rng.choice(ERRORS) if level == "ERROR" else _message(rng),
                {"request_id": f"{rng.getrandbits(64):016x}", "user": rng.choice(WORDS)},
                {"task_id": rng.randrange(10**6), "item_id": f"item_{rng.randrange(10**5)}"},
            )
        out.append(_corrupt(rng, line) if rng.random() < 0.005 else line)
    return b"".join(out)


def gen_pylog(rng: random.Random, n: int) -> bytes:
    out = []
    lines = 0
    i = 0
    while lines < n:
        ts = START + i * 0.05
        i += 1
        roll = rng.random()
        level = "ERROR" if roll < 0.05 else "WARNING" if roll < 0.1 else "INFO"
        message = _message(rng)
        if level == "ERROR" and rng.random() < 0.6:
            frames = "".join(
                f'\n  File "/app/oos/{rng.choice(WORDS)}.py", line {rng.randrange(900)}, in run'
                f"\n    {_words(rng, 2, 6)}"
                for _ in range(rng.randint(2, 8))
            )
            message = f"{message}\nTraceback (most recent call last):{frames}\n{rng.choice(ERRORS)}"
        logger = rng.choice((None, "oos.pipeline", "oos.asr", "oos.summarize"))
        record = pylog_format.write_record(ts, level, message, logger)
        out.append(record)
        lines += record.count(b"\n")
    return b"".join(out)


GENERATORS: dict[str, tuple[str, Callable[[random.Random, int], bytes], str]] = {
    "pipe": ("pipe", gen_pipe, "oos.log"),
    "ai": ("ai", gen_ai, "ai_events.log"),
    "app": ("app", gen_app, "logs/worker.log"),
    "pylog": ("pylog", gen_pylog, "out/job1/05_asr/stage.log"),
}


def _lines(path: Path) -> list[bytes]:
    lines = path.read_bytes().split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    return lines


def run_parse(fmt_name: str, path: Path) -> int:
    fmt = get_format(fmt_name)
    name = str(path)
    lines = _lines(path)
    parse = fmt.parse
    if not fmt.multiline:
        out = [parse(raw, name, number) for number, raw in enumerate(lines, 1)]
        return len(out)
    starts = fmt.starts_record
    out = []
    record: list[bytes] = []
    first = 1
    for number, raw in enumerate(lines, 1):
        if record and starts(raw):
            out.append(parse(b"\n".join(record) if len(record) > 1 else record[0], name, first))
            record = []
            first = number
        record.append(raw)
    if record:
        out.append(parse(b"\n".join(record), name, first))
    return len(lines)


def run_timestamp(fmt_name: str, path: Path) -> int:
    fmt = get_format(fmt_name)
    lines = _lines(path)
    stamp = fmt.timestamp
    if fmt.multiline:
        starts = fmt.starts_record
        out = [stamp(raw) for raw in lines if starts(raw)]
    else:
        out = [stamp(raw) for raw in lines]
    del out
    return len(lines)


def _loads_or_none(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def run_floor(fmt_name: str, path: Path) -> int:
    lines = _lines(path)
    loads = _loads_or_none
    if fmt_name == "pipe":
        out = [loads(raw.split(b"|", 5)[-1]) for raw in lines]
    elif fmt_name == "pylog":
        out = [raw.decode("utf-8", "replace") for raw in lines]
    else:
        out = [loads(raw) for raw in lines]
    del out
    return len(lines)


def run_rg(path: Path) -> int:
    done = subprocess.run(
        ["rg", "-c", "."], stdin=path.open("rb"), capture_output=True, check=False
    )
    return int(done.stdout.strip() or 0)


def measure(fn: Callable[[], int], runs: int, collect: bool = True) -> dict[str, float]:
    rates = []
    for _ in range(runs):
        gc.collect()
        if not collect:
            gc.disable()
        started = time.perf_counter()
        count = fn()
        rates.append(count / (time.perf_counter() - started))
        gc.enable()
    return {"min": min(rates), "median": statistics.median(rates), "max": max(rates)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--lines", type=int, default=200_000, help="lines per format (default 200000)"
    )
    parser.add_argument(
        "--runs", type=int, default=5, help="timed runs per measurement (default 5)"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--formats", default="pipe,ai,app,pylog", help="comma-separated formats")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--no-gc",
        action="store_true",
        help="disable the cyclic GC during timed runs (shows what GC costs)",
    )
    args = parser.parse_args(argv)

    have_rg = shutil.which("rg") is not None
    gc_on = not args.no_gc
    results: dict[str, Any] = {
        "python": sys.version.split()[0],
        "lines": args.lines,
        "runs": args.runs,
        "seed": args.seed,
        "rg": "installed" if have_rg else "not installed",
        "gc": not args.no_gc,
        "formats": {},
    }
    with tempfile.TemporaryDirectory(prefix="oos-bench-") as tmp:
        for fmt_name in args.formats.split(","):
            _, generate, rel = GENERATORS[fmt_name]
            path = Path(tmp) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(generate(random.Random(f"{args.seed}:{fmt_name}"), args.lines))
            lines = len(_lines(path))
            row: dict[str, Any] = {
                "lines": lines,
                "bytes": path.stat().st_size,
                "parse": measure(lambda f=fmt_name, p=path: run_parse(f, p), args.runs, gc_on),
                "timestamp": measure(
                    lambda f=fmt_name, p=path: run_timestamp(f, p), args.runs, gc_on
                ),
                "floor": measure(lambda f=fmt_name, p=path: run_floor(f, p), args.runs, gc_on),
                "rg": measure(lambda p=path: run_rg(p), args.runs) if have_rg else None,
            }
            row["parse_vs_floor"] = row["parse"]["median"] / row["floor"]["median"]
            results["formats"][fmt_name] = row
            if not args.json:
                _print_row(fmt_name, row, first=len(results["formats"]) == 1)
    if args.json:
        print(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode())
    elif not have_rg:
        print("rg: not installed")
    return 0


def _rate(stats: dict[str, float] | None) -> str:
    if stats is None:
        return f"{'-':>26}"
    return f"{stats['min'] / 1e3:>7.0f} {stats['median'] / 1e3:>8.0f} {stats['max'] / 1e3:>8.0f}"


def _print_row(name: str, row: dict[str, Any], first: bool) -> None:
    if first:
        print("thousands of lines/s, min / median / max over the runs")
        columns = ("parse", "timestamp()", "floor", "rg -c .")
        print(
            f"{'format':<7} {'lines':>8} {'MB':>6} "
            + " ".join(f"{c:^26}" for c in columns)
            + "  parse/floor"
        )
    mb = row["bytes"] / 1e6
    cells = " ".join(_rate(row[key]) for key in ("parse", "timestamp", "floor", "rg"))
    print(
        f"{name:<7} {row['lines']:>8} {mb:>6.1f} {cells}  {row['parse_vs_floor']:>10.2f}",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
