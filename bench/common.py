"""Shared helpers of the benchmark scripts: statistics, a tmux terminal, process sampling, tools.

Also the report step of ``run_all.sh``: ``python bench/common.py report DIR``
combines the scripts' JSON results in ``DIR`` into ``results-<date>.json`` and
a markdown table ``results-<date>.md`` beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import select
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / ".work"
SCRATCH = Path(os.environ.get("OOS_BENCH_SCRATCH") or WORK)
"""Where copies of files being measured go (follow, soak, action); the smoke test moves it."""
RESULTS = BENCH / "results"
DEFAULT_WS = WORK / "ws"
TOOLONG_VENV = WORK / "toolong-venv"
LNAV_HOME = WORK / "lnav-home"
LNAV_FORMATS = BENCH / "lnav"
WIDTH, HEIGHT = 200, 50
TOOLS = ("ours", "ours-solo", "toolong", "lnav", "tail")
COMPARISONS = ("toolong", "lnav", "tail")
SMOKE = False
"""``--smoke`` was given: one short run, figures meaningless."""
SETTLE_CAP = float("inf")
"""The most any wait for a tool to settle may take (a few seconds under ``--smoke``)."""

# -- statistics ----------------------------------------------------------------


def summary(values: Iterable[float]) -> dict[str, Any] | None:
    """``{"n", "min", "median", "max", "values"}`` of the values, or None when there are none."""
    vals = [float(v) for v in values]
    if not vals:
        return None
    return {
        "n": len(vals),
        "min": min(vals),
        "median": statistics.median(vals),
        "max": max(vals),
        "values": vals,
    }


def percentile(sorted_vals: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of sorted values, linearly interpolated."""
    if not sorted_vals:
        return float("nan")
    pos = (len(sorted_vals) - 1) * q
    low = int(pos)
    high = min(low + 1, len(sorted_vals) - 1)
    return sorted_vals[low] + (sorted_vals[high] - sorted_vals[low]) * (pos - low)


def latency_summary(values: Iterable[float]) -> dict[str, Any] | None:
    """``{"n", "p50", "p95", "max"}`` of latencies, or None when there are none."""
    vals = sorted(float(v) for v in values)
    if not vals:
        return None
    return {
        "n": len(vals),
        "p50": percentile(vals, 0.5),
        "p95": percentile(vals, 0.95),
        "max": vals[-1],
    }


def fmt_s(value: float | None) -> str:
    """A time in seconds (milliseconds under one second); ``-`` for None."""
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def fmt_seconds(stats: dict[str, Any] | None, key: str = "median") -> str:
    """One statistic of a :func:`summary` as :func:`fmt_s` shows it."""
    return fmt_s(None if not stats else stats.get(key))


def fmt_triple(stats: dict[str, Any] | None, scale: float = 1.0, unit: str = "s") -> str:
    """``min / median / max`` for a table cell."""
    if not stats:
        return "-"
    parts = [stats["min"] * scale, stats["median"] * scale, stats["max"] * scale]
    digits = 0 if unit in ("ms", "MB", "%") else 2
    return " / ".join(f"{v:.{digits}f}" for v in parts) + f" {unit}"


# -- tools ---------------------------------------------------------------------


def oos_tui_bin() -> str:
    """The ``oos-tui`` of this Python's environment (else the one on PATH)."""
    local = Path(sys.executable).parent / "oos-tui"
    if local.exists():
        return str(local)
    found = shutil.which("oos-tui")
    if found is None:
        raise SystemExit("oos-tui not found: run the benchmarks with the project's Python")
    return found


def toolong_bin() -> str | None:
    """Toolong's ``tl``: from ``bench/.work/toolong-venv`` (see bench/README.md), else PATH."""
    local = TOOLONG_VENV / "bin" / "tl"
    if local.exists():
        return str(local)
    return shutil.which("tl")


def lnav_bin() -> str | None:
    """lnav (Debian package ``lnav``), or None."""
    return shutil.which("lnav")


def rg_bin() -> str | None:
    """ripgrep (Debian package ``ripgrep``), or None."""
    return shutil.which("rg")


def tmux_bin() -> str:
    """tmux; every terminal measurement needs it (Debian package ``tmux``)."""
    found = shutil.which("tmux")
    if found is None:
        raise SystemExit("tmux is required: apt-get install -y tmux")
    return found


def lnav_env() -> dict[str, str]:
    """lnav's environment: a private HOME under bench/.work with our format files installed."""
    installed = LNAV_HOME / ".lnav" / "formats" / "installed"
    for fmt in sorted(LNAV_FORMATS.glob("*.json")):
        target = installed / fmt.name
        if not target.exists() or target.read_bytes() != fmt.read_bytes():
            lnav = lnav_bin()
            if lnav is None:
                break
            LNAV_HOME.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [lnav, "-i", str(fmt)],
                env={**os.environ, "HOME": str(LNAV_HOME)},
                capture_output=True,
                check=True,
            )
    return {"HOME": str(LNAV_HOME)}


