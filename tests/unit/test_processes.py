"""The process scanner and the host sampler on the deterministic fake psutil."""

from __future__ import annotations

import os

import pytest

from oos_tui.clock import FrozenClock
from oos_tui.config import ProcessSettings
from oos_tui.sources.fake_psutil import BASE_TIME, FakeProc, FakePsutil, MiB
from oos_tui.sources.processes import ProcessScanner
from oos_tui.sources.system import SystemSampler

PATTERNS = ProcessSettings().patterns


def scanner(fake: FakePsutil, **kw: object) -> ProcessScanner:
    return ProcessScanner(PATTERNS, fake, self_pid=fake.self_pid, **kw)  # type: ignore[arg-type]


def test_default_patterns_match_the_demo_and_workers_and_the_console_is_listed() -> None:
    fake = FakePsutil()
    procs = scanner(fake).scan()
    assert [p.pid for p in procs] == [4100, 4101, 4102, 4103, 4242]
    me = procs[-1]
    assert me.is_self and me.matched is None and me.name == "oos-tui"
    demo = procs[0]
    assert demo.matched == r"oos_tui\.demo" and not demo.is_self
    assert "python3 -m oos_tui.demo" in demo.cmdline
    assert {p.matched for p in procs[1:4]} == {r"oos[_-]worker"}


def test_oos_tui_demo_command_line_matches() -> None:
    fake = FakePsutil()
    fake.add([FakeProc(5000, "oos-tui", ("/venv/bin/oos-tui", "demo", "--seed", "3"))])
    found = {p.pid: p.matched for p in scanner(fake).scan()}
    assert found[5000] == r"oos-tui\s+demo"


def test_cpu_percent_needs_a_baseline_kept_across_scans() -> None:
    fake = FakePsutil()
    s = scanner(fake)
    first = {p.pid: p.cpu_percent for p in s.scan()}
    assert set(first.values()) == {None}
    second = {p.pid: p.cpu_percent for p in s.scan()}
    assert second[4102] == 87.2 and second[4242] == 1.8
    p = next(p for p in s.scan() if p.pid == 4102)
    assert p.rss == 1400 * MiB and p.threads == 12 and p.status == "running"
    assert p.started_at == BASE_TIME - 5380.0 and p.uptime(BASE_TIME) == 5380.0


def test_vanished_and_reused_pids() -> None:
    fake = FakePsutil()
    s = scanner(fake)
    s.scan()
    s.scan()
    fake.kill(4101)
    assert 4101 not in {p.pid for p in s.scan()}
    # The pid comes back as a different process: no stale baseline.
    fake.add([FakeProc(4101, "oos-worker", ("oos-worker", "--queue", "x"), 50.0)])
    again = next(p for p in s.scan() if p.pid == 4101)
    assert again.cpu_percent is None
    assert next(p for p in s.scan() if p.pid == 4101).cpu_percent == 50.0


def test_pid_reused_with_a_new_start_time_resets_the_baseline() -> None:
    fake = FakePsutil()
    s = scanner(fake)
    s.scan()
    fake.change(4102, create_time=BASE_TIME)
    assert next(p for p in s.scan() if p.pid == 4102).cpu_percent is None


def test_access_denied_is_listed_without_figures() -> None:
    fake = FakePsutil()
    fake.add([FakeProc(777, "oos-worker", ("oos-worker",), 5.0, denied=True)])
    s = ProcessScanner([r"oos-worker", r"^oos-worker$"], fake, self_pid=fake.self_pid)
    # A denied command line falls back to the name for matching.
    denied = next(p for p in s.scan() if p.pid == 777)
    assert denied.access_denied and denied.cpu_percent is None and denied.rss is None
    assert denied.name == "oos-worker" and denied.status == "sleeping"


def test_zombie_is_listed_with_its_status() -> None:
    fake = FakePsutil()
    fake.change(4103, status="zombie")
    z = next(p for p in scanner(fake).scan() if p.pid == 4103)
    assert z.status == "zombie" and z.rss is None and not z.access_denied


def test_console_missing_from_the_listing_is_still_reported() -> None:
    fake = FakePsutil()
    s = ProcessScanner(PATTERNS, fake)  # the real pid: not in the fake's table
    me = [p for p in s.scan() if p.is_self]
    assert len(me) == 1 and me[0].name == "oos-tui"


def test_command_lines_are_redacted_escaped_and_cut() -> None:
    fake = FakePsutil()
    fake.add(
        [
            FakeProc(
                6000,
                "oos-worker",
                ("oos-worker", "--api-key=sk-or-v1-abcdef0123456789abcdef", "\x1b[2J", "x" * 500),
            )
        ]
    )
    p = next(p for p in scanner(fake, cmdline_max=120).scan() if p.pid == 6000)
    assert "abcdef0123456789" not in p.cmdline and "\x1b" not in p.cmdline
    assert len(p.cmdline) == 120 and p.cmdline.endswith("…")


