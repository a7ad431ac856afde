"""Pipeline jobs under ``out/``: stages, status, lineage and timeline, scanned incrementally.

Each ``out/<job-id>/`` holds one directory per stage (``NN_name/`` with a
``manifest.json`` and a ``stage.log``) and ``logs/*.log``, the pipeline log
(CONTRACT §2.4, §2.5). A :class:`JobScanner` is polled like a tailer: each
:meth:`JobScanner.scan` returns a frozen :class:`JobsSnapshot`, re-reading only
what changed since the last call. A :class:`JobInfo` that did not change is the
same object in the next snapshot, so a face can skip it with ``is``.

Status rules (:func:`derive_status`), first match wins:

1. ``running``: a stage's manifest says running or is being written, or the
   latest ``job … started`` in the pipeline log has no ``job … finished``
   after it, or (nothing else known: no manifest, no pipeline verdict) the job
   directory changed within the last ``recent_seconds``.
2. ``failed``: a stage's manifest says failed, or the pipeline log's latest
   verdict is failed.
3. ``success``: the pipeline log's latest verdict is success, or every stage
   succeeded or was skipped (and there is at least one stage).
4. ``incomplete``: none of these: the job stopped without a verdict (a stage
   without a manifest, a malformed manifest, an empty job directory).

Stages done/total: done counts stages whose manifest says success, skipped
or failed; total is the number of stage directories (``NN_`` prefix) on disk.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from oos_tui.clock import Clock, SystemClock
from oos_tui.config import Settings
from oos_tui.formats.manifest import ManifestError, parse_manifest, stage_order
from oos_tui.formats.pylog import PYLOG
from oos_tui.lineage import Lineage, normalize_path, resolve_lineage
from oos_tui.models import Event, Job, Stage, iso

__all__ = [
    "DONE_STATUSES",
    "FAILED",
    "INCOMPLETE",
    "RUNNING",
    "SUCCESS",
    "JobInfo",
    "JobScanner",
    "JobsSnapshot",
    "ScanCounters",
    "TimelineEntry",
    "derive_status",
    "is_stage_dir",
    "job_matches",
    "load_job",
    "parse_timeline_message",
]

RUNNING = "running"
FAILED = "failed"
SUCCESS = "success"
INCOMPLETE = "incomplete"

DONE_STATUSES: frozenset[str] = frozenset(("success", "skipped", "failed"))
"""Stage statuses counted as done in "stages done/total"."""

MIB = 1024 * 1024
"""Bytes in the manifests' ``size_mb`` (a producer computes it as bytes / 2**20)."""

