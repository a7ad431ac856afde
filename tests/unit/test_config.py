"""Settings: workspace resolution, oos-tui.toml validation, $LOG_DIR."""

from __future__ import annotations

from pathlib import Path

import pytest

from oos_tui.config import ConfigError, load_settings, resolve_workspace


def test_workspace_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    assert resolve_workspace(str(a), {"OOS_WORKSPACE": str(b)}) == a.resolve()
    assert resolve_workspace(None, {"OOS_WORKSPACE": str(b)}) == b.resolve()
    monkeypatch.chdir(a)
    assert resolve_workspace(None, {}) == a.resolve()


def test_workspace_that_is_a_file_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    with pytest.raises(ConfigError, match="not a directory"):
        resolve_workspace(str(f), {})


def test_defaults_are_the_oos_system_defaults(tmp_path: Path) -> None:
    s = load_settings(tmp_path, env={})
    assert s.alerts.queue_pending == 1000
    assert s.alerts.disk_percent == 80.0
    assert s.alerts.load1 == 4.0 and s.alerts.load_minutes == 5.0
    assert s.backup.retention == 28
    assert s.store_path == tmp_path.resolve() / "data" / "oos.db"
    assert s.config_file is None


def test_file_values_and_paths(tmp_path: Path) -> None:
    (tmp_path / "oos-tui.toml").write_text(
        'theme = "oos-light"\n'
        "[alerts]\nqueue_pending = 50\nload1 = 2\n"
        '[paths]\nstore = "/srv/oos.db"\nlogs_dir = "applogs"\n'
        '[keys]\n"screen.events" = "e"\n'
    )
    s = load_settings(tmp_path, env={})
    assert s.theme == "oos-light"
    assert s.alerts.queue_pending == 50
    assert s.alerts.load1 == 2.0 and isinstance(s.alerts.load1, float)
    assert s.store_path == Path("/srv/oos.db")
    assert s.logs_dir == tmp_path.resolve() / "applogs"
    assert s.keys == {"screen.events": "e"}


def test_log_dir_env_overrides_file(tmp_path: Path) -> None:
    (tmp_path / "oos-tui.toml").write_text('[paths]\nlogs_dir = "applogs"\n')
    s = load_settings(tmp_path, env={"LOG_DIR": "/var/log/oos"})
    assert s.logs_dir == Path("/var/log/oos")


def test_cli_theme_wins_over_file(tmp_path: Path) -> None:
    (tmp_path / "oos-tui.toml").write_text('theme = "oos-light"\n')
    assert load_settings(tmp_path, env={}, theme="oos-mono").theme == "oos-mono"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[alerts]\nqueue_pendng = 5\n", "unknown key 'alerts.queue_pendng'"),
        ("colour = 1\n", "unknown key 'colour'"),
        ('[alerts]\nqueue_pending = "many"\n', "'alerts.queue_pending' must be an integer"),
        ("[alerts]\nqueue_pending = 1.5\n", "'alerts.queue_pending' must be an integer"),
        ("[alerts]\nqueue_pending = true\n", "'alerts.queue_pending' must be an integer"),
        ("[alerts]\nload1 = -1\n", "'alerts.load1' must not be negative"),
        ("[redact]\nenabled = 1\n", "'redact.enabled' must be true or false"),
        ("[redact]\npatterns = [1]\n", "'redact.patterns' must be a list of strings"),
        ("[keys]\nquit = 3\n", "'keys' must be a table of strings"),
        ("alerts = 3\n", "'alerts' must be a table"),
        ("[alerts\n", "not valid TOML"),
    ],
)
def test_config_errors_are_one_line_naming_key_and_file(
    tmp_path: Path, text: str, message: str
) -> None:
    cfg = tmp_path / "oos-tui.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, env={})
    got = str(info.value)
    assert message in got
    assert str(cfg) in got
    assert "\n" not in got


def test_explicit_config_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_settings(tmp_path, env={}, config_file=tmp_path / "nope.toml")


def test_bad_redaction_pattern_is_a_config_error(tmp_path: Path) -> None:
    cfg = tmp_path / "oos-tui.toml"
    cfg.write_text('[redact]\npatterns = ["(unclosed"]\n')
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, env={})
    assert "[redact]" in str(info.value) and str(cfg) in str(info.value)


def test_user_cache_dir_follows_xdg_and_ignores_a_relative_one(tmp_path: Path) -> None:
    from oos_tui.config import user_cache_dir

    assert user_cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "oos-tui"
    assert user_cache_dir({"XDG_CACHE_HOME": "relative/cache"}) == Path.home() / ".cache/oos-tui"
    assert user_cache_dir({}) == Path.home() / ".cache" / "oos-tui"
