"""Workspace resolution and ``oos-tui.toml`` settings.

The file is validated against the dataclasses below: each section is a
dataclass and each key a field, so adding a setting is adding a field, and an
unknown key or a value of the wrong type is reported as one line that names
the key and the file (never a traceback, never silently ignored).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "CONFIG_NAME",
    "AlertSettings",
    "BackupSettings",
    "ConfigError",
    "EventSettings",
    "Paths",
    "ProcessSettings",
    "RedactSettings",
    "RefreshSettings",
    "Settings",
    "load_settings",
    "resolve_workspace",
    "user_cache_dir",
]

CONFIG_NAME = "oos-tui.toml"


class ConfigError(Exception):
    """A usage or configuration problem, reported as one line (exit code 2)."""


@dataclass(frozen=True)
class Paths:
    """Where the workspace keeps each part (CONTRACT §1); relative to the workspace."""

    oos_log: str = "oos.log"
    ai_events_log: str = "ai_events.log"
    logs_dir: str = "logs"
    store: str = "data/oos.db"
    backups_dir: str = "data/backups"
    out_dir: str = "out"
    cache_dir: str = ".oos-tui"


@dataclass(frozen=True)
class RefreshSettings:
    """How often each feed looks for news (seconds), and the UI's repaint pace."""

    store_poll_seconds: float = 1.0
    tail_heartbeat_seconds: float = 0.5
    metrics_seconds: float = 2.0
    process_scan_seconds: float = 10.0
    jobs_scan_seconds: float = 2.0
    ui_hz: float = 20.0


@dataclass(frozen=True)
class AlertSettings:
    """Alert thresholds; defaults are the OOS system's own."""

    queue_pending: int = 1000
    disk_percent: float = 80.0
    load1: float = 4.0
    load_minutes: float = 5.0
    memory_available_percent: float = 10.0
    dead_letter_growth: int = 50
    dead_letter_window_minutes: float = 10.0
    backup_max_age_hours: float = 24.0
    error_spike_factor: float = 3.0
    error_spike_min_per_minute: float = 5.0
    disabled: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RedactSettings:
    """Secret redaction applied to every string shown or printed."""

    enabled: bool = True
    patterns: list[str] = field(default_factory=list)
    env_keys: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BackupSettings:
    """Backup retention (CONTRACT §4)."""

    retention: int = 28


@dataclass(frozen=True)
class ProcessSettings:
    """Which processes count as the pipeline's (matched against the command line)."""

    patterns: list[str] = field(
        default_factory=lambda: [
            r"oos-tui\s+demo",
            r"oos_tui\.demo",
            r"oos[_-]worker",
            r"oos[_-]pipeline",
        ]
    )


@dataclass(frozen=True)
class EventSettings:
    """Limits of the event readers."""

    max_line_bytes: int = 16 * 1024 * 1024
    follow_buffer: int = 50_000