def _first_line(argv: Sequence[str], env: dict[str, str] | None = None) -> str | None:
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=30, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else None


def versions() -> dict[str, Any]:
    """Machine, date, load and the version of every tool measured (under ``--smoke``: less).

    Asking every tool its version costs a few seconds of CPU (Toolong starts
    Python twice), which the smoke test cannot spare.
    """
    import textual

    if SMOKE:
        return {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "load": uptime(), "smoke": True}

    tl = toolong_bin()
    lnav = lnav_bin()
    rg = rg_bin()
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    out: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": {
            "cpu": cpu,
            "cores": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "kernel": platform.release(),
        },
        "load": uptime(),
        "python": sys.version.split()[0],
        "textual": textual.__version__,
        "oos-tui": _first_line([oos_tui_bin(), "--version"]),
        "toolong": _first_line([tl, "--version"]) if tl else None,
        "toolong_textual": None,
        "lnav": _first_line([lnav, "-V"]) if lnav else None,
        "rg": _first_line([rg, "--version"]) if rg else None,
        "tmux": _first_line([tmux_bin(), "-V"]),
        "tail": _first_line(["tail", "--version"]),
    }
    if tl and Path(tl).parent.joinpath("python").exists():
        out["toolong_textual"] = _first_line(
            [
                str(Path(tl).parent / "python"),
                "-c",
                "import textual; print(textual.__version__)",
            ]
        )
    return out


def uptime() -> str:
    """The load averages as ``uptime`` prints them."""
    one, five, fifteen = os.getloadavg()
    return f"load average: {one:.2f}, {five:.2f}, {fifteen:.2f}"


# -- the workspace -------------------------------------------------------------


def load_workspace(path: Path) -> dict[str, Any]:
    """The manifest ``bench/make_workspace.py`` left in ``path``."""
    try:
        doc: dict[str, Any] = json.loads((path / "bench-workspace.json").read_text())
    except (OSError, ValueError):
        raise SystemExit(
            f"{path} is not a benchmark workspace: run bench/make_workspace.py --out {path}"
        ) from None
    return doc


def warm(path: Path) -> None:
    """Read a file once so every tool finds it in the page cache alike."""
    with open(path, "rb") as fh:
        while fh.read(1 << 22):
            pass


# -- processes -----------------------------------------------------------------


