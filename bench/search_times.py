"""Filter and text-search times over the 2,000,000-line oos.log: oos-tui's engine and CLI, lnav, rg.

What is timed (wall clock, min / median / max over ``--runs``; the file is
warm in the page cache for every tool):

* engine (in this process, the code the Events screen runs): building the
  stream's index (``EventStream.run_until_ready``), then per query a first
  search with a new ``Searcher``, the same search repeated (the searcher's
  per-query cache: what the screen does while you refine or new lines
  arrive), and the same search with another new ``Searcher`` (no result
  cache, index and page cache warm). Queries: ``type:FAIL`` (a field
  filter), ``timeout`` (text, case-insensitive), the rare item id (a needle
  on three lines) and ``type:FAIL timeout``. On the workspace holding only
  ``oos.log`` (``solo``, the same file the others read) and on the whole
  workspace (``full``).
* CLI end to end: ``oos-tui -w WS events QUERY --limit 1`` (process start,
  index, search, print).
* lnav (``-n``, headless, with bench/lnav/oos_pipe_log.json installed so it
  knows the fields): loading alone (``;SELECT count(*)``), the field filter
  as SQL (``;SELECT count(*) … WHERE event_type = 'FAIL'``) and as
  ``:filter-expr``, the text filter ``:filter-in (?i)timeout`` (after a
  filter command, lnav -n prints the filtered view; we read and count it).
  Every lnav run loads the file again: lnav has no "repeated" without its UI.
* rg: ``rg -c '\\|FAIL\\|'``, ``rg -c -i timeout``, ``rg -c NEEDLE`` — the floor.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import (
    base_parser,
    emit,
    fmt_triple,
    lnav_bin,
    lnav_env,
    lnav_file,
    load_workspace,
    oos_tui_bin,
    parse_args,
    rg_bin,
    summary,
    uptime,
    versions,
    warm,
)


def queries(doc: dict[str, Any]) -> dict[str, str]:
    """The searches timed, by name."""
    return {
        "filter": "type:FAIL",
        "text": "timeout",
        "needle": doc["needle"],
        "filter_text": "type:FAIL timeout",
    }


def engine(ws: Path, doc: dict[str, Any], runs: int) -> dict[str, Any]:
    """Index then search in this process, as the console's worker thread does."""
    from oos_tui.config import load_settings
    from oos_tui.eventlog.search import Searcher
    from oos_tui.eventlog.stream import EventStream
    from oos_tui.query import compile_query

    index_s: list[float] = []
    times: dict[str, dict[str, list[float]]] = {
        name: {"first": [], "repeat": [], "fresh": []} for name in queries(doc)
    }
    counts: dict[str, int] = {}
    total = 0
    for _ in range(runs):
        settings = load_settings(str(ws), read_only=True)
        stream = EventStream(settings, follow=False)
        began = time.perf_counter()
        view = stream.run_until_ready()
        index_s.append(time.perf_counter() - began)
        total = view.total
        print(f"  {ws.name}: indexed {total:,} events in {index_s[-1]:.2f} s", flush=True)
        searcher = Searcher()
        for name, text in queries(doc).items():
            for key, fresh in (("first", False), ("repeat", False), ("fresh", True)):
                used = Searcher() if fresh else searcher
                began = time.perf_counter()
                result = used.search(view, compile_query(text))
                times[name][key].append(time.perf_counter() - began)
                counts[name] = result.count
                if fresh:
                    used.close()
        searcher.close()
        stream.close()
    return {
        "events": total,
        "index": summary(index_s),
        "queries": {
            name: {key: summary(vals) for key, vals in per.items()} | {"count": counts[name]}
            for name, per in times.items()
        },
    }


def _wall(argv: list[str], runs: int, env: dict[str, str] | None = None) -> dict[str, Any]:
    import os

    times: list[float] = []
    out = ""
    for _ in range(runs):
        began = time.perf_counter()
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            check=False,
        )
        times.append(time.perf_counter() - began)
        out = done.stdout
        if done.returncode != 0:
            return {"error": (done.stderr or done.stdout).strip()[-500:], "argv": argv}
    result = summary(times) or {}
    last = out.strip().splitlines()
    result["argv"] = argv
    result["output"] = last[-1][:200] if last else ""
    result["output_lines"] = len(last)
    return result


