"""Time to the first screen with the newest events: oos-tui against Toolong, lnav and tail.

Each tool is started in a fresh private tmux server at 200x50 (``Terminal``)
on the benchmark's ``oos.log`` (2,000,000 lines by default); the pane is
captured every ~5 ms until the file's last line, a unique marker that
make_workspace.py writes after everything else, is on screen. Recorded from
the moment tmux is asked to start the command:

* first frame: any text on screen;
* first lines: a log time (``HH:MM:SS.mmm``) on screen;
* last line: the marker on screen — the figure the target is about.

oos-tui is started with ``--screen events``, as an operator who wants the
event stream first would (until 2026-11-22 it was started on the Overview and
sent ``2`` at its first frame; the README keeps both figures). ``ours`` opens
the whole workspace (every log, the store, 300 jobs),
``ours-solo`` a workspace holding only ``oos.log`` (the same file the others
open). ``tail -n 60 -f`` is the floor: the cost of the harness itself.

lnav's UI crashes (lnav 0.11.1: SIGSEGV in pcre2) on this file, so it is
timed on ``ws-nolong/oos.log``, the same file without its 495 lines over
8 KB; one extra run on the file itself records whether it still crashes
(``--lnav-same-file`` times lnav on the file itself).

The file is read once before each round so that every tool finds it in the
page cache (a warm start for all alike); rounds alternate the tools so that
noise from other load spreads over all of them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import common
from common import (
    TOOLS,
    Terminal,
    Viewer,
    base_parser,
    emit,
    fmt_s,
    fmt_seconds,
    lnav_file,
    load_workspace,
    open_viewer,
    parse_args,
    print_profile,
    profile_summary,
    profiled,
    stop_profiled,
    summary,
    tool_list,
    uptime,
    versions,
    viewers,
    warm,
)


def measure(
    doc: dict[str, Any],
    tools: list[str],
    runs: int,
    timeout: float,
    profile_dir: Path | None = None,
) -> dict[str, Any]:
    """Run every tool ``runs`` times; per tool, min/median/max of each moment.

    With ``profile_dir``, oos-tui runs under py-spy and each run leaves
    ``first_screen-<tool>-<run>.txt`` there (the times are then inflated).
    """
    marker = doc["markers"]["oos"]
    chosen = viewers(doc, tools)
    samples: dict[str, dict[str, list[float]]] = {
        v.name: {"first_frame": [], "first_lines": [], "last_line": []} for v in chosen
    }
    failures: dict[str, int] = {v.name: 0 for v in chosen}
    for run in range(runs):
        warm(Path(doc["workspace"]) / "oos.log")
        warm(lnav_file(doc))
        for viewer in chosen:
            profile = None
            if profile_dir is not None and viewer.name.startswith("ours"):
                profile = profile_dir / f"first_screen-{viewer.name}-{run + 1}.txt"
            with Terminal() as term:
                got = open_viewer(
                    term, profiled(viewer, profile) if profile else viewer, marker, timeout
                )
                if profile is not None:
                    stop_profiled(term)
                if got["last_line"] is None:
                    failures[viewer.name] += 1
                    tail = term.capture()[-600:]
                    print(f"  {viewer.name} run {run + 1}: marker not seen; screen ends:\n{tail}")
            for key, value in got.items():
                if value is not None:
                    samples[viewer.name][key].append(value)
            cells = "  ".join(f"{key} {fmt_s(value):>8}" for key, value in got.items())
            print(f"  run {run + 1} {viewer.name:<10} {cells}", flush=True)
    return {
        name: {key: summary(vals) for key, vals in moments.items()}
        | {"missed": failures[name], "argv": next(v.argv for v in chosen if v.name == name)}
        for name, moments in samples.items()
    }


def lnav_probe(doc: dict[str, Any], timeout: float) -> dict[str, Any] | None:
    """lnav's UI on oos.log itself (not its copy without long lines): does it show the end?"""
    found = [v for v in viewers(doc, ["lnav"]) if v.name == "lnav"]
    if not found:
        return None
    file = str(Path(doc["workspace"]) / "oos.log")
    viewer = Viewer("lnav", [found[0].argv[0], file], env=found[0].env)
    with Terminal() as term:
        got = open_viewer(term, viewer, doc["markers"]["oos"], timeout)
        if got["last_line"] is None:
            term.wait_for(lambda s: "GURU MEDITATION" in s, 5.0)
        crashed = "GURU MEDITATION" in term.capture()
    return {"file": file, "crashed": crashed, **got}


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__)
    parser.add_argument(
        "--tools",
        default=",".join(TOOLS),
        help=f"comma-separated, from {', '.join(TOOLS)} (default all; absent ones are skipped)",
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait per start")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="run oos-tui under py-spy and summarise where its time goes (inflates its times)",
    )
    args = parse_args(parser, argv)
    doc = load_workspace(args.workspace)
    runs = 1 if args.smoke else args.runs
    result: dict[str, Any] = {
        "what": "seconds from spawn in tmux 200x50 to the file's last line on screen",
        "load_before": uptime(),
        "runs": runs,
        "file_lines": doc["files"]["oos.log"]["lines"],
        "versions": versions(),
    }
    print(f"first screen: {doc['files']['oos.log']['lines']:,} lines, {runs} run(s); {uptime()}")
    tools = tool_list(args.tools)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    result["tools"] = measure(doc, tools, runs, args.timeout, args.profile)
    if "lnav" in tools and not common.LNAV_SAME_FILE and not args.smoke:
        result["lnav_same_file"] = probe = lnav_probe(doc, args.timeout)
        if probe is not None:
            verdict = "crashed" if probe["crashed"] else f"last line {fmt_s(probe['last_line'])}"
            print(f"lnav on oos.log itself (with its long lines): {verdict}")
    print(f"{'tool':<10} {'first frame':>14} {'first lines':>14} {'last line (min/med/max)':>28}")
    for name, res in result["tools"].items():
        last = res["last_line"]
        triple = (
            " / ".join(f"{last[k]:.2f}" for k in ("min", "median", "max")) + " s" if last else "-"
        )
        first, lines = fmt_seconds(res["first_frame"]), fmt_seconds(res["first_lines"])
        print(f"{name:<10} {first:>14} {lines:>14} {triple:>28}")
    if args.profile:
        result["profiles"] = {}
        for path in sorted(args.profile.glob("first_screen-*.txt")):
            result["profiles"][path.name] = {
                "all threads": profile_summary(path),
                "main thread": profile_summary(path, thread="MainThread"),
            }
            print(f"profile {path} (all threads):")
            print_profile(result["profiles"][path.name]["all threads"])
    emit(result, args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
