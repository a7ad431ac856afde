"""A pipeline stage's ``manifest.json`` (CONTRACT §2.5), read into a Stage and written."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from oos_tui.formats.base import MAX_DEPTH, format_ts, json_error_reason, short, text_ts, too_deep
from oos_tui.models import Stage, StageFile

__all__ = ["STATUSES", "ManifestError", "parse_manifest", "stage_order", "write_manifest"]

STATUSES: frozenset[str] = frozenset(("success", "failed", "skipped", "running"))
"""The statuses a manifest may declare."""


class ManifestError(ValueError):
    """A manifest that could not be read.

    Attributes:
        partial: True when the file looks half-written (empty, or JSON that
            ends early): the producer is probably still writing it, so a
            reader should retry later instead of reporting it as broken.
    """

    def __init__(self, message: str, partial: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.partial = partial


def stage_order(stage_dir: str) -> tuple[int, str]:
    """The ``NN`` prefix of a stage directory and the name after it.

    ``05_asr`` gives ``(5, "asr")``; a name without a numeric prefix gives
    ``(0, name)``.
    """
    prefix, sep, rest = stage_dir.partition("_")
    if sep and prefix.isdigit() and prefix.isascii():
        return int(prefix), rest
    return 0, stage_dir


def _number(doc: Mapping[str, Any], key: str, where: str) -> float | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ManifestError(f"{where}{key}: expected a number, got {short(value)}")
    return float(value)


def _text(doc: Mapping[str, Any], key: str, where: str) -> str | None:
    value = doc.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ManifestError(f"{where}{key}: expected a string, got {short(value)}")


def _list(doc: Mapping[str, Any], key: str) -> list[Any]:
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ManifestError(f"{key}: expected a list, got {short(value)}")
    return value


def _files(doc: Mapping[str, Any], key: str) -> tuple[StageFile, ...]:
    out = []
    for index, item in enumerate(_list(doc, key)):
        where = f"{key}[{index}]."
        if isinstance(item, str):
            out.append(StageFile(item))
            continue
        if not isinstance(item, dict):
            raise ManifestError(f"{key}[{index}]: expected an object, got {short(item)}")
        path = _text(item, "path", where)
        if not path:
            raise ManifestError(f"{where}path: missing")
        out.append(
            StageFile(
                path,
                _text(item, "type", where),
                _text(item, "format", where),
                _number(item, "size_mb", where),
            )
        )
    return tuple(out)


def _notes(doc: Mapping[str, Any], key: str) -> tuple[Mapping[str, Any], ...]:
    out: list[Mapping[str, Any]] = []
    for index, item in enumerate(_list(doc, key)):
        if isinstance(item, str):
            out.append({"message": item})
        elif isinstance(item, dict):
            out.append(item)
        else:
            raise ManifestError(f"{key}[{index}]: expected an object, got {short(item)}")
    return tuple(out)


def parse_manifest(data: bytes, stage_dir: str) -> Stage:
    """Read a manifest's bytes into a :class:`~oos_tui.models.Stage`.

    Args:
        data: The whole file.
        stage_dir: The stage directory's name (``05_asr``) or path; its
            ``NN`` prefix is the stage's order, and the name after the prefix
            stands in for a missing ``"stage"``.

    Raises:
        ManifestError: with ``partial=True`` when the file is empty or its
            JSON ends early (a manifest being written); ``partial=False`` for
            anything else: bad JSON, not an object, a value of the wrong
            type, a missing or unknown status.
    """
    name = os.path.basename(stage_dir.rstrip("/\\")) or stage_dir
    if not data.strip():
        raise ManifestError("empty manifest", partial=True)
    try:
        doc = orjson.loads(data)
    except ValueError:
        try:
            doc = orjson.loads(data.decode("utf-8", "replace"))
        except ValueError as exc:
            reason = json_error_reason(exc)
            partial = reason.startswith("unexpected end of data")
            raise ManifestError(f"bad JSON: {reason}", partial=partial) from None
    return _stage(doc, name)


def _stage(doc: Any, name: str) -> Stage:
    if not isinstance(doc, dict):
        raise ManifestError(f"not a JSON object: {type(doc).__name__}")
    if too_deep(doc):
        raise ManifestError(f"nested deeper than {MAX_DEPTH} levels")
    status = doc.get("status")
    if status is None:
        raise ManifestError("missing status")
    if status not in STATUSES:
        raise ManifestError(f"unknown status {short(status)}")
    order, bare = stage_order(name)
    stage = _text(doc, "stage", "") or bare
    started = _text(doc, "started_at", "")
    started_at = None
    if started:
        started_at = text_ts(started)
        if started_at is None:
            raise ManifestError(f"started_at: bad timestamp {short(started)}")
    resources = doc.get("resources")
    if resources is None:
        resources = {}
    elif not isinstance(resources, dict):
        raise ManifestError(f"resources: expected an object, got {short(resources)}")
    return Stage(
        name=name,
        order=order,
        stage=stage,
        status=status,
        started_at=started_at,
        duration_seconds=_number(doc, "duration_seconds", ""),
        inputs=_files(doc, "inputs"),
        outputs=_files(doc, "outputs"),
        errors=_notes(doc, "errors"),
        warnings=_notes(doc, "warnings"),
        resources=resources,
    )


def _file_json(item: StageFile | Mapping[str, Any] | str) -> Any:
    if isinstance(item, StageFile):
        out: dict[str, Any] = {"path": item.path}
        for key in ("type", "format", "size_mb"):
            value = getattr(item, key)
            if value is not None:
                out[key] = value
        return out
    if isinstance(item, str):
        return {"path": item}
    return dict(item)


def write_manifest(
    stage: str,
    status: str,
    started_at: float | None,
    duration_seconds: float | None,
    inputs: Iterable[StageFile | Mapping[str, Any] | str],
    outputs: Iterable[StageFile | Mapping[str, Any] | str],
    intermediate_files: Iterable[Any] = (),
    config: Mapping[str, Any] | None = None,
    resources: Mapping[str, Any] | None = None,
    errors: Iterable[Mapping[str, Any]] = (),
    warnings: Iterable[Mapping[str, Any]] = (),
) -> bytes:
    """A manifest's bytes (indented JSON, final newline) that :func:`parse_manifest` reads back.

    A ``running`` manifest is how a stage announces itself before it ends;
    ``duration_seconds`` is then usually None.

    Raises:
        ValueError: ``status`` is not one of :data:`STATUSES`.
        TypeError: a value is not JSON-serialisable.
    """
    if status not in STATUSES:
        raise ValueError(f"unknown manifest status {status!r}; expected one of {sorted(STATUSES)}")
    doc = {
        "stage": stage,
        "status": status,
        "started_at": None if started_at is None else format_ts(started_at),
        "duration_seconds": duration_seconds,
        "inputs": [_file_json(item) for item in inputs],
        "outputs": [_file_json(item) for item in outputs],
        "intermediate_files": list(intermediate_files),
        "config": dict(config) if config is not None else {},
        "resources": dict(resources) if resources is not None else {},
        "errors": [dict(item) for item in errors],
        "warnings": [dict(item) for item in warnings],
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