@dataclass(frozen=True)
class _FileSchema:
    """The shape of ``oos-tui.toml`` (internal: drives validation)."""

    theme: str = "oos-dark"
    paths: Paths = field(default_factory=Paths)
    refresh: RefreshSettings = field(default_factory=RefreshSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    redact: RedactSettings = field(default_factory=RedactSettings)
    backup: BackupSettings = field(default_factory=BackupSettings)
    processes: ProcessSettings = field(default_factory=ProcessSettings)
    events: EventSettings = field(default_factory=EventSettings)
    keys: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    """Everything the core and the faces need to know about one workspace."""

    workspace: Path
    config_file: Path | None = None
    theme: str = "oos-dark"
    paths: Paths = field(default_factory=Paths)
    refresh: RefreshSettings = field(default_factory=RefreshSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    redact: RedactSettings = field(default_factory=RedactSettings)
    backup: BackupSettings = field(default_factory=BackupSettings)
    processes: ProcessSettings = field(default_factory=ProcessSettings)
    events: EventSettings = field(default_factory=EventSettings)
    keys: Mapping[str, str] = field(default_factory=dict)
    read_only: bool = False
    log_dir_override: str | None = None

    def resolve(self, relative: str) -> Path:
        """A workspace-relative path made absolute (absolute paths pass through)."""
        p = Path(relative).expanduser()
        return p if p.is_absolute() else self.workspace / p

    @property
    def oos_log(self) -> Path:
        """``oos.log``: pipe-delimited processing events."""
        return self.resolve(self.paths.oos_log)

    @property
    def ai_events_log(self) -> Path:
        """``ai_events.log``: JSON-lines system and AI events."""
        return self.resolve(self.paths.ai_events_log)

    @property
    def logs_dir(self) -> Path:
        """The application log directory; ``$LOG_DIR`` wins over the file."""
        return self.resolve(self.log_dir_override or self.paths.logs_dir)

    @property
    def store_path(self) -> Path:
        """The SQLite store."""
        return self.resolve(self.paths.store)

    @property
    def backups_dir(self) -> Path:
        """Where verified backups live."""
        return self.resolve(self.paths.backups_dir)

    @property
    def out_dir(self) -> Path:
        """Pipeline job directories."""
        return self.resolve(self.paths.out_dir)

    @property
    def cache_dir(self) -> Path:
        """The console's own caches, never inside the store."""
        return self.resolve(self.paths.cache_dir)


def user_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """The user's own cache of the console, shared by every workspace.

    ``$XDG_CACHE_HOME/oos-tui``, else ``~/.cache/oos-tui``. For what is about
    the console rather than a workspace (the parsed stylesheet), and private
    to the user, unlike a workspace's ``cache_dir`` that others may write.
    """
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or ""
    root = Path(base) if Path(base).is_absolute() else Path.home() / ".cache"
    return root / "oos-tui"


def resolve_workspace(
    arg: str | os.PathLike[str] | None, env: Mapping[str, str] | None = None
) -> Path:
    """``--workspace``, else ``$OOS_WORKSPACE``, else the current directory (CONTRACT §1)."""
    env = os.environ if env is None else env
    raw = arg if arg not in (None, "") else env.get("OOS_WORKSPACE") or None
    path = Path(raw).expanduser() if raw is not None else Path.cwd()
    path = path.resolve()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"workspace {path} is not a directory")
    return path


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is list:
        return "a list of strings"
    if origin is dict:
        return "a table of strings"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(
        tp, str(tp)
    )


def _check_value(tp: Any, value: Any) -> bool:
    origin = typing.get_origin(tp)
    if origin is list:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        )
    if origin in (typing.Union, types.UnionType):
        return any(_check_value(a, value) for a in typing.get_args(tp))
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if tp is str:
        return isinstance(value, str)
    return False


def _build(cls: type, table: Mapping[str, Any], where: str, file: Path) -> Any:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        dotted = f"{where}.{key}" if where else key
        if key not in names:
            raise ConfigError(f"{file}: unknown key '{dotted}'")
        tp = hints[key]
        if dataclasses.is_dataclass(tp):
            if not isinstance(value, dict):
                raise ConfigError(f"{file}: '{dotted}' must be a table ([{dotted}])")
            kwargs[key] = _build(tp, value, dotted, file)  # type: ignore[arg-type]
            continue
        if not _check_value(tp, value):
            got = type(value).__name__
            raise ConfigError(f"{file}: '{dotted}' must be {_type_name(tp)}, got {got} {value!r}")
        if tp is float:
            value = float(value)
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            raise ConfigError(f"{file}: '{dotted}' must not be negative, got {value!r}")
        kwargs[key] = value
    return cls(**kwargs)


def _check_redaction(redact: RedactSettings, file: Path) -> None:
    from oos_tui.sanitize import Sanitizer

    try:
        Sanitizer(redact, env={})
    except ValueError as exc:
        raise ConfigError(f"{file}: [redact] {exc}") from None


def load_settings(
    workspace: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    read_only: bool = False,
    theme: str | None = None,
    config_file: str | os.PathLike[str] | None = None,
) -> Settings:
    """Resolve the workspace and read its ``oos-tui.toml``.

    Raises:
        ConfigError: the workspace is not a directory, or the file is not valid
            TOML, has an unknown key, or a value of the wrong type.
    """
    env = os.environ if env is None else env
    ws = resolve_workspace(workspace, env)
    path = Path(config_file) if config_file else ws / CONFIG_NAME
    parsed = _FileSchema()
    found: Path | None = None
    if path.is_file():
        found = path
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from None
        parsed = _build(_FileSchema, data, "", path)
        _check_redaction(parsed.redact, path)
    elif config_file:
        raise ConfigError(f"{path}: no such config file")
    log_dir = env.get("LOG_DIR") or None
    return Settings(
        workspace=ws,
        config_file=found,
        theme=theme or parsed.theme,
        paths=parsed.paths,
        refresh=parsed.refresh,
        alerts=parsed.alerts,
        redact=parsed.redact,
        backup=parsed.backup,
        processes=parsed.processes,
        events=parsed.events,
        keys=dict(parsed.keys),
        read_only=read_only,
        log_dir_override=log_dir,
    )