class ProcTree:
    """A process and its descendants: resident memory and CPU time (psutil)."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)

    def _procs(self) -> list[Any]:
        try:
            return [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return []

    def alive(self) -> bool:
        """Whether the root process still runs."""
        return _running(self.root)

    def rss(self) -> int:
        """Resident bytes of the whole tree."""
        total = 0
        for proc in self._procs():
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                pass  # it ended between listing and reading: nothing left to count
        return total

    def cpu(self) -> float:
        """CPU seconds (user + system) used by the tree so far, reaped children included."""
        total = 0.0
        for proc in self._procs():
            try:
                t = proc.cpu_times()
            except psutil.Error:
                continue
            total += t.user + t.system + t.children_user + t.children_system
        return total

    def cpu_percent(self, seconds: float) -> float:
        """CPU % of one core used by the tree over the next ``seconds``."""
        c0, t0 = self.cpu(), time.monotonic()
        time.sleep(seconds)
        return 100.0 * (self.cpu() - c0) / max(1e-9, time.monotonic() - t0)

    def settle(
        self, *, below: float = 10.0, window: float = 1.0, quiet: int = 3, limit: float = 90.0
    ) -> float:
        """Wait until CPU use stays under ``below`` % for ``quiet`` windows of ``window`` s.

        Returns the seconds waited (``limit`` at most; ``--smoke`` caps it at
        :data:`SETTLE_CAP`). One quiet second is not enough: oos-tui indexes
        its history in slices and may pause between two.
        """
        limit = min(limit, SETTLE_CAP)
        began = time.monotonic()
        calm = 0
        while time.monotonic() - began < limit and calm < quiet:
            calm = calm + 1 if self.cpu_percent(window) < below else 0
        return time.monotonic() - began

    def stop(self, timeout: float = 3.0) -> None:
        """SIGTERM the tree, then SIGKILL what is left."""
        procs = self._procs()
        for proc in procs:
            try:
                proc.terminate()
            except psutil.Error:
                pass  # already gone
        deadline = time.monotonic() + timeout
        alive = procs
        while alive and time.monotonic() < deadline:
            alive = [p for p in alive if _running(p)]
            time.sleep(0.01)
        for proc in alive:
            try:
                proc.kill()
            except psutil.Error:
                pass  # it ended at last


def _running(proc: Any) -> bool:
    """Alive and not a zombie (a zombie waits for tmux to reap it, which may be later)."""
    try:
        return bool(proc.is_running()) and proc.status() != "zombie"
    except psutil.Error:
        return False


# -- the terminal --------------------------------------------------------------


class TmuxError(RuntimeError):
    """A tmux command failed."""


class Terminal:
    """A private tmux server with one pane of ``width`` x ``height`` running the command measured.

    Commands go through one tmux control-mode client (``tmux -C``, with the
    ``no-output`` flag), so a ``capture-pane`` costs about 0.2 ms instead of
    the 5 ms of a new ``tmux`` process: the pane can be polled every few
    milliseconds without loading the machine that is being measured.
    """

    def __init__(self, width: int = WIDTH, height: int = HEIGHT) -> None:
        self.tmux = tmux_bin()
        self.width, self.height = width, height
        self.socket = f"oosbench-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._dir = Path(tempfile.mkdtemp(prefix="oosbench-term-"))
        self._buf = b""
        self._started = False
        base = [self.tmux, "-L", self.socket, "-f", "/dev/null"]
        size = ["-x", str(width), "-y", str(height)]
        subprocess.run(
            [*base, "new-session", "-d", "-s", "ctl", *size, "sleep 2147483647"],
            check=True,
            capture_output=True,
        )
        self._ctl = subprocess.Popen(
            [*base, "-C", "attach-session", "-t", "ctl", "-f", "no-output,ignore-size"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._read_block(time.monotonic() + 10.0)  # the attach command's own (empty) answer
        self.command("set-option", "-g", "remain-on-exit", "on")
        self.command("set-option", "-g", "status", "off")

    # control mode ---------------------------------------------------------------

    def _readline(self, deadline: float) -> bytes:
        assert self._ctl.stdout is not None
        fd = self._ctl.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TmuxError("tmux control client did not answer")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise TmuxError("tmux control client exited")
                self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line

    def command(self, *args: str, timeout: float = 10.0) -> list[str]:
        """Run one tmux command through the control client; returns its output lines."""
        assert self._ctl.stdin is not None
        self._ctl.stdin.write((" ".join(_tmux_quote(a) for a in args) + "\n").encode())
        self._ctl.stdin.flush()
        ok, text = self._read_block(time.monotonic() + timeout)
        if not ok:
            raise TmuxError(f"tmux {' '.join(args)}: {' '.join(text)}")
        return text

    def _read_block(self, deadline: float) -> tuple[bool, list[str]]:
        while True:
            line = self._readline(deadline)
            if line.startswith(b"%begin "):
                tag = line.split(b" ")[1:3]
                break
        out: list[bytes] = []
        while True:
            line = self._readline(deadline)
            parts = line.split(b" ")
            if parts[0] in (b"%end", b"%error") and parts[1:3] == tag:
                text = [raw.decode("utf-8", "replace") for raw in out]
                return parts[0] == b"%end", text
            out.append(line)

    # the measured pane ------------------------------------------------------------

    def spawn(
        self, argv: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> float:
        """Start ``argv`` in the pane; returns ``time.monotonic()`` just before tmux was asked.

        The command runs with a clean environment (PATH, HOME, LANG,
        TERM=xterm-256color, COLORTERM=truecolor, plus ``env``), exec'd so the
        pane's process is the tool itself.
        """
        full = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "TERM": "xterm-256color",
            "COLORTERM": "truecolor",
            **(env or {}),
        }
        script = self._dir / "run.sh"
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in full.items())
        script.write_text(f"exec env -i {exports} {shlex.join(argv)}\n")
        target = ["-c", str(cwd)] if cwd else []
        size = ["-x", str(self.width), "-y", str(self.height)]
        started = time.monotonic()
        self.command("new-session", "-d", "-s", "run", *size, *target, f"sh {script}")
        self._started = True
        return started

    def capture(self) -> str:
        """The visible screen of the measured pane, as text."""
        return "\n".join(self.command("capture-pane", "-p", "-t", "run"))

    def send(self, *keys: str, literal: bool = False) -> None:
        """Send keys (tmux key names, or text with ``literal=True``)."""
        self.command("send-keys", "-t", "run", *(["-l"] if literal else []), *keys)

    def pane_pid(self) -> int:
        """The pid of the measured command."""
        return int(self.command("display-message", "-p", "-t", "run", "#{pane_pid}")[0])

    def pane_dead(self) -> bool:
        """Whether the measured command has exited."""
        return self.command("display-message", "-p", "-t", "run", "#{pane_dead}")[0] == "1"

    def pipe_output(self, path: Path | None) -> None:
        """Append everything the command writes to its terminal to ``path`` (None: stop)."""
        if path is None:
            self.command("pipe-pane", "-t", "run")
        else:
            self.command("pipe-pane", "-O", "-t", "run", f"cat >> {shlex.quote(str(path))}")

    def wait_for(
        self,
        found: Callable[[str], bool],
        timeout: float,
        interval: float = 0.01,
    ) -> tuple[float | None, str]:
        """Poll the pane until ``found(screen)``; returns (monotonic time seen or None, screen)."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.capture()
            seen = time.monotonic()
            if found(screen):
                return seen, screen
            time.sleep(interval)
        return None, screen

    def close(self) -> None:
        """Stop the measured command and the tmux server."""
        if self._started:
            try:
                ProcTree(self.pane_pid()).stop()
            except (TmuxError, ValueError, IndexError, psutil.Error):
                pass  # the command is gone already; the server is killed below
        subprocess.run(
            [self.tmux, "-L", self.socket, "kill-server"], capture_output=True, check=False
        )
        try:
            self._ctl.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._ctl.kill()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _tmux_quote(arg: str) -> str:
    if arg and re.fullmatch(r"[A-Za-z0-9_.,:/@%+=-]+", arg):
        return arg
    return "'" + arg.replace("'", "'\\''") + "'"


