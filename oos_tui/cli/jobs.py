"""``oos-tui jobs [JOB_ID]``: the jobs under ``out/``, or one job's stages, lineage and timeline."""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from oos_tui.cli._common import CliError, Output, UsageError, settings_from
from oos_tui.timeutil import format_duration
from oos_tui.units import format_bytes, format_mib

__all__ = ["register"]


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the ``jobs`` command."""
    p = sub.add_parser(
        "jobs",
        parents=[common],
        help="pipeline jobs: status, stages, lineage, timeline",
        description="Without JOB_ID, list the jobs under out/, newest first. With JOB_ID, "
        "show that job's stages in order, its lineage tree and its pipeline-log timeline.",
    )
    p.add_argument("job_id", nargs="?", metavar="JOB_ID", help="one job's directory name")
    p.add_argument("--json", action="store_true", help="one JSON object per job (or one object)")
    p.add_argument("--limit", type=int, metavar="N", default=None, help="list only the newest N")
    p.add_argument(
        "--filter",
        "-f",
        metavar="TEXT",
        default=None,
        help="list only jobs whose id, status or failed stage contain every word of TEXT",
    )
    p.set_defaults(handler=run)


def _when(ts: float | None, *, full: bool = True) -> str:
    if ts is None or not math.isfinite(ts):
        return "-"
    try:
        dt = datetime.fromtimestamp(ts, UTC)
    except (OverflowError, OSError, ValueError):
        return "-"
    if full:
        return dt.strftime("%Y-%m-%d %H:%M:%S")
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _seconds(seconds: float | None) -> str:
    """Stage durations: tenths below ten seconds, where pipeline stages often are."""
    if seconds is not None and math.isfinite(seconds) and 0 <= seconds < 10:
        return f"{seconds:.1f}s"
    return format_duration(seconds)


def run(args: argparse.Namespace) -> int:
    """List the jobs, or show one; exit 1 for an unknown JOB_ID, 0 without ``out/``."""
    if args.limit is not None and args.limit < 0:
        raise UsageError("--limit must be 0 or more")
    if args.job_id is not None and (args.limit is not None or args.filter is not None):
        raise UsageError("--limit and --filter apply to the list, not to one JOB_ID")
    settings = settings_from(args)
    out = Output(settings)
    if args.job_id is not None:
        _detail(args, settings, out)
    else:
        _list(args, settings, out)
    out.flush()
    return 0


def _list(args: argparse.Namespace, settings: Any, out: Output) -> None:
    from oos_tui.sources.jobs import JobScanner, job_matches

    snap = JobScanner(settings).scan()
    if snap.errors and not snap.jobs:
        raise CliError(snap.errors[0])
    jobs = [j for j in snap.jobs if args.filter is None or job_matches(j, args.filter)]
    if args.limit is not None:
        jobs = jobs[: args.limit]
    if args.json:
        out.json_many(j.summary_json() for j in jobs)
        return
    for err in snap.errors:
        out.text(f"! {err}")
    if not jobs:
        where = snap.out_dir if snap.present else f"{snap.out_dir} (not present)"
        out.text(f"no jobs under {where}")
        return
    ids = [out.safe(j.id) for j in jobs]
    failed = [out.safe(j.failed_stage or "-") for j in jobs]
    wid = min(max(len("JOB"), *(len(i) for i in ids)), 48)
    wfail = min(max(len("FAILED AT"), *(len(f) for f in failed)), 32)
    out.text(
        f"{'JOB':<{wid}}  {'STATUS':<10}  {'STAGES':>6}  {'FAILED AT':<{wfail}}  "
        f"{'DURATION':>8}  {'OUTPUT':>9}  STARTED"
    )
    for j, ident, fail in zip(jobs, ids, failed, strict=True):
        stages = f"{j.stages_done}/{j.stages_total}"
        out.text(
            f"{ident:<{wid}}  {j.status:<10}  {stages:>6}  {fail:<{wfail}}  "
            f"{format_duration(j.duration_seconds):>8}  {format_bytes(j.job.output_bytes):>9}  "
            f"{_when(j.job.started_at)}"
        )


def _detail(args: argparse.Namespace, settings: Any, out: Output) -> None:
    from oos_tui.sources.jobs import load_job

    info = load_job(settings, args.job_id)
    if info is None:
        raise CliError(f"no job {args.job_id} under {settings.out_dir}")
    if args.json:
        out.json(info.detail_json())
        return
    _print_detail(info, out)


def _resources(resources: Mapping[str, Any]) -> str:
    parts = []
    for key, value in resources.items():
        text = f"{value:g}" if isinstance(value, float) else str(value)
        parts.append(f"{key}={text[:40]}")
    return "  ".join(parts)


def _note(note: Mapping[str, Any]) -> str:
    message = note.get("message")
    text = message if isinstance(message, str) else str(dict(note))
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first[:200]


def _print_detail(info: Any, out: Output) -> None:
    from oos_tui.lineage import lineage_tree_all, normalize_path, render_tree

    job = info.job
    head = f"job       {job.id}  {job.status}  {info.stages_done}/{info.stages_total} stages"
    if info.failed_stage:
        head += f"  failed at {info.failed_stage}"
    out.text(head)
    out.text(
        f"started   {_when(job.started_at)}   finished {_when(job.finished_at)}   "
        f"duration {format_duration(info.duration_seconds)}"
    )
    out.text(f"outputs   {format_bytes(job.output_bytes)}")
    out.text(f"path      {job.path}")
    for log in info.pipeline_logs:
        out.text(f"pipeline  {log}")
    for problem in info.problems:
        out.text(f"! {problem}")

    out.text("")
    out.text("STAGES")
    if not job.stages:
        out.text("  (no stage directories yet)")
    producers = {(r.stage, r.path): r for r in info.lineage.inputs}
    readers = {(r.stage, r.path): r for r in info.lineage.outputs}
    for stage in job.stages:
        started = _when(stage.started_at)
        if started[:10] == _when(job.started_at)[:10]:
            started = started[11:]
        line = (
            f"{stage.name}  {stage.status}  {_seconds(stage.duration_seconds)}  started {started}"
            f"  errors {len(stage.errors)}  warnings {len(stage.warnings)}"
        )
        if stage.resources:
            line += f"  {_resources(stage.resources)}"
        out.text(line)
        if stage.manifest_error:
            out.text(f"  ! manifest: {stage.manifest_error}")
        for role, files in (("in ", stage.inputs), ("out", stage.outputs)):
            for f in files:
                path = normalize_path(f.path, job.path)
                size = info.file_sizes.get(path, -1)
                kind = "/".join(x for x in (f.type, f.format) if x) or "-"
                if size is not None and size >= 0:
                    shown = format_bytes(size)
                elif f.size_mb is not None:
                    shown = format_mib(f.size_mb)
                else:
                    shown = "-"
                link = ""
                if role == "in ":
                    ref = producers.get((stage.name, path))
                    if ref is not None:
                        link = f"← {ref.producer}" if ref.producer else "← external"
                else:
                    ref = readers.get((stage.name, path))
                    if ref is not None:
                        link = f"→ {', '.join(ref.consumers)}" if ref.consumers else "→ final"
                missing = "  ! missing" if size is None else ""
                out.text(f"  {role}  {f.path}  {kind}  {shown}  {link}{missing}".rstrip())
        for note in stage.errors[:3]:
            out.text(f"  ! error: {_note(note)}")
        if len(stage.errors) > 3:
            out.text(f"  ! … {len(stage.errors) - 3} more errors")
        for note in stage.warnings[:3]:
            out.text(f"  ~ warning: {_note(note)}")
        if len(stage.warnings) > 3:
            out.text(f"  ~ … {len(stage.warnings) - 3} more warnings")
        if stage.log_path:
            out.text(f"  log  {stage.log_path}")

    out.text("")
    out.text("LINEAGE")
    for line in render_tree(lineage_tree_all(info.lineage), show_root=False):
        out.text(line)
    for problem in info.lineage.problems:
        out.text(f"! {problem.kind}: {problem.message}")

    out.text("")
    out.text("TIMELINE")
    if not info.timeline:
        out.text("  (no pipeline log)")
    for entry in info.timeline:
        out.text(f"{_when(entry.ts, full=False)}  {entry.kind:<14}  {entry.raw_message}")