_MAX_MANIFEST_BYTES = 16 * MIB
_LOG_CHUNK = MIB
_LOG_POLL_BYTES = 32 * MIB
_MAX_TIMELINE_PER_LOG = 5000
_MAX_FILES_PER_JOB = 10_000
_DIR_WALK_ENTRIES = 20_000
_SETTLED_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One record of a pipeline log, read as a step of the job's timeline.

    Attributes:
        ts: UTC epoch seconds of the record.
        kind: ``job_started``, ``job_finished``, ``stage_started``,
            ``stage_finished``, ``stage_failed``, or ``log`` for any other line.
        stage: The stage directory name (``05_asr``) of a stage transition.
        status: The verdict of ``job_finished`` (success, failed) or of
            ``stage_finished`` (success, skipped…), lower case.
        seconds: The duration a ``stage_finished`` reports.
        error: The error line a ``stage_failed`` reports.
        raw_message: The record's first line after level and logger (untrusted text).
        file: The log file it came from.
        line: Its 1-based line number there.
    """

    ts: float
    kind: str
    stage: str | None = None
    status: str | None = None
    seconds: float | None = None
    error: str | None = None
    raw_message: str = ""
    file: str | None = None
    line: int | None = None

    @property
    def is_transition(self) -> bool:
        """A job or stage transition (not an ordinary log line)."""
        return self.kind != "log"

    def to_json(self) -> dict[str, Any]:
        """One entry of ``timeline`` in ``jobs JOB_ID --json``."""
        return {
            "timestamp": iso(self.ts),
            "kind": self.kind,
            "stage": self.stage,
            "status": self.status,
            "seconds": self.seconds,
            "error": self.error,
            "message": self.raw_message,
            "file": self.file,
            "line": self.line,
        }


_JOB_RE = re.compile(
    r"job\s+(?P<id>\S+)\s+(?P<verb>started|finished)\b(?:\s*:\s*(?P<status>[A-Za-z_-]+))?",
    re.IGNORECASE,
)
_STAGE_RE = re.compile(
    r"stage\s+(?P<stage>\S+)\s+(?P<verb>started|finished|failed)\b(?P<rest>.*)", re.IGNORECASE
)
_FINISHED_REST = re.compile(
    r"\s*:?\s*(?P<status>(?!in\s)[A-Za-z_-]+)?"
    r"\s*(?:\bin\s+(?P<sec>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*s\b)?"
)
_VERDICTS = {
    "success": SUCCESS,
    "succeeded": SUCCESS,
    "successful": SUCCESS,
    "ok": SUCCESS,
    "completed": SUCCESS,
    "done": SUCCESS,
    "failed": FAILED,
    "failure": FAILED,
    "fail": FAILED,
    "error": FAILED,
    "errored": FAILED,
}
_QUOTES = "'\"<>`"


def parse_timeline_message(
    ts: float, message: str, file: str | None = None, line: int | None = None
) -> TimelineEntry:
    """Read one pipeline-log message as a timeline step; anything else is kind ``log``.

    Tolerant on purpose (case, quotes round names, extra words after the
    shapes), because the producer is another program: ``job <id> started``,
    ``stage <NN_name> started``, ``stage <NN_name> finished: <status> in
    <seconds>s``, ``stage <NN_name> failed: <error>``, ``job <id>
    finished: <success|failed>``.
    """
    first = message.split("\n", 1)[0]
    text = first.strip()
    m = _STAGE_RE.match(text)
    if m is not None:
        stage = m.group("stage").strip(_QUOTES) or None
        verb = m.group("verb").lower()
        rest = m.group("rest")
        if verb == "started":
            return TimelineEntry(ts, "stage_started", stage, None, None, None, first, file, line)
        if verb == "failed":
            error = rest.strip()
            error = error[1:].strip() if error.startswith(":") else error
            return TimelineEntry(
                ts, "stage_failed", stage, FAILED, None, error or None, first, file, line
            )
        f = _FINISHED_REST.match(rest)
        status = (f.group("status") or "").lower() if f else ""
        seconds = float(f.group("sec")) if f and f.group("sec") else None
        return TimelineEntry(
            ts, "stage_finished", stage, status or None, seconds, None, first, file, line
        )
    m = _JOB_RE.match(text)
    if m is not None:
        if m.group("verb").lower() == "started":
            return TimelineEntry(ts, "job_started", None, None, None, None, first, file, line)
        word = (m.group("status") or "").lower()
        verdict = _VERDICTS.get(word, word or None)
        return TimelineEntry(ts, "job_finished", None, verdict, None, None, first, file, line)
    return TimelineEntry(ts, "log", None, None, None, None, first, file, line)


def _last_run(timeline: Sequence[TimelineEntry]) -> tuple[TimelineEntry | None, int]:
    """The latest job-level entry and the index where the latest run starts."""
    verdict = None
    for entry in reversed(timeline):
        if entry.kind in ("job_started", "job_finished"):
            verdict = entry
            break
    start = 0
    for i in range(len(timeline) - 1, -1, -1):
        if timeline[i].kind == "job_started":
            start = i
            break
    return verdict, start


def derive_status(
    stages: Sequence[Stage], timeline: Sequence[TimelineEntry], recent: bool = False
) -> str:
    """A job's status from its stages and its pipeline log (rules in the module docstring).

    Args:
        stages: The job's stages; ``pending`` means a manifest is being written.
        timeline: The pipeline log's entries, in time order.
        recent: The job directory changed lately (used only when nothing else
            is known).
    """
    statuses = {s.status for s in stages}
    latest, _ = _last_run(timeline)
    if RUNNING in statuses or "pending" in statuses:
        return RUNNING
    if latest is not None and latest.kind == "job_started":
        return RUNNING
    known = any(s.status not in ("missing", "pending") for s in stages)
    if not known and latest is None and recent:
        return RUNNING
    if FAILED in statuses:
        return FAILED
    if latest is not None and latest.status == FAILED:
        return FAILED
    if latest is not None and latest.status == SUCCESS:
        return SUCCESS
    if stages and statuses <= {"success", "skipped"}:
        return SUCCESS
    return INCOMPLETE


@dataclass(frozen=True, slots=True)
class JobInfo:
    """Everything the console shows about one job, computed once per change.

    Attributes:
        job: The job and its stages in order (``NN_`` prefix, then name).
        stages_done: Stages whose manifest says success, skipped or failed.
        stages_total: Stage directories on disk.
        failed_stage: The first failed stage (by order; else the first the
            latest run's pipeline log reports failed), or None.
        duration_seconds: Finished minus started (pipeline log), else the
            extent of the stages' times; now minus started while running.
        timeline: The pipeline logs' entries merged by time.
        lineage: The stages' lineage, with files checked on disk.
        file_sizes: Bytes on disk of each normalised path the manifests list
            (None: not on disk); paths past the per-job budget are absent.
        pipeline_logs: Every ``logs/*.log`` of the job, oldest name first.
        mtime: The newest modification time seen in the job's directories.
        problems: What could not be read (one line each).
    """

    job: Job
    stages_done: int = 0
    stages_total: int = 0
    failed_stage: str | None = None
    duration_seconds: float | None = None
    timeline: tuple[TimelineEntry, ...] = ()
    lineage: Lineage = field(default_factory=Lineage)
    file_sizes: Mapping[str, int | None] = field(default_factory=dict)
    pipeline_logs: tuple[str, ...] = ()
    mtime: float = 0.0
    problems: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """The job's directory name."""
        return self.job.id

    @property
    def status(self) -> str:
        """running, failed, success or incomplete."""
        return self.job.status

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The stages in order."""
        return self.job.stages

    @property
    def sort_key(self) -> float:
        """Started time, else the directory's modification time: newest first sorts on it."""
        return self.job.started_at if self.job.started_at is not None else self.mtime

    def stage(self, name: str) -> Stage | None:
        """The stage of that directory name, if any."""
        for s in self.job.stages:
            if s.name == name:
                return s
        return None

    def summary_json(self) -> dict[str, Any]:
        """One line of ``jobs --json``."""
        j = self.job
        return {
            "id": j.id,
            "status": j.status,
            "stages_done": self.stages_done,
            "stages_total": self.stages_total,
            "failed_stage": self.failed_stage,
            "duration_seconds": _round(self.duration_seconds),
            "output_bytes": j.output_bytes,
            "started_at": _iso(j.started_at),
            "finished_at": _iso(j.finished_at),
            "path": j.path,
            "pipeline_log": j.pipeline_log,
            "problems": list(self.problems),
        }

    def stage_json(self, stage: Stage) -> dict[str, Any]:
        """One entry of ``stages`` in ``jobs JOB_ID --json``."""
        root = self.job.path
        producers = {(r.stage, r.path): r.producer for r in self.lineage.inputs}
        finals = {(r.stage, r.path): r.final for r in self.lineage.outputs}

        def one(f: Any, role: str) -> dict[str, Any]:
            path = normalize_path(f.path, root)
            size = self.file_sizes.get(path, -1)
            out: dict[str, Any] = {
                "path": f.path,
                "type": f.type,
                "format": f.format,
                "size_mb": f.size_mb,
                "size_bytes": size if size is not None and size >= 0 else None,
                "exists": None if size == -1 else size is not None,
            }
            if role == "input":
                out["producer"] = producers.get((stage.name, path))
                out["external"] = out["producer"] is None
            else:
                out["final"] = finals.get((stage.name, path), True)
            return out

        return {
            "name": stage.name,
            "order": stage.order,
            "stage": stage.stage,
            "status": stage.status,
            "started_at": _iso(stage.started_at),
            "duration_seconds": stage.duration_seconds,
            "inputs": [one(f, "input") for f in stage.inputs],
            "outputs": [one(f, "output") for f in stage.outputs],
            "error_count": len(stage.errors),
            "warning_count": len(stage.warnings),
            "errors": [dict(e) for e in stage.errors],
            "warnings": [dict(w) for w in stage.warnings],
            "resources": dict(stage.resources),
            "manifest_error": stage.manifest_error,
            "log_path": stage.log_path,
        }

    def detail_json(self) -> dict[str, Any]:
        """``jobs JOB_ID --json``: ``job``, ``stages``, ``lineage``, ``timeline``."""
        return {
            "job": self.summary_json(),
            "stages": [self.stage_json(s) for s in self.job.stages],
            "lineage": self.lineage.to_json(),
            "timeline": [e.to_json() for e in self.timeline],
        }


def _iso(ts: float | None) -> str | None:
    return None if ts is None else iso(ts)


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def job_matches(info: JobInfo, text: str) -> bool:
    """The list filter (``/`` in the console, ``--filter`` in the CLI).

    Every whitespace-separated word must occur, case-insensitively, in the
    job's id, its status or its failed stage.
    """
    words = text.lower().split()
    if not words:
        return True
    hay = f"{info.id} {info.status} {info.failed_stage or ''}".lower()
    return all(w in hay for w in words)


@dataclass(frozen=True, slots=True)
class JobsSnapshot:
    """One scan of ``out/``: the jobs newest first, and what could not be read.

    Attributes:
        jobs: Newest first, by started time (else directory modification time).
        scanned_at: When the scan ran (the scanner's clock).
        errors: One line per problem with ``out/`` itself.
        out_dir: The directory scanned.
        present: Whether it exists.
    """

    jobs: tuple[JobInfo, ...] = ()
    scanned_at: float = 0.0
    errors: tuple[str, ...] = ()
    out_dir: str = ""
    present: bool = False

    def get(self, job_id: str) -> JobInfo | None:
        """The job of that id, if listed."""
        for info in self.jobs:
            if info.id == job_id:
                return info
        return None


@dataclass(slots=True)
class ScanCounters:
    """Work done by a scanner since it was made: what makes a rescan cheap or not."""

    scans: int = 0
    manifest_reads: int = 0
    log_reads: int = 0
    log_bytes: int = 0
    dir_listings: int = 0
    file_stats: int = 0
    job_builds: int = 0


def is_stage_dir(name: str) -> bool:
    """``NN_name``: digits, an underscore, a name."""
    prefix, sep, rest = name.partition("_")
    return bool(sep and rest and prefix.isdigit() and prefix.isascii())


def _settled(st: os.stat_result) -> bool:
    # A directory modified within the filesystem's timestamp granularity may change
    # again without its mtime moving: such a listing is not trusted until it settles.
    return time.time() - st.st_mtime > _SETTLED_SECONDS


def _mtime_key(st: os.stat_result) -> tuple[int, int] | None:
    return (st.st_mtime_ns, st.st_ino) if _settled(st) else None


class _StageState:
    """One stage directory: its manifest's signature, last good parse and error grace."""

    __slots__ = (
        "current",
        "dir_key",
        "dir_mtime",
        "error",
        "error_scans",
        "error_since",
        "good",
        "log_path",
        "manifest",
        "name",
        "path",
        "sig",
        "stage_log",
    )

    def __init__(self, path: str) -> None:
        self.path = path
        self.name = os.path.basename(path)
        self.manifest = os.path.join(path, "manifest.json")
        self.stage_log = os.path.join(path, "stage.log")
        self.dir_key: tuple[int, int] | None = None
        self.dir_mtime = 0.0
        self.log_path: str | None = None
        self.sig: tuple[int, int, int] | None = None
        self.good: Stage | None = None
        self.error: str | None = None
        self.error_since = 0.0
        self.error_scans = 0
        self.current = self._bare("missing")

    def _bare(self, status: str, error: str | None = None) -> Stage:
        order, bare = stage_order(self.name)
        return Stage(self.name, order, bare, status, manifest_error=error, log_path=self.log_path)

    def refresh(self, now: float, grace: float, counters: ScanCounters) -> tuple[bool, bool]:
        """Look again; returns (the stage changed, the directory's contents changed)."""
        try:
            dst = os.stat(self.path)
        except OSError:
            return self._set(self._bare("missing")), True
        key = _mtime_key(dst)
        self.dir_mtime = dst.st_mtime
        dir_changed = key is None or key != self.dir_key
        changed = False
        if dir_changed:
            self.dir_key = key
            log_path = self.stage_log if os.path.isfile(self.stage_log) else None
            if log_path != self.log_path:
                self.log_path = log_path
                changed = True
                self.current = replace(self.current, log_path=log_path)
                if self.good is not None:
                    self.good = replace(self.good, log_path=log_path)
        manifest = self.manifest
        try:
            mst = os.stat(manifest)
        except OSError:
            self.sig = self.good = None
            self.error = None
            return self._set(self._bare("missing")) or changed, dir_changed
        sig = (mst.st_mtime_ns, mst.st_size, mst.st_ino)
        if sig == self.sig:
            if self.error is not None and self.current.status != "malformed":
                self.error_scans += 1
                if self.error_scans >= 2 and now - self.error_since >= grace:
                    changed = self._set(self._bare("malformed", self.error)) or changed
            return changed, dir_changed
        self.sig = sig
        counters.manifest_reads += 1
        try:
            stage = parse_manifest(self._read(manifest, mst), self.name)
        except ManifestError as exc:
            if exc.partial:
                self.error = exc.message
                self.error_since = now
                self.error_scans = 0
                shown = self.good or self._bare("pending")
                return self._set(shown) or changed, dir_changed
            self.error = exc.message
            return self._set(self._bare("malformed", exc.message)) or changed, dir_changed
        except FileNotFoundError:
            self.sig = None
            return self._set(self._bare("missing")) or changed, dir_changed
        except OSError as exc:
            self.error = f"cannot read manifest: {exc.strerror or exc}"
            return self._set(self._bare("malformed", self.error)) or changed, dir_changed
        self.error = None
        self.good = replace(stage, log_path=self.log_path)
        return self._set(self.good) or changed, dir_changed

    @staticmethod
    def _read(path: str, st: os.stat_result) -> bytes:
        if not stat.S_ISREG(st.st_mode):
            raise ManifestError("manifest.json is not a regular file")
        if st.st_size > _MAX_MANIFEST_BYTES:
            raise ManifestError(f"manifest larger than {_MAX_MANIFEST_BYTES // MIB} MB")
        with open(path, "rb") as fh:
            data = fh.read(_MAX_MANIFEST_BYTES + 1)
        if len(data) > _MAX_MANIFEST_BYTES:
            raise ManifestError(f"manifest larger than {_MAX_MANIFEST_BYTES // MIB} MB")
        return data

    def _set(self, stage: Stage) -> bool:
        if stage == self.current:
            return False
        self.current = stage
        return True


class _LogState:
    """One pipeline log, read from the last offset; restarted when truncated or replaced."""

    __slots__ = ("entries", "ident", "line_no", "offset", "path", "skipping")

    def __init__(self, path: str) -> None:
        self.path = path
        self.ident: tuple[int, int] | None = None
        self.offset = 0
        self.line_no = 0
        self.skipping = False
        self.entries: deque[TimelineEntry] = deque(maxlen=_MAX_TIMELINE_PER_LOG)

    def poll(self, counters: ScanCounters) -> bool:
        """Read what was appended; returns whether the entries changed."""
        st = os.stat(self.path)
        changed = False
        ident = (st.st_dev, st.st_ino)
        if ident != self.ident or st.st_size < self.offset:
            changed = bool(self.entries) or self.offset > 0
            self.ident = ident
            self.offset = self.line_no = 0
            self.skipping = False
            self.entries.clear()
        if st.st_size == self.offset or not stat.S_ISREG(st.st_mode):
            return changed
        counters.log_reads += 1
        budget = _LOG_POLL_BYTES
        name = self.path
        with open(self.path, "rb") as fh:
            while budget > 0:
                fh.seek(self.offset)
                data = fh.read(min(_LOG_CHUNK, budget))
                if not data:
                    break
                budget -= len(data)
                counters.log_bytes += len(data)
                end = data.rfind(b"\n")
                if end < 0:
                    if len(data) < _LOG_CHUNK:
                        break  # a line still being written
                    self.offset += len(data)
                    self.skipping = True
                    continue
                for raw in data[:end].split(b"\n"):
                    self.line_no += 1
                    if self.skipping:
                        self.skipping = False
                        continue
                    if self._take(raw, name):
                        changed = True
                self.offset += end + 1
                if len(data) < _LOG_CHUNK:
                    break
        return changed

    def _take(self, raw: bytes, name: str) -> bool:
        if raw[-1:] == b"\r":
            raw = raw[:-1]
        if not PYLOG.starts_record(raw):
            return False  # continuation lines (tracebacks) stay in the log itself
        ev = PYLOG.parse(raw, name, self.line_no)
        if not isinstance(ev, Event):
            return False
        self.entries.append(parse_timeline_message(ev.ts, ev.message, name, self.line_no))
        return True


class _JobState:
    """Caches for one job directory, and its last :class:`JobInfo`."""

    __slots__ = (
        "dir_key",
        "files",
        "files_dirty",
        "id",
        "info",
        "lineage_dirty",
        "log_states",
        "logs_dir",
        "logs_key",
        "path",
        "stages",
        "timeline",
    )

    def __init__(self, path: str) -> None:
        self.path = path
        self.id = os.path.basename(path)
        self.logs_dir = os.path.join(path, "logs")
        self.dir_key: tuple[int, int] | None = None
        self.logs_key: tuple[int, int] | None = None
        self.stages: dict[str, _StageState] = {}
        self.log_states: dict[str, _LogState] = {}
        self.timeline: tuple[TimelineEntry, ...] = ()
        self.files: dict[str, int | None] = {}
        self.files_dirty = True
        self.lineage_dirty = True
        self.info: JobInfo | None = None

    def refresh(
        self, st: os.stat_result, now: float, params: _Params, counters: ScanCounters
    ) -> JobInfo:
        """Look at the job again and return its info (the same object when nothing changed)."""
        problems: list[str] = []
        changed = self.info is None
        key = _mtime_key(st)
        mtime = st.st_mtime
        if key is None or key != self.dir_key:
            self.dir_key = key
            changed |= self._list(problems, counters)
        changed |= self._poll_logs(self.logs_dir, problems, counters)
        stages_changed = False
        for state in self.stages.values():
            stage_changed, dir_changed = state.refresh(now, params.grace, counters)
            stages_changed |= stage_changed
            self.files_dirty |= dir_changed
            mtime = max(mtime, state.dir_mtime)
        if stages_changed:
            self.files_dirty = self.lineage_dirty = True
            changed = True
        stages = tuple(self.stages[name].current for name in self.stages)
        running_hint = any(s.status in (RUNNING, "pending") for s in stages)
        if (
            self.files_dirty
            or running_hint
            or (self.info is not None and self.info.status == RUNNING)
        ):
            if self._stat_files(stages, counters):
                self.lineage_dirty = True
                changed = True
            self.files_dirty = False
        if problems:
            changed = True
        if not changed and self.info is not None and self.info.status != RUNNING:
            recent = now - mtime < params.recent
            if derive_status(stages, self.timeline, recent) == self.info.status:
                return self.info
        return self._build(stages, now, mtime, params, problems, counters)

    def _list(self, problems: list[str], counters: ScanCounters) -> bool:
        counters.dir_listings += 1
        names: list[str] = []
        try:
            with os.scandir(self.path) as it:
                for entry in it:
                    if is_stage_dir(entry.name):
                        try:
                            if entry.is_dir():
                                names.append(entry.name)
                        except OSError:
                            continue
        except OSError as exc:
            problems.append(f"cannot list {self.path}: {exc.strerror or exc}")
            self.dir_key = None
        names.sort(key=lambda n: (stage_order(n)[0], n))
        if list(self.stages) == names:
            return False
        old = self.stages
        self.stages = {n: old.get(n) or _StageState(os.path.join(self.path, n)) for n in names}
        self.files_dirty = self.lineage_dirty = True
        return True

    def _poll_logs(self, logs_dir: str, problems: list[str], counters: ScanCounters) -> bool:
        changed = False
        try:
            lst = os.stat(logs_dir)
        except OSError:
            lst = None
        if lst is None:
            if self.log_states:
                self.log_states = {}
                self.logs_key = None
                changed = True
        else:
            key = _mtime_key(lst)
            if key is None or key != self.logs_key:
                self.logs_key = key
                counters.dir_listings += 1
                names: list[str] = []
                try:
                    with os.scandir(logs_dir) as it:
                        names = sorted(e.name for e in it if e.name.endswith(".log"))
                except OSError as exc:
                    problems.append(f"cannot list {logs_dir}: {exc.strerror or exc}")
                    self.logs_key = None
                if names != list(self.log_states):
                    old = self.log_states
                    self.log_states = {
                        n: old.get(n) or _LogState(os.path.join(logs_dir, n)) for n in names
                    }
                    changed = True
        for name, log in list(self.log_states.items()):
            try:
                changed |= log.poll(counters)
            except FileNotFoundError:
                del self.log_states[name]
                self.logs_key = None
                changed = True
            except OSError as exc:
                problems.append(f"cannot read {log.path}: {exc.strerror or exc}")
        if changed:
            merged = [e for log in self.log_states.values() for e in log.entries]
            merged.sort(key=lambda e: e.ts)
            self.timeline = tuple(merged)
        return changed

    def _stat_files(self, stages: Iterable[Stage], counters: ScanCounters) -> bool:
        root = self.path
        paths: dict[str, None] = {}
        for s in stages:
            for f in (*s.inputs, *s.outputs):
                p = normalize_path(f.path, root)
                if p:
                    paths[p] = None
                if len(paths) >= _MAX_FILES_PER_JOB:
                    break
        sizes: dict[str, int | None] = {}
        for p in paths:
            counters.file_stats += 1
            sizes[p] = _size_on_disk(p if os.path.isabs(p) else os.path.join(root, p))
        if sizes == self.files:
            return False
        self.files = sizes
        return True

    def _build(
        self,
        stages: tuple[Stage, ...],
        now: float,
        mtime: float,
        params: _Params,
        problems: list[str],
        counters: ScanCounters,
    ) -> JobInfo:
        counters.job_builds += 1
        timeline = self.timeline
        status = derive_status(stages, timeline, now - mtime < params.recent)
        lineage = self.info.lineage if self.info is not None and not self.lineage_dirty else None
        if lineage is None:
            files = self.files
            lineage = resolve_lineage(stages, lambda p: files.get(p, 0) is not None, root=self.path)
            self.lineage_dirty = False
        started, finished, duration = _times(stages, timeline, status, now)
        failed_stage = next((s.name for s in stages if s.status == FAILED), None)
        if failed_stage is None:
            _, begin = _last_run(timeline)
            failed_stage = next(
                (e.stage for e in timeline[begin:] if e.kind == "stage_failed" and e.stage), None
            )
        output_bytes = _output_bytes(stages, self.files, self.path)
        logs = tuple(log.path for log in self.log_states.values())
        job = Job(
            id=self.id,
            path=self.path,
            status=status,
            stages=stages,
            started_at=started,
            finished_at=finished,
            output_bytes=output_bytes,
            pipeline_log=logs[-1] if logs else None,
        )
        info = JobInfo(
            job=job,
            stages_done=sum(1 for s in stages if s.status in DONE_STATUSES),
            stages_total=len(stages),
            failed_stage=failed_stage,
            duration_seconds=duration,
            timeline=timeline,
            lineage=lineage,
            file_sizes=MappingProxyType(dict(self.files)),
            pipeline_logs=logs,
            mtime=mtime,
            problems=tuple(problems),
        )
        if info == self.info and self.info is not None:
            return self.info
        self.info = info
        return info


def _size_on_disk(path: str) -> int | None:
    """Bytes of a file, or of the files under a directory (bounded walk); None when absent."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISDIR(st.st_mode):
        return st.st_size
    total = 0
    budget = _DIR_WALK_ENTRIES
    pending = [path]
    while pending and budget > 0:
        top = pending.pop()
        try:
            with os.scandir(top) as it:
                for entry in it:
                    budget -= 1
                    if budget <= 0:
                        break
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            pending.append(entry.path)
                        elif entry.is_file(follow_symlinks=False):
                            total += entry.stat(follow_symlinks=False).st_size
                    except OSError:
                        continue
        except OSError:
            continue
    return total


def _output_bytes(stages: Iterable[Stage], sizes: Mapping[str, int | None], root: str) -> int:
    seen: set[str] = set()
    total = 0
    for s in stages:
        for f in s.outputs:
            p = normalize_path(f.path, root)
            if not p or p in seen:
                continue
            seen.add(p)
            size = sizes.get(p)
            if size is not None:
                total += size
            elif f.size_mb is not None and f.size_mb > 0:
                total += int(f.size_mb * MIB)
    return total


def _times(
    stages: Sequence[Stage], timeline: Sequence[TimelineEntry], status: str, now: float
) -> tuple[float | None, float | None, float | None]:
    """(started, finished, duration) of the latest run."""
    latest, begin = _last_run(timeline)
    started: float | None = None
    finished: float | None = None
    if latest is not None:
        run = timeline[begin:]
        if run and run[0].kind == "job_started":
            started = run[0].ts
        finished = next((e.ts for e in run if e.kind == "job_finished"), None)
    starts = [s.started_at for s in stages if s.started_at is not None]
    ends = [
        s.started_at + s.duration_seconds
        for s in stages
        if s.started_at is not None and s.duration_seconds is not None
    ]
    if started is None and starts:
        started = min(starts)
    if status == RUNNING:
        return started, None, (max(0.0, now - started) if started is not None else None)
    if finished is None and ends:
        finished = max(ends)
    if started is not None and finished is not None:
        return started, finished, max(0.0, finished - started)
    durations = [s.duration_seconds for s in stages if s.duration_seconds is not None]
    return started, finished, (sum(durations) if durations else None)


@dataclass(frozen=True, slots=True)
class _Params:
    grace: float
    recent: float


class JobScanner:
    """Polls ``out/`` and returns a :class:`JobsSnapshot` per call, doing only what changed.

    Per scan, for each job: one ``stat`` of the job directory, of each stage
    directory, each ``manifest.json``, the ``logs/`` directory and each
    pipeline log. A directory is listed again only when its mtime moved (or
    it changed within the last second, when the mtime cannot be trusted); a
    manifest is read again only when its ``(mtime_ns, size, inode)`` changed;
    a pipeline log is read from the last offset (from the start after
    truncation or replacement); the files the manifests list are stat'ed
    again only when a stage directory or a manifest changed, or while the job
    runs. Not thread-safe: one scan at a time (run it in one worker).

    Args:
        settings: The workspace settings (``out_dir``).
        clock: The wall clock for durations and grace periods.
        max_jobs: Look only at this many job directories, the most recently
            modified (None: all).
        malformed_grace_seconds: How long a half-written manifest may stay
            unchanged (and over at least two scans) before it is reported
            as malformed.
        recent_seconds: A job with nothing else to go by is running while its
            directory changed within this many seconds.
    """

    def __init__(
        self,
        settings: Settings,
        clock: Clock | None = None,
        *,
        max_jobs: int | None = None,
        malformed_grace_seconds: float = 5.0,
        recent_seconds: float = 300.0,
    ) -> None:
        self.out_dir = settings.out_dir
        self.clock: Clock = clock or SystemClock()
        self.max_jobs = max_jobs
        self.counters = ScanCounters()
        self._params = _Params(malformed_grace_seconds, recent_seconds)
        self._jobs: dict[str, _JobState] = {}

    def scan(self) -> JobsSnapshot:
        """Look at ``out/`` again; a missing ``out/`` is an empty, error-free snapshot."""
        now = self.clock.now()
        self.counters.scans += 1
        out = str(self.out_dir)
        entries: list[tuple[str, os.stat_result]] = []
        try:
            with os.scandir(self.out_dir) as it:
                for entry in it:
                    if entry.name.startswith("."):
                        continue
                    try:
                        if entry.is_dir():
                            entries.append((entry.name, entry.stat()))
                    except OSError:
                        continue
        except FileNotFoundError:
            self._jobs.clear()
            return JobsSnapshot((), now, (), out, False)
        except OSError as exc:
            return JobsSnapshot((), now, (f"cannot list {out}: {exc.strerror or exc}",), out, True)
        if self.max_jobs is not None:
            entries.sort(key=lambda e: (e[1].st_mtime_ns, e[0]), reverse=True)
            entries = entries[: max(self.max_jobs, 0)]
        alive = {name for name, _ in entries}
        for gone in [name for name in self._jobs if name not in alive]:
            del self._jobs[gone]
        infos = []
        for name, st in entries:
            state = self._jobs.get(name)
            if state is None:
                state = self._jobs[name] = _JobState(os.path.join(out, name))
            infos.append(state.refresh(st, now, self._params, self.counters))
        infos.sort(key=lambda i: (i.sort_key, i.id), reverse=True)
        return JobsSnapshot(tuple(infos), now, (), out, True)


def _valid_job_id(job_id: str) -> bool:
    return bool(job_id) and job_id not in (".", "..") and not any(c in job_id for c in "/\\\0")


def load_job(
    settings: Settings,
    job_id: str,
    clock: Clock | None = None,
    *,
    malformed_grace_seconds: float = 5.0,
    recent_seconds: float = 300.0,
) -> JobInfo | None:
    """One job read once (the CLI's ``jobs JOB_ID``), or None when ``out/`` has no such job.

    A manifest being written is shown as pending, never as malformed: one
    look cannot tell it from a broken one.
    """
    if not _valid_job_id(job_id):
        return None
    path = settings.out_dir / job_id
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        return None
    now = (clock or SystemClock()).now()
    state = _JobState(str(path))
    return state.refresh(st, now, _Params(malformed_grace_seconds, recent_seconds), ScanCounters())