# -- the commands measured -----------------------------------------------------


@dataclass
class Viewer:
    """How to open one tool on the benchmark file in a terminal."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    keys: tuple[str, ...] = ()
    """Keys sent once the first frame is on screen (none of the tools measured needs any)."""


LNAV_SAME_FILE = False
"""lnav opens the same oos.log as the others; by default the copy without its long lines."""


def lnav_file(doc: dict[str, Any]) -> Path:
    """The oos.log lnav's UI opens: its 8 KB-capped copy, unless ``--lnav-same-file``.

    lnav 0.11.1's UI crashes (SIGSEGV in pcre2) on the 2M-line file with its
    500 lines of 10 to 100 KB; it survives the file without them.
    """
    if LNAV_SAME_FILE or "nolong" not in doc:
        return Path(doc["workspace"]) / "oos.log"
    return Path(doc["nolong"]) / "oos.log"


def viewers(
    doc: dict[str, Any], tools: Iterable[str], follow_file: Path | None = None
) -> list[Viewer]:
    """The tools asked for that are installed, each opened on the benchmark's file.

    ``ours`` opens the whole workspace, ``ours-solo`` a workspace holding only
    ``oos.log``; the others open ``oos.log`` (or ``follow_file``), lnav its
    copy without long lines (:func:`lnav_file`).
    """
    out: list[Viewer] = []
    ws = Path(doc["workspace"])
    solo = Path(doc["solo"])
    file = follow_file or ws / "oos.log"
    for name in tools:
        if name == "ours":
            out.append(Viewer(name, [oos_tui_bin(), "-w", str(ws), "--screen", "events"]))
        elif name == "ours-solo":
            where = follow_file.parent if follow_file else solo
            out.append(Viewer(name, [oos_tui_bin(), "-w", str(where), "--screen", "events"]))
        elif name == "toolong":
            tl = toolong_bin()
            if tl:
                out.append(Viewer(name, [tl, str(file)]))
        elif name == "lnav":
            lnav = lnav_bin()
            if lnav:
                where = follow_file or lnav_file(doc)
                out.append(Viewer(name, [lnav, str(where)], env=lnav_env()))
        elif name == "tail":
            argv = ["tail", "-n", "60", "-f", str(file)]
            out.append(Viewer(name, argv))
        else:
            raise SystemExit(f"unknown tool {name!r}; choose from {', '.join(TOOLS)}")
    return out


def open_viewer(
    term: Terminal, viewer: Viewer, marker: str, timeout: float
) -> dict[str, float | None]:
    """Spawn ``viewer`` and wait for ``marker`` on screen.

    Returns seconds from spawn to the first frame (any text), to the first log
    line (a time of day with milliseconds), and to the marker; None for what
    never showed within ``timeout``.
    """
    stamp = re.compile(r"\d\d:\d\d:\d\d[.,]\d\d\d")
    t0 = term.spawn(viewer.argv, viewer.env)
    deadline = t0 + timeout
    first_frame: float | None = None
    first_line: float | None = None
    last_line: float | None = None
    keys_sent = not viewer.keys
    while time.monotonic() < deadline:
        screen = term.capture()
        now = time.monotonic()
        if first_frame is None and screen.strip():
            first_frame = now - t0
        if not keys_sent and first_frame is not None:
            term.send(*viewer.keys)
            keys_sent = True
            continue
        if first_line is None and keys_sent and stamp.search(screen):
            first_line = now - t0
        if marker in screen:
            last_line = now - t0
            break
        if term.pane_dead():
            break
        time.sleep(0.005)
    return {"first_frame": first_frame, "first_lines": first_line, "last_line": last_line}


# -- script plumbing -----------------------------------------------------------


def base_parser(description: str | None) -> argparse.ArgumentParser:
    """The options every measuring script takes."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--workspace",
        type=Path,
        default=DEFAULT_WS,
        help=f"workspace from make_workspace.py (default {DEFAULT_WS})",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (default 3)")
    parser.add_argument("--json-out", type=Path, help="also write the results as JSON here")
    parser.add_argument(
        "--lnav-same-file",
        action="store_true",
        help="open lnav's UI on oos.log itself, not its copy without long lines (it crashes)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="one short run of everything (for the smoke test; figures are meaningless)",
    )
    return parser


