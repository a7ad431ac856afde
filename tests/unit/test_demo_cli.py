"""``oos-tui demo`` flags: checking, exit codes, the headless output, the child's command line."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
import pytest

from oos_tui.cli import build_parser, main
from oos_tui.cli.demo import options_from
from oos_tui.demo.launcher import producer_command
from oos_tui.demo.options import DemoOptions

FIXED = "2025-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (["--rate", "-5"], "--rate must be a positive number"),
        (["--rate", "0"], "--rate must be a positive number"),
        (["--speed", "nan"], "--speed must be a positive number"),
        (["--duration", "-1"], "--duration must not be negative"),
        (["--fixed-time", "yesterday"], "--fixed-time: not an ISO-8601 time"),
        (["--rotate-bytes", "10"], "rotation sizes must be at least 1024 bytes"),
        (["--keep-jobs", "0"], "--keep-jobs must be at least 1"),
        (["--rate", "fast"], "invalid float value"),
    ],
)
def test_bad_flags_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], needle: str
) -> None:
    with pytest.raises(SystemExit) as exc_info:
        code = main(["demo", "--headless", "--workspace", str(tmp_path / "ws"), *flags])
        raise SystemExit(code)
    assert exc_info.value.code == 2
    err = capsys.readouterr().err
    assert needle in err and err.startswith("oos-tui: ") and err.count("\n") == 1
    assert not (tmp_path / "ws").exists()


def test_a_foreign_non_empty_workspace_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "oos.log").write_text("a real pipeline's log\n")
    code = main(["demo", "--headless", "--workspace", str(tmp_path), "--ticks", "1"])
    assert code == 1
    assert "refusing to run the demo" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["oos.log"]


def test_headless_prints_the_workspace_then_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = tmp_path / "ws"
    argv = ["demo", "--headless", "-w", str(ws), "--seed", "4", "--fixed-time", FIXED]
    assert main([*argv, "--ticks", "120"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == str(ws)
    summary = orjson.loads(lines[-1])["summary"]
    assert summary["ticks"] == 120 and summary["seed"] == 4 and summary["paced"] is False
    assert summary["sim_start"] == "2025-01-01T00:00:00.000Z"
    assert summary["lines"]["oos.log"] == (ws / "oos.log").read_bytes().count(b"\n")
    # Running again in the same (demo-made) workspace continues it.
    assert main([*argv, "--ticks", "10"]) == 0


def test_without_a_workspace_a_temporary_one_is_made(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OOS_WORKSPACE", str(tmp_path / "real"))  # never used by the demo
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    assert main(["demo", "--headless", "--fixed-time", FIXED, "--ticks", "5"]) == 0
    made = Path(capsys.readouterr().out.splitlines()[0])
    assert made.parent == tmp_path and made.name.startswith("oos-demo-")
    assert (made / "data" / "oos.db").is_file()
    assert not (tmp_path / "real").exists()


def test_options_survive_the_trip_to_the_producer_process(tmp_path: Path) -> None:
    options = DemoOptions(
        workspace=tmp_path,
        seed=9,
        rate=12.5,
        speed=60.0,
        duration=3.25,
        ticks=77,
        fixed_time=1_735_689_600.123456,
        rotate_bytes=4096,
        app_rotate_bytes=8192,
        keep_jobs=7,
    )
    cmd = producer_command(options, tmp_path / "ready")
    assert cmd[:3] == [sys.executable, "-m", "oos_tui.demo"]
    args = build_parser().parse_args(["demo", "--headless", *cmd[3:]])
    assert args.ready_file == str(tmp_path / "ready")
    assert options_from(args, tmp_path) == options


def test_help_names_every_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    out = capsys.readouterr().out
    for flag in (
        "--workspace",
        "--seed",
        "--rate",
        "--speed",
        "--duration",
        "--headless",
        "--fixed-time",
        "--ticks",
        "--rotate-bytes",
        "--app-rotate-bytes",
        "--keep-jobs",
        "--read-only",
        "--theme",
    ):
        assert flag in out
    assert "--ready-file" not in out