def cli(ws: Path, doc: dict[str, Any], runs: int) -> dict[str, Any]:
    """``oos-tui events QUERY --limit 1`` end to end."""
    q = queries(doc)
    return {
        name: _wall([oos_tui_bin(), "-w", str(ws), "events", q[name], "--limit", "1"], runs)
        for name in ("filter", "text")
    }


def lnav(file: Path, doc: dict[str, Any], runs: int) -> dict[str, Any] | None:
    """lnav -n: load, field filter (SQL and filter-expr), text filter.

    The SQL counts read ``file`` itself. The filters print the filtered view,
    and lnav 0.11.1 crashes printing the file's long lines, so they read
    :func:`lnav_file` (the same file without its lines over 8 KB) unless
    ``--lnav-same-file``.
    """
    binary = lnav_bin()
    if binary is None:
        return None
    env = lnav_env()
    table = "oos_pipe_log"
    printed = lnav_file(doc)

    def run(*commands: str, where: Path = file) -> dict[str, Any]:
        argv = [binary, "-n"]
        for command in commands:
            argv += ["-c", command]
        return _wall([*argv, str(where)], runs, env) | {"file": str(where)}

    return {
        "load": run(f";SELECT count(*) AS n FROM {table}"),
        "filter_sql": run(f";SELECT count(*) AS n FROM {table} WHERE event_type = 'FAIL'"),
        "filter_expr": run(":filter-expr :event_type = 'FAIL'", where=printed),
        "text_filter": run(":filter-in (?i)timeout", where=printed),
        "text_sql": run(f";SELECT count(*) AS n FROM {table} WHERE log_text LIKE '%timeout%'"),
    }


def rg(file: Path, doc: dict[str, Any], runs: int) -> dict[str, Any] | None:
    """ripgrep counts: the least any search can cost."""
    binary = rg_bin()
    if binary is None:
        return None
    return {
        "filter": _wall([binary, "-c", r"\|FAIL\|", str(file)], runs),
        "text": _wall([binary, "-c", "-i", "timeout", str(file)], runs),
        "needle": _wall([binary, "-c", doc["needle"], str(file)], runs),
    }


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__)
    parser.add_argument("--skip-full", action="store_true", help="only the oos.log-only workspace")
    args = parse_args(parser, argv)
    doc = load_workspace(args.workspace)
    runs = 1 if args.smoke else args.runs
    ws, solo = Path(doc["workspace"]), Path(doc["solo"])
    file = ws / "oos.log"
    warm(file)
    print(f"search times: {doc['files']['oos.log']['lines']:,} lines, {runs} run(s); {uptime()}")
    result: dict[str, Any] = {
        "what": "seconds of wall clock per search",
        "load_before": uptime(),
        "runs": runs,
        "queries": queries(doc),
        "versions": versions(),
        "engine": {"solo": engine(solo, doc, runs)},
        "cli": {"solo": cli(solo, doc, runs)},
    }
    if not args.skip_full:
        result["engine"]["full"] = engine(ws, doc, runs)
        result["cli"]["full"] = cli(ws, doc, runs)
    result["lnav"] = lnav(file, doc, runs)
    result["rg"] = rg(file, doc, runs)
    for where, eng in result["engine"].items():
        print(f"engine, {where}: {eng['events']:,} events, index {fmt_triple(eng['index'])}")
        for name, per in eng["queries"].items():
            cells = "  ".join(
                f"{key} {fmt_triple(per[key])}" for key in ("first", "repeat", "fresh")
            )
            print(f"  {name:<12} {per['count']:>8,} hits  {cells}")
    for where, per in result["cli"].items():
        for name, res in per.items():
            print(f"cli {where} {name}: {fmt_triple(res) if 'min' in res else res}")
    for tool in ("lnav", "rg"):
        for name, res in (result[tool] or {}).items():
            shown = fmt_triple(res) if "min" in res else res.get("error")
            print(f"{tool} {name}: {shown}  -> {res.get('output', '')[:60]!r}")
    emit(result, args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