def test_patterns_from_config_and_bad_patterns() -> None:
    fake = FakePsutil()
    only_ingest = ProcessScanner([r"--queue ingest"], fake, self_pid=fake.self_pid)
    assert [p.pid for p in only_ingest.scan()] == [4101, 4242]
    with pytest.raises(ValueError, match="not a valid regex"):
        ProcessScanner(["(unclosed"], fake)


def test_scan_cost_is_measured() -> None:
    s = scanner(FakePsutil())
    s.scan()
    assert s.last_cost > 0 and s.last_seen == 8


def test_json_shape() -> None:
    p = scanner(FakePsutil()).scan()[0]
    j = p.to_json(BASE_TIME)
    assert set(j) == {
        "pid",
        "name",
        "cmdline",
        "cpu_percent",
        "rss",
        "threads",
        "started_at",
        "uptime_seconds",
        "status",
        "is_self",
        "matched",
        "access_denied",
    }
    assert j["uptime_seconds"] == 5400


# ----------------------------------------------------- the host sampler


def test_system_sampler_on_the_fake_is_deterministic(tmp_path: os.PathLike[str]) -> None:
    clock = FrozenClock(BASE_TIME)
    fake = FakePsutil()
    sampler = SystemSampler(tmp_path, psutil_module=fake, clock=clock)
    first = sampler.sample()
    clock.advance(2.0)
    second = sampler.sample()
    assert first.ts == BASE_TIME and second.ts == BASE_TIME + 2
    assert second.cpu_percent == 23.5 and second.per_cpu == (31.0, 18.0, 27.5, 17.5)
    assert (second.load1, second.load5, second.load15) == (0.62, 0.55, 0.48)
    assert second.mem_available_percent == pytest.approx(59.375)
    assert second.disk_percent == 42.0
    assert first.disk_read_bps is None
    assert second.disk_read_bps == 3 * MiB / 2 and second.disk_write_bps == 5 * MiB / 2
    assert second.self_cpu_percent == 1.8 and second.self_rss == 92 * MiB
    assert second.self_threads == 6


def test_fake_figures_can_be_changed_between_samples(tmp_path: os.PathLike[str]) -> None:
    clock = FrozenClock(BASE_TIME)
    fake = FakePsutil()
    sampler = SystemSampler(tmp_path, psutil_module=fake, clock=clock)
    sampler.sample()
    fake.load = (6.0, 5.5, 3.0)
    fake.mem_available = fake.mem_total // 20
    fake.disk_used = fake.disk_total * 96 // 100
    clock.advance(2.0)
    s = sampler.sample()
    assert s.load1 == 6.0 and s.mem_available_percent == pytest.approx(5.0, abs=0.01)
    assert s.disk_percent == 96.0


def test_reused_pid_of_a_matched_process_is_judged_afresh() -> None:
    fake = FakePsutil()
    s = scanner(fake)
    s.scan()
    fake.add([FakeProc(4101, "bash", ("bash",), 3.0, create_time=BASE_TIME)])
    assert 4101 not in {p.pid for p in s.scan()}


def test_command_lines_are_read_again_only_on_a_full_rescan() -> None:
    fake = FakePsutil()
    s = scanner(fake, rescan_every=3)
    s.scan()  # a full scan
    # sshd's pid is reused by a worker: unmatched pids are not checked every scan.
    fake.add([FakeProc(812, "oos-worker", ("oos-worker", "--queue", "x"), create_time=BASE_TIME)])
    assert 812 not in {p.pid for p in s.scan()}
    assert 812 not in {p.pid for p in s.scan()}
    assert 812 in {p.pid for p in s.scan()}  # the next full scan
    # A new pid is identified at once.
    fake.add([FakeProc(9000, "oos-worker", ("oos-worker",))])
    assert 9000 in {p.pid for p in s.scan()}


def test_real_processes_with_real_psutil() -> None:
    import subprocess
    import sys

    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "oos-worker-probe"]
    )
    try:
        s = ProcessScanner(PATTERNS)
        found = {p.pid: p for p in s.scan()}
        assert child.pid in found and found[child.pid].matched == r"oos[_-]worker"
        assert found[child.pid].cpu_percent is None and found[child.pid].rss
        me = [p for p in found.values() if p.is_self]
        assert len(me) == 1 and me[0].pid == os.getpid()
        assert next(p for p in s.scan() if p.pid == child.pid).cpu_percent is not None
    finally:
        child.kill()
        child.wait()
    assert child.pid not in {p.pid for p in s.scan()}