def parse_args(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Parse, and apply the options that change this module's behaviour."""
    global LNAV_SAME_FILE, SETTLE_CAP, SMOKE
    args = parser.parse_args(argv)
    LNAV_SAME_FILE = bool(getattr(args, "lnav_same_file", False))
    SMOKE = bool(getattr(args, "smoke", False))
    if SMOKE:
        SETTLE_CAP = 1.0
    return args


def tool_list(text: str) -> list[str]:
    """A comma-separated ``--tools`` value, checked."""
    names = [t.strip() for t in text.split(",") if t.strip()]
    for name in names:
        if name not in TOOLS:
            raise SystemExit(f"unknown tool {name!r}; choose from {', '.join(TOOLS)}")
    return names


def emit(result: dict[str, Any], json_out: Path | None) -> None:
    """Write the results as JSON (with versions and load) when asked."""
    result.setdefault("load_after", uptime())
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result, indent=2, default=str) + "\n")


# -- profiles ------------------------------------------------------------------


def py_spy_bin() -> str | None:
    """py-spy from ``bench/.work/prof-venv`` (see bench/README.md), else PATH."""
    local = WORK / "prof-venv" / "bin" / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def profiled(viewer: Viewer, out: Path) -> Viewer:
    """``viewer`` run under ``py-spy record`` (raw collapsed stacks to ``out``, all threads)."""
    spy = py_spy_bin()
    if spy is None:
        raise SystemExit("py-spy not found: see bench/README.md (Profiles)")
    argv = [spy, "record", "--threads", "--format", "raw", "--rate", "250", "-o", str(out), "--"]
    argv += viewer.argv
    return Viewer(viewer.name, argv, viewer.env, viewer.keys)


def stop_profiled(term: Terminal, timeout: float = 15.0) -> None:
    """End the profiled program but not py-spy, and wait for py-spy to write its profile."""
    try:
        root = psutil.Process(term.pane_pid())
        for child in root.children():
            child.terminate()
    except psutil.Error:
        return
    term.wait_for(lambda _s: term.pane_dead(), timeout, interval=0.1)


IDLE_FRAMES = (
    "Condition.wait",
    "Event.wait",
    ".select (selectors",
    "Queue.get",
    "_worker (concurrent",
    "WorkerThread.run (anyio",
    "_connection_worker_thread",
    "Lock.acquire",
    "_wait_for_tstate_lock",
)
"""Leaf frames of a thread that waits: py-spy samples them although they cost no CPU."""


def profile_summary(path: Path, top: int = 15, thread: str | None = None) -> dict[str, Any]:
    """Where the samples of a py-spy ``--format raw`` profile fall.

    Returns the sample count, the share of each thread, and the functions
    with the largest inclusive and self shares (``function (file:line)``
    with the line dropped, so a function's lines add up); with ``thread``,
    only the samples of threads whose name contains it. Samples of a thread
    waiting (:data:`IDLE_FRAMES` at the leaf) are counted apart as ``idle``.
    """
    total = 0
    idle = 0
    threads: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        name_ = re.sub(r"\(\d+\)|0x[0-9a-f]+", "", frames[0]).strip()
        if thread is not None and thread not in name_:
            continue
        if any(mark in frames[-1] for mark in IDLE_FRAMES):
            idle += count
            continue
        total += count
        threads[name_] = threads.get(name_, 0) + count
        names = [re.sub(r":\d+\)$", ")", f) for f in frames[1:]]
        for name in set(names):
            inclusive[name] = inclusive.get(name, 0) + count
        if names:
            own[names[-1]] = own.get(names[-1], 0) + count

    def share(table: dict[str, int]) -> list[tuple[str, float]]:
        ranked = sorted(table.items(), key=lambda kv: -kv[1])[:top]
        return [(name, round(100 * n / max(1, total), 1)) for name, n in ranked]

    return {
        "samples": total,
        "idle_samples": idle,
        "threads": share(threads),
        "inclusive": share(inclusive),
        "self": share(own),
    }


