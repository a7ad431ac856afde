"""Pipeline jobs under ``out/<job-id>/``: stage directories, manifests, stage and pipeline logs.

Each job runs its stages in order on simulated time. A stage announces itself
with a ``running`` manifest, writes progress to its ``stage.log``, and ends
with real output files and a final manifest whose inputs name earlier stages'
outputs (the lineage) or external files (marked ``"external": true``, with an
absolute path). The external files exist: the incoming media of each job and
the models and prompts the stages use live under ``WORKSPACE/inputs/``. A
stage may fail: its ``stage.log`` gets the traceback, its manifest the error,
and the job stops there.

The pipeline log ``logs/99_pipeline_<ts>.log`` holds exactly these messages,
which the console's jobs view parses::

    job <job-id> started
    stage <NN_name> started
    stage <NN_name> finished: <status> in <seconds>s
    stage <NN_name> failed: <error first line>
    job <job-id> finished: <success|failed>

Manifests are replaced atomically (temporary name, then rename), except that
about one final manifest in ten is written in two steps some ticks apart, so
the console meets "a manifest being written" for real.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oos_tui.demo.catalog import SOURCES
from oos_tui.demo.rotation import LogFile
from oos_tui.formats.base import format_ts
from oos_tui.formats.manifest import write_manifest
from oos_tui.formats.pylog import write_record

__all__ = ["JOB_ID", "STAGES", "JobRunner", "StageSpec"]

JOB_ID = re.compile(r"job-\d{8}-\d{6}-[0-9a-f]{4}")
"""The shape of the job directories this runner creates (and alone may prune)."""

JobEvent = Callable[[float, str, str, str, Mapping[str, Any]], None]
"""``(t, event_type, severity, job_id, data)``: tells the store what a job did."""


@dataclass(frozen=True, slots=True)
class StageSpec:
    """One stage: its directory, nominal duration, inputs and outputs.

    Inputs are ``"NN_name/file"`` (an earlier stage's output) or a mapping for
    an external file. Outputs are ``(file, type, format)``.
    """

    dir: str
    duration: tuple[float, float]
    inputs: tuple[str | Mapping[str, Any], ...]
    outputs: tuple[tuple[str, str, str], ...]
    config: Mapping[str, Any]
    progress: tuple[str, ...]
    errors: tuple[tuple[str, str], ...]


def _external(path: str, kind: str, fmt: str) -> dict[str, Any]:
    return {"path": path, "type": kind, "format": fmt, "external": True}


STAGES: tuple[StageSpec, ...] = (
    StageSpec(
        "01_demux",
        (2.0, 5.0),
        (_external("{inputs}/media/{job}.mp4", "video", "mp4"),),
        (("audio.wav", "audio", "wav"), ("meta.json", "metadata", "json")),
        {"ffmpeg": "6.1", "audio_track": 0},
        ("demuxed {n} packets", "extracted audio track 0 (aac, 44100 Hz, stereo)"),
        (
            (
                "FFmpegError: ffmpeg exited with code 1: Invalid data found when processing input",
                "demux.py",
            ),
        ),
    ),
    StageSpec(
        "02_normalize",
        (2.0, 4.0),
        ("01_demux/audio.wav",),
        (("audio_16k.wav", "audio", "wav"),),
        {"sample_rate": 16000, "target_lufs": -23.0},
        ("loudness -{n}.4 LUFS -> -23.0 LUFS", "resampled to 16 kHz mono"),
        (("SoxError: clipping in {n} samples exceeds the limit", "normalize.py"),),
    ),
    StageSpec(
        "03_vad",
        (2.0, 5.0),
        ("02_normalize/audio_16k.wav",),
        (("speech.json", "segments", "json"),),
        {"model": "silero-vad-v5", "threshold": 0.5},
        ("speech ratio 0.{n}", "merged {n} speech regions"),
        (("ValueError: no speech found in 02_normalize/audio_16k.wav", "vad.py"),),
    ),
    StageSpec(
        "04_diarize",
        (4.0, 10.0),
        (
            "02_normalize/audio_16k.wav",
            "03_vad/speech.json",
            _external("{inputs}/models/pyannote-3.1", "model", "dir"),
        ),
        (("speakers.rttm", "diarization", "rttm"),),
        {"min_speakers": 1, "max_speakers": 6},
        ("found {n} speaker turns", "clustering embeddings ({n} windows)"),
        (("RuntimeError: CUDA out of memory. Tried to allocate 1.50 GiB", "diarize.py"),),
    ),
    StageSpec(
        "05_asr",
        (6.0, 15.0),
        (
            "02_normalize/audio_16k.wav",
            "04_diarize/speakers.rttm",
            _external("{inputs}/models/whisper-large-v3", "model", "dir"),
        ),
        (("segments.json", "transcript", "json"), ("transcript.txt", "transcript", "txt")),
        {"model": "whisper-large-v3", "beam_size": 5, "language": "auto"},
        ("transcribed chunk {n}/40 (rtf 0.2)", "language detected: en (p=0.9{n})"),
        (
            ("RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB", "asr.py"),
            ("TimeoutError: asr-api.internal:8443 read timed out after 600s", "asr.py"),
        ),
    ),
    StageSpec(
        "06_summarize",
        (3.0, 8.0),
        (
            "05_asr/transcript.txt",
            _external("{inputs}/prompts/summary_v3.txt", "prompt", "txt"),
        ),
        (("summary.json", "summary", "json"),),
        {"model": "gpt-4o-mini", "max_tokens": 800},
        ("prompt tokens {n}31, completion tokens {n}2", "summary language: en"),
        (("RateLimitError: 429 rate limit exceeded for model gpt-4o-mini", "summarize.py"),),
    ),
    StageSpec(
        "07_publish",
        (1.0, 3.0),
        ("06_summarize/summary.json", "01_demux/meta.json"),
        (("post.json", "publication", "json"),),
        {"target": "https://cms.example.com/api/posts"},
        ("POST https://cms.example.com/api/posts 201 ({n}12 ms)",),
        (("HTTPError: 502 Bad Gateway for url: https://cms.example.com/api/posts", "publish.py"),),
    ),
)
"""The stages of every job, in order."""

_MAX_RUNNING = 3
_STAGE_FAIL_P = 0.04
_TWO_STEP_P = 0.1
_TWO_STEP_PAUSE = 0.5  # wall seconds between the halves when paced
_JOB_GAP = (15.0, 30.0)
_MIN_JOB_GAP = 2.0  # simulated seconds: at high speeds, jobs stay a view's worth, not a flood
_PROGRESS_GAP = (1.5, 3.0)


@dataclass
class _Job:
    id: str
    dir: Path
    item: str
    started: float
    pipeline: LogFile
    stage: int = -1
    stage_log: LogFile | None = None
    stage_started: float = 0.0
    stage_ends: float = 0.0
    stage_fails: bool = False
    next_progress: float = 0.0
    progress: int = 0
    outputs: dict[str, tuple[str, str, float]] = field(default_factory=dict)


@dataclass
class _HalfWritten:
    due_tick: int
    fd: int
    rest: bytes
    job: str


def _traceback(first: str, module: str, line: int) -> str:
    exc = first.split(":", 1)[0]
    return (
        "Traceback (most recent call last):\n"
        f'  File "/opt/oos/pipeline/stages/{module}", line {line}, in run\n'
        "    result = self.process(inputs)\n"
        f'  File "/opt/oos/pipeline/stages/{module}", line {line + 37}, in process\n'
        f"    raise {exc}(detail)\n"
        f"{first}"
    )


class JobRunner:
    """Starts, advances and finishes jobs on simulated time.

    Args:
        out_dir: ``WORKSPACE/out``.
        inputs_dir: ``WORKSPACE/inputs``: the jobs' external files.
        rng: The jobs' own random stream (seeded).
        speed: Stage durations and the gap between jobs are divided by it.
        rate: Ticks per second; sets how many ticks a two-step manifest waits.
        keep: Job directories kept (the oldest finished ones are removed).
        on_event: Told when a job starts and ends, to record it in the store.
    """

    def __init__(
        self,
        out_dir: Path,
        inputs_dir: Path,
        rng: random.Random,
        *,
        speed: float,
        rate: float,
        keep: int,
        on_event: JobEvent,
    ) -> None:
        self.out_dir = out_dir
        self.inputs_dir = inputs_dir
        self._rng = rng
        self._speed = speed
        self._pause_ticks = max(1, round(rate * _TWO_STEP_PAUSE))
        self._keep = keep
        self._on_event = on_event
        self._running: list[_Job] = []
        self._half: list[_HalfWritten] = []
        self._next_job: float | None = None
        self.started = 0
        self.finished: dict[str, int] = {"success": 0, "failed": 0}
        out_dir.mkdir(parents=True, exist_ok=True)
        self._prepare_inputs()

    def _prepare_inputs(self) -> None:
        """The models and the prompt every job reads, made once."""
        for model in ("pyannote-3.1", "whisper-large-v3"):
            directory = self.inputs_dir / "models" / model
            directory.mkdir(parents=True, exist_ok=True)
            config = directory / "config.json"
            if not config.exists():
                config.write_bytes(b'{"name": "%s", "revision": "demo"}\n' % model.encode())
        prompt = self.inputs_dir / "prompts" / "summary_v3.txt"
        if not prompt.exists():
            prompt.parent.mkdir(parents=True, exist_ok=True)
            prompt.write_text("Summarise the transcript in five sentences for a newsletter.\n")
        (self.inputs_dir / "media").mkdir(parents=True, exist_ok=True)

    def _scaled(self, low: float, high: float) -> float:
        return self._rng.uniform(low, high) / self._speed

    def step(self, t: float, tick: int) -> None:
        """Advance every job to simulated time ``t``."""
        if self._half:
            self._finish_half_written(tick)
        if self._next_job is None:
            self._next_job = t
        if t >= self._next_job:
            self._next_job = t + max(self._scaled(*_JOB_GAP), _MIN_JOB_GAP)
            if len(self._running) < _MAX_RUNNING:
                self._start_job(t)
        for job in list(self._running):
            if t >= job.stage_ends:
                self._end_stage(job, t, tick)
            elif t >= job.next_progress:
                self._progress(job, t)

    # -- job lifecycle ----------------------------------------------------

    def _start_job(self, t: float) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(t))
        job_id = f"job-{stamp}-{self._rng.getrandbits(16):04x}"
        job_dir = self.out_dir / job_id
        while job_dir.exists():
            job_id = f"job-{stamp}-{self._rng.getrandbits(16):04x}"
            job_dir = self.out_dir / job_id
        source = self._rng.choice(SOURCES)
        item = f"{source.name}_{self._rng.randrange(1, 100000):05d}"
        log_name = "99_pipeline_" + time.strftime("%Y%m%d_%H%M%S", time.gmtime(t)) + ".log"
        media = self.inputs_dir / "media" / f"{job_id}.mp4"
        media.write_bytes(b"\x00\x00\x00\x18ftypmp42" + self._rng.randbytes(16 * 1024))
        job = _Job(job_id, job_dir, item, t, LogFile(job_dir / "logs" / log_name))
        self._running.append(job)
        self.started += 1
        job.pipeline.write(write_record(t, "INFO", f"job {job_id} started", "oos.pipeline"), t)
        self._on_event(t, "job_started", "info", job_id, {"item_id": item})
        self._start_stage(job, t)
        self._prune()

    def _finish_job(self, job: _Job, t: float, status: str, error: str | None) -> None:
        message = f"job {job.id} finished: {status}"
        level = "INFO" if status == "success" else "ERROR"
        job.pipeline.write(write_record(t, level, message, "oos.pipeline"), t)
        job.pipeline.close()
        self._running.remove(job)
        self.finished[status] += 1
        data: dict[str, Any] = {"item_id": job.item, "seconds": round(t - job.started, 3)}
        if error:
            data["error"] = error
            data["stage"] = STAGES[job.stage].dir
        severity = "info" if status == "success" else "error"
        self._on_event(
            t, "job_finished" if status == "success" else "job_failed", severity, job.id, data
        )

    def _prune(self) -> None:
        keep_alive = {j.id for j in self._running} | {h.job for h in self._half}
        try:
            names = sorted(
                p.name for p in self.out_dir.iterdir() if JOB_ID.fullmatch(p.name) and p.is_dir()
            )
        except OSError:
            return
        removable = [n for n in names if n not in keep_alive]
        for name in removable[: max(0, len(names) - self._keep)]:
            shutil.rmtree(self.out_dir / name, ignore_errors=True)
            with contextlib.suppress(FileNotFoundError):
                (self.inputs_dir / "media" / f"{name}.mp4").unlink()

    # -- stages -----------------------------------------------------------

    def _start_stage(self, job: _Job, t: float) -> None:
        job.stage += 1
        spec = STAGES[job.stage]
        stage_dir = job.dir / spec.dir
        stage_dir.mkdir(parents=True, exist_ok=True)
        job.stage_log = LogFile(stage_dir / "stage.log")
        job.stage_started = t
        job.stage_ends = t + self._scaled(*spec.duration)
        job.stage_fails = self._rng.random() < _STAGE_FAIL_P
        job.progress = 0
        job.next_progress = t + self._scaled(*_PROGRESS_GAP)
        logger = f"oos.stage.{spec.dir[3:]}"
        job.stage_log.write(
            write_record(t, "INFO", f"starting {spec.dir} for {job.item}", logger), t
        )
        job.pipeline.write(write_record(t, "INFO", f"stage {spec.dir} started", "oos.pipeline"), t)
        manifest = write_manifest(
            spec.dir[3:],
            "running",
            t,
            None,
            self._inputs(job, spec),
            [],
            config=dict(spec.config, item_id=job.item),
        )
        self._replace(stage_dir / "manifest.json", manifest)

    def _inputs(self, job: _Job, spec: StageSpec) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for item in spec.inputs:
            if isinstance(item, str):
                kind, fmt, size = job.outputs.get(item, ("file", item.rsplit(".", 1)[-1], 0.0))
                out.append({"path": item, "type": kind, "format": fmt, "size_mb": size})
            else:
                path = str(item["path"]).format(inputs=self.inputs_dir, job=job.id)
                entry = {**item, "path": path}
                if item.get("format") == "mp4":
                    entry["size_mb"] = round(os.path.getsize(path) / (1024 * 1024), 6)
                out.append(entry)
        return out

    def _progress(self, job: _Job, t: float) -> None:
        spec = STAGES[job.stage]
        assert job.stage_log is not None
        logger = f"oos.stage.{spec.dir[3:]}"
        job.progress += 1
        roll = self._rng.random()
        if roll < 0.08:
            first = "TimeoutError: read timed out"
            message = "retrying after a transient error:\n" + _traceback(
                first, spec.dir[3:] + ".py", 100 + self._rng.randrange(300)
            )
            record = write_record(t, "WARNING", message, logger)
        elif roll < 0.2:
            at = self._rng.uniform(1, 3000)
            record = write_record(t, "WARNING", f"low confidence at {at:.1f}s (0.41)", logger)
        else:
            text = self._rng.choice(spec.progress).format(n=self._rng.randrange(1, 10))
            record = write_record(t, "DEBUG" if roll > 0.9 else "INFO", text, logger)
        job.stage_log.write(record, t)
        job.next_progress = t + self._scaled(*_PROGRESS_GAP)

    def _end_stage(self, job: _Job, t: float, tick: int) -> None:
        spec = STAGES[job.stage]
        stage_dir = job.dir / spec.dir
        logger = f"oos.stage.{spec.dir[3:]}"
        seconds = t - job.stage_started
        log = job.stage_log
        assert log is not None
        resources: dict[str, Any] = {
            "cpu_percent": round(self._rng.uniform(20, 390), 1),
            "memory_mb": self._rng.randrange(200, 6000),
        }
        if spec.dir in ("04_diarize", "05_asr"):
            resources["gpu_memory_mb"] = self._rng.randrange(2000, 15000)
        warnings = []
        if self._rng.random() < 0.15:
            warnings.append({"at": format_ts(t), "message": "input shorter than expected"})
        if job.stage_fails:
            first, module = self._rng.choice(spec.errors)
            first = first.format(n=self._rng.randrange(2, 900))
            trace = _traceback(first, module, 40 + self._rng.randrange(400))
            log.write(write_record(t, "ERROR", f"stage failed: {first}\n{trace}", logger), t)
            manifest = write_manifest(
                spec.dir[3:],
                "failed",
                job.stage_started,
                round(seconds, 3),
                self._inputs(job, spec),
                [],
                config=dict(spec.config, item_id=job.item),
                resources=resources,
                errors=[{"at": format_ts(t), "message": first, "traceback": trace}],
                warnings=warnings,
            )
            self._write_final(job, stage_dir / "manifest.json", manifest, tick)
            log.close()
            job.pipeline.write(
                write_record(t, "ERROR", f"stage {spec.dir} failed: {first}", "oos.pipeline"), t
            )
            self._finish_job(job, t, "failed", first)
            return
        outputs = []
        for name, kind, fmt in spec.outputs:
            rel = f"{spec.dir}/{name}"
            size = self._write_output(stage_dir / name, fmt)
            size_mb = round(size / (1024 * 1024), 6)
            job.outputs[rel] = (kind, fmt, size_mb)
            outputs.append({"path": rel, "type": kind, "format": fmt, "size_mb": size_mb})
        log.write(write_record(t, "INFO", f"finished {spec.dir} in {seconds:.3f}s", logger), t)
        manifest = write_manifest(
            spec.dir[3:],
            "success",
            job.stage_started,
            round(seconds, 3),
            self._inputs(job, spec),
            outputs,
            intermediate_files=[f"{spec.dir}/tmp/chunk_{i:03d}.bin" for i in range(2)],
            config=dict(spec.config, item_id=job.item),
            resources=resources,
            warnings=warnings,
        )
        self._write_final(job, stage_dir / "manifest.json", manifest, tick)
        log.close()
        job.pipeline.write(
            write_record(
                t, "INFO", f"stage {spec.dir} finished: success in {seconds:.3f}s", "oos.pipeline"
            ),
            t,
        )
        if job.stage + 1 < len(STAGES):
            self._start_stage(job, t)
        else:
            self._finish_job(job, t, "success", None)

    def _write_output(self, path: Path, fmt: str) -> int:
        size = self._rng.randrange(1024, 48 * 1024)
        if fmt in ("json", "txt", "rttm"):
            line = b'{"segment": 0, "text": "and that is why the model drifted"}\n'
            data = (line * (size // len(line) + 1))[:size]
        else:
            data = b"RIFF" + self._rng.randbytes(size - 4)
        path.write_bytes(data)
        return size

    # -- manifest writing -------------------------------------------------

    @staticmethod
    def _replace(path: Path, data: bytes) -> None:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def _write_final(self, job: _Job, path: Path, data: bytes, tick: int) -> None:
        if self._rng.random() >= _TWO_STEP_P:
            self._replace(path, data)
            return
        # In place, in two writes: a reader in between sees JSON that ends early.
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o644)
        half = len(data) // 2
        os.write(fd, data[:half])
        self._half.append(_HalfWritten(tick + self._pause_ticks, fd, data[half:], job.id))

    def _finish_half_written(self, tick: int) -> None:
        waiting = []
        for half in self._half:
            if tick >= half.due_tick:
                self._complete(half)
            else:
                waiting.append(half)
        self._half = waiting

    @staticmethod
    def _complete(half: _HalfWritten) -> None:
        try:
            view = memoryview(half.rest)
            while view:
                view = view[os.write(half.fd, view) :]
        finally:
            os.close(half.fd)

    def close(self) -> None:
        """Complete every manifest still half-written and close the logs.

        Running jobs stay ``running`` on disk, as after a pipeline that stopped.
        """
        for half in self._half:
            self._complete(half)
        self._half = []
        for job in self._running:
            with contextlib.suppress(OSError):
                job.pipeline.close()
                if job.stage_log is not None:
                    job.stage_log.close()

    def running(self) -> int:
        """Jobs in progress."""
        return len(self._running)