def print_profile(summary_: dict[str, Any]) -> None:
    """Show a :func:`profile_summary`."""
    print(f"  {summary_['samples']} busy samples ({summary_['idle_samples']} waiting, left out)")
    for key in ("threads", "inclusive", "self"):
        print(f"  {key}:")
        for name, pct in summary_[key]:
            print(f"    {pct:5.1f} %  {name[:150]}")


# -- the report ----------------------------------------------------------------

TARGETS = {
    "first_screen": 0.6,
    "filter_first": 1.5,
    "filter_repeat": 0.3,
    "text_first": 2.0,
    "rss_mb": 150.0,
    "follow_p95_ms": 150.0,
    "idle_cpu": 2.0,
}


def _get(doc: dict[str, Any] | None, *path: Any) -> Any:
    cur: Any = doc
    for key in path:
        if isinstance(cur, dict):
            cur = cur.get(key)
        elif isinstance(cur, list) and isinstance(key, int) and key < len(cur):
            cur = cur[key]
        else:
            return None
    return cur


def _met(value: float | None, target: float) -> str:
    if value is None:
        return "not measured"
    return "met" if value < target else "**missed**"


def _cell_s(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _cell(value: float | None, unit: str, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f} {unit}"


def report_rows(parts: dict[str, dict[str, Any]]) -> list[list[str]]:
    """The results table: measure, ours, Toolong, lnav, floor, target, met?"""
    rows: list[list[str]] = []
    fs = parts.get("first_screen")
    if fs:
        t = {k: _get(fs, "tools", k, "last_line", "median") for k in TOOLS}
        firsts = {k: _get(fs, "tools", k, "first_lines", "median") for k in TOOLS}
        rows.append(
            [
                "first screen, last line visible (median)",
                f"{_cell_s(t['ours-solo'])} (oos.log only); {_cell_s(t['ours'])} (whole workspace)",
                f"{_cell_s(t['toolong'])} (first lines {_cell_s(firsts['toolong'])})",
                _cell_s(t["lnav"])
                + (
                    " (file without its long lines: it crashes on the file itself)"
                    if _get(fs, "lnav_same_file", "crashed")
                    else ""
                ),
                f"tail: {_cell_s(t['tail'])}",
                "< 0.6 s",
                _met(t["ours-solo"], TARGETS["first_screen"]),
            ]
        )
    st = parts.get("search_times")
    if st:
        eng = _get(st, "engine", "solo") or {}

        def q(name: str, key: str) -> float | None:
            return _get(eng, "queries", name, key, "median")

        lnav_f = _get(st, "lnav", "filter_sql", "median")
        lnav_t = _get(st, "lnav", "text_filter", "median")
        lnav_t_sql = _get(st, "lnav", "text_sql", "median")
        expr_crash = bool(_get(st, "lnav", "filter_expr", "error"))
        text_crash = bool(_get(st, "lnav", "text_filter", "error"))
        lnav_filter_cell = f"{_cell_s(lnav_f)} (load + SQL count)" + (
            "; `:filter-expr` crashed" if expr_crash else ""
        )
        if text_crash:
            lnav_text_cell = f"{_cell_s(lnav_t_sql)} (SQL LIKE count); `:filter-in` crashed"
        else:
            lnav_text_cell = f"{_cell_s(lnav_t)} (load + `:filter-in`)"
        rg_f = _get(st, "rg", "filter", "median")
        rg_t = _get(st, "rg", "text", "median")
        cli_f = _get(st, "cli", "solo", "filter", "median")
        index = _get(eng, "index", "median")
        rows.append(
            [
                "`type:FAIL` over the whole file, first",
                f"{_cell_s(q('filter', 'first'))} (+ index {_cell_s(index)}; CLI end to end "
                f"{_cell_s(cli_f)})",
                "-",
                lnav_filter_cell,
                f"rg: {_cell_s(rg_f)}",
                "< 1.5 s",
                _met(q("filter", "first"), TARGETS["filter_first"]),
            ]
        )
        rows.append(
            [
                "`type:FAIL`, repeated",
                f"{_cell_s(q('filter', 'repeat'))} (cached); "
                f"{_cell_s(q('filter', 'fresh'))} (new searcher)",
                "-",
                "-",
                "-",
                "< 0.3 s",
                _met(q("filter", "repeat"), TARGETS["filter_repeat"]),
            ]
        )
        rows.append(
            [
                "text search `timeout`, first",
                f"{_cell_s(q('text', 'first'))} (repeated {_cell_s(q('text', 'repeat'))})",
                "-",
                lnav_text_cell,
                f"rg -i: {_cell_s(rg_t)}",
                "< 2 s",
                _met(q("text", "first"), TARGETS["text_first"]),
            ]
        )
    mem = parts.get("memory")
    if mem:
        m = {k: _get(mem, "open", k, "rss_settled_mb", "median") for k in TOOLS}
        rows.append(
            [
                "resident memory, file open (settled)",
                f"{_cell(m['ours-solo'], 'MB')} (oos.log only); {_cell(m['ours'], 'MB')} "
                "(whole workspace)",
                _cell(m["toolong"], "MB"),
                _cell(m["lnav"], "MB"),
                f"tail: {_cell(m['tail'], 'MB', 1)}",
                "< 150 MB",
                _met(m["ours-solo"], TARGETS["rss_mb"]),
            ]
        )
        soak = _get(mem, "soak")
        if soak:
            rows.append(
                [
                    f"resident memory after {soak['minutes']:g} min of following at "
                    f"{soak['rate']} lines/s",
                    f"{_cell(soak.get('end_mb'), 'MB')} (start {_cell(soak.get('start_mb'), 'MB')},"
                    f" {soak.get('slope_mb_per_min', 0):+.1f} MB/min, 60 min extrapolated "
                    f"{_cell(soak.get('extrapolated_60min_mb'), 'MB')})",
                    "-",
                    "-",
                    "-",
                    "< 150 MB",
                    _met(soak.get("extrapolated_60min_mb"), TARGETS["rss_mb"])
                    if soak["minutes"] >= 1
                    else "(too short to judge)",
                ]
            )
    fl = parts.get("follow_latency")
    if fl:
        for rate in sorted({int(r) for r in _get(fl, "rates") or []}):
            key = str(rate)

            def lat(tool: str, k: str = key) -> str:
                res = _get(fl, "runs", k, tool)
                if not res:
                    return "-"
                p = res.get("latency") or {}
                if not p:
                    return f"nothing seen, {res.get('lost')} lost"
                return (
                    f"p50 {p['p50'] * 1000:.0f} / p95 {p['p95'] * 1000:.0f} / max "
                    f"{p['max'] * 1000:.0f} ms, {res.get('lost')} lost, "
                    f"{res.get('cpu_percent', 0):.0f} % CPU"
                )

            p95 = _get(fl, "runs", key, "ours-solo", "latency", "p95")
            lost = _get(fl, "runs", key, "ours-solo", "lost")
            ok = None if p95 is None else p95 * 1000
            verdict = _met(ok, TARGETS["follow_p95_ms"]) if rate == 2000 else "(no target)"
            if rate == 2000 and lost:
                verdict = "**missed** (lines lost)"
            rows.append(
                [
                    f"follow at {rate:,} lines/s: write → on screen",
                    lat("ours-solo"),
                    lat("toolong"),
                    lat("lnav"),
                    f"tail -f: {lat('tail')}",
                    "p95 < 150 ms, none lost" if rate == 2000 else "-",
                    verdict,
                ]
            )
    idle = parts.get("idle_cost")
    if idle:

        def idle_cell(tool: str) -> str:
            res = _get(idle, "tools", tool)
            if not res:
                return "-"
            return f"{res['cpu_percent']:.1f} % CPU, {res['bytes_per_s']:,.0f} B/s"

        rows.append(
            [
                "idle: quiet workspace",
                f"{idle_cell('ours')} (whole workspace); {idle_cell('ours-solo')} (oos.log only)",
                idle_cell("toolong"),
                idle_cell("lnav"),
                f"tail -f: {idle_cell('tail')}",
                "< 2 % of a core",
                _met(_get(idle, "tools", "ours", "cpu_percent"), TARGETS["idle_cpu"]),
            ]
        )
    act = parts.get("action_latency")
    if act:
        tui = _get(act, "tui_retry", "commit", "median")
        cli = _get(act, "cli_retry", "commit", "median")
        status = _get(act, "status", "median")
        rows.append(
            [
                "retry one dead letter → committed",
                f"console: {_cell_s(tui)}; CLI `retry ID`: {_cell_s(cli)}",
                "-",
                "-",
                "-",
                "(no target)",
                "-",
            ]
        )
        rows.append(
            [
                "`oos-tui status --json`, big store",
                _cell_s(status),
                "-",
                "-",
                "-",
                "(no target)",
                "-",
            ]
        )
    return rows


def render_markdown(parts: dict[str, dict[str, Any]], meta: dict[str, Any]) -> str:
    """The results as markdown: machine, versions, load, then the table."""
    v: dict[str, Any] = meta.get("versions") or next(
        (p["versions"] for p in parts.values() if isinstance(p.get("versions"), dict)), {}
    )
    head = [
        f"# oos-tui benchmarks, {v.get('date', '?')}",
        "",
        f"Machine: {_get(v, 'machine', 'cores')} cores ({_get(v, 'machine', 'cpu')}), "
        f"{_get(v, 'machine', 'memory_gb')} GB, Linux {_get(v, 'machine', 'kernel')}; "
        f"{v.get('load')} at the start.",
        f"Versions: {v.get('oos-tui')}, Python {v.get('python')}, Textual "
        f"{v.get('textual')}; Toolong: {v.get('toolong')} (Textual {v.get('toolong_textual')}); "
        f"{v.get('lnav')}; {v.get('rg')}; {v.get('tmux')}; {v.get('tail')}.",
        f"Workspace: {meta.get('workspace_summary', '?')}",
        "",
        "| measure | oos-tui | Toolong | lnav | floor | target | met? |",
        "|---|---|---|---|---|---|---|",
    ]
    body = ["| " + " | ".join(row) + " |" for row in report_rows(parts)]
    pt = parts.get("parse_throughput")
    tail: list[str] = []
    if pt:
        tail += [
            "",
            "Parse throughput (thousands of lines/s, median; `bench/parse_throughput.py`):",
            "",
            "| format | parse | floor (orjson) | rg -c . |",
            "|---|---|---|---|",
        ]
        for name, row in (pt.get("formats") or {}).items():
            rg = row.get("rg") or {}
            tail.append(
                f"| {name} | {row['parse']['median'] / 1e3:.0f}k | "
                f"{row['floor']['median'] / 1e3:.0f}k | "
                + (f"{rg['median'] / 1e3:.0f}k" if rg else "-")
                + " |"
            )
    loads = [
        f"- {name}: {doc.get('load_before', '?')} before, {doc.get('load_after', '?')} after"
        for name, doc in parts.items()
    ]
    return "\n".join([*head, *body, *tail, "", "Load during each script:", *loads, ""])


def report(directory: Path) -> tuple[Path, Path]:
    """Combine ``directory/*.json`` into ``results-<date>.json`` and ``.md`` beside it."""
    parts: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.json")):
        if path.stem != "meta":
            parts[path.stem] = json.loads(path.read_text())
    meta_path = directory / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    stamp = directory.name
    out_json = directory.parent / f"results-{stamp}.json"
    out_md = directory.parent / f"results-{stamp}.md"
    out_json.write_text(json.dumps({"meta": meta, **parts}, indent=2, default=str) + "\n")
    out_md.write_text(render_markdown(parts, meta))
    return out_json, out_md


def _workspace_summary(doc: dict[str, Any]) -> str:
    files = doc.get("files", {})
    oos = files.get("oos.log", {})
    app = sum(v["lines"] for k, v in files.items() if k.startswith("logs/"))
    store = doc.get("store", {})
    return (
        f"oos.log {oos.get('lines', 0):,} lines ({oos.get('bytes', 0) / 1e6:.0f} MB, "
        f"{doc.get('fail_fraction', 0):.1%} FAIL), app logs {app:,} lines, "
        f"ai_events {files.get('ai_events.log', {}).get('lines', 0):,} lines, "
        f"store {store.get('tasks', 0):,} tasks / {store.get('dead_letter', 0):,} dead letters, "
        f"{doc.get('jobs', {}).get('jobs', 0)} jobs; seed {doc['params']['seed']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    meta = sub.add_parser("meta", help="write versions, machine and load to a JSON file")
    meta.add_argument("out", type=Path)
    meta.add_argument("--workspace", type=Path, default=DEFAULT_WS)
    rep = sub.add_parser("report", help="combine a results directory into results-<date>.*")
    rep.add_argument("directory", type=Path)
    prof = sub.add_parser("profile", help="summarise a py-spy --format raw profile")
    prof.add_argument("file", type=Path)
    prof.add_argument("--top", type=int, default=15)
    prof.add_argument("--thread", help="only threads whose name contains this")
    args = parser.parse_args(argv)
    if args.cmd == "profile":
        print_profile(profile_summary(args.file, args.top, args.thread))
        return 0
    if args.cmd == "meta":
        doc: dict[str, Any] = {"versions": versions()}
        ws = load_workspace(args.workspace)
        doc["workspace"] = ws
        doc["workspace_summary"] = _workspace_summary(ws)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(doc, indent=2, default=str) + "\n")
        print(json.dumps(doc["versions"], indent=2))
    else:
        out_json, out_md = report(args.directory)
        print(out_md.read_text())
        print(f"wrote {out_json} and {out_md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
