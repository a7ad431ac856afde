"""Error signatures on realistic errors, grouping, the worker rule, breakers of workers."""

from __future__ import annotations

import pytest

from oos_tui.models import Breaker, DeadLetter
from oos_tui.triage import (
    SIGNATURE_MAX,
    breaker_for_worker,
    error_signature,
    group_by_signature,
    meaningful_line,
    open_breaker_warning,
    open_breakers,
    recommend_workers,
)

PY_TRACEBACK = """Traceback (most recent call last):
  File "/app/oos/workers/asr.py", line 142, in run
    segments = model.transcribe(path)
  File "/usr/lib/python3.11/site-packages/whisper/transcribe.py", line 88, in transcribe
    mel = log_mel_spectrogram(audio)
RuntimeError: CUDA out of memory. Tried to allocate 2.50 GiB (GPU 0; 15.78 GiB total capacity)
"""

CHAINED = """Traceback (most recent call last):
  File "a.py", line 3, in <module>
    d['item_7']
KeyError: 'item_7'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "a.py", line 5, in <module>
    raise LookupError(f"no item {k}")
LookupError: no item item_7 in batch 1234
"""

CORPUS = [
    ("HTTP 503 from https://x/api/items/123", "HTTP <n> from https://x/api/items/<n>"),
    ("HTTP 503 from https://x/api/items/98765", "HTTP <n> from https://x/api/items/<n>"),
    (
        "Error 3: upstream timeout\nTraceback (most recent call last): ...",
        "Error <n>: upstream timeout",
    ),
    (
        PY_TRACEBACK,
        "RuntimeError: CUDA out of memory. Tried to allocate <n> GiB "
        "(GPU <n>; <n> GiB total capacity)",
    ),
    (CHAINED, "LookupError: no item item_<n> in batch <n>"),
    (
        'Traceback (most recent call last):\n  File "x.py", line 1\n',
        "Traceback (most recent call last):",
    ),
    (
        "FileNotFoundError: [Errno 2] No such file or directory: "
        "'/data/out/job-123/05_asr/audio.wav'",
        "FileNotFoundError: [Errno <n>] No such file or directory: '<v>'",
    ),
    (
        "OSError: cannot read /data/out/job-77/01_demux/audio.wav: truncated",
        "OSError: cannot read <path>: truncated",
    ),
    (
        "ConnectionError: HTTPSConnectionPool(host='api.openrouter.ai', port=443): Max retries "
        "exceeded with url: /api/v1/chat/completions?model=x (Caused by NewConnectionError("
        "'<urllib3.connection.HTTPSConnection object at 0x7f3a2c1b9d90>: Failed to establish a "
        "new connection: [Errno 111] Connection refused'))",
        "ConnectionError: HTTPSConnectionPool(host='<v>', port=<n>): Max retries exceeded with "
        "url: <path> (Caused by NewConnectionError('<v>'))",
    ),
    (
        "psycopg.OperationalError: connection to server at 10.0.0.5, port 5432 failed",
        "psycopg.OperationalError: connection to server at <ip>, port <n> failed",
    ),
    (
        "2025-09-29 02:00:19,480 - ERROR - Whisper crashed on TechPodcast_001 after 12.5s",
        "Whisper crashed on TechPodcast_<n> after <n>s",
    ),
    (
        "Task 3f2b9c1d-4e5f-4a6b-8c7d-1e2f3a4b5c6d timed out at 2025-09-29T02:00:19.480Z",
        "Task <uuid> timed out at <ts>",
    ),
    (
        '{"error": "rate limited for key 42", "code": 429, "retry_after": 30}',
        '{"error": "<v>", "code": <n>, "retry_after": <n>}',
    ),
    (
        "can't fetch 'episode 12' from https://user:secret@cdn.example.com:8443/m/5f2b9c1de4a0/"
        "ep12.mp3?sig=abc&exp=17#t=3.",
        "can't fetch '<v>' from https://cdn.example.com:8443/m/<hex>/ep12.mp3?sig=<v>&exp=<v>#<v>.",
    ),
    ("segfault at 0x0000 in libav", "segfault at <hex> in libav"),
    (
        "utf8 decode failed on mp3 HTTP2 stream (v1.2)",
        "utf8 decode failed on mp3 HTTP2 stream (v1.2)",
    ),
    ("Worker worker_3 hit memory limit (2048 MB)", "Worker worker_<n> hit memory limit (<n> MB)"),
    (
        "   \n\n  sqlite3.OperationalError: database is locked  \n",
        "sqlite3.OperationalError: database is locked",
    ),
    ("commit deadbeef12 failed; facade decade ok", "commit <hex> failed; facade decade ok"),
    ("C:\\Users\\op\\x.wav missing; ./rel/dir/f.txt too", "<path> missing; <path> too"),
    ("", ""),
]


@pytest.mark.parametrize(("error", "signature"), CORPUS)
def test_signature_corpus(error: str, signature: str) -> None:
    assert error_signature(error) == signature


def test_same_problem_different_items_share_a_signature() -> None:
    a = PY_TRACEBACK.replace("142", "150").replace("2.50", "1.25")
    assert error_signature(a) == error_signature(PY_TRACEBACK)
    assert error_signature("KeyError: 'a'") == error_signature("KeyError: 'b'")
    assert error_signature("HTTP 503 from https://x/a") != error_signature(
        "HTTP 503 from https://y/a"
    )


def test_meaningful_line() -> None:
    assert meaningful_line(PY_TRACEBACK).startswith("RuntimeError: CUDA")
    assert meaningful_line("first\nsecond") == "first"
    assert meaningful_line("") == ""
    assert meaningful_line("Task failed\nTraceback (most recent call last):\nX: y") == "Task failed"


def test_signature_is_bounded() -> None:
    sig = error_signature("word " * 500)
    assert len(sig) == SIGNATURE_MAX and sig.endswith("…")


def _dl(
    i: int,
    error: str,
    *,
    queue: str = "asr",
    failed_at: float | None = None,
    worker: str | None = None,
    task_type: str = "t",
) -> DeadLetter:
    return DeadLetter(
        id=i,
        task_id=i,
        queue=queue,
        task_type=task_type,
        payload="{}",
        attempts=10,
        error=error,
        worker_id=worker,
        failed_at=failed_at,
    )


def test_group_by_signature_counts_and_order() -> None:
    rows = [
        _dl(1, "HTTP 503 from https://x/items/1", failed_at=100.0),
        _dl(2, "KeyError: 'a'", queue="ingest", failed_at=300.0),
        _dl(3, "HTTP 503 from https://x/items/2", queue="ingest", failed_at=200.0, task_type="u"),
        _dl(4, "HTTP 503 from https://x/items/3", failed_at=None),
        _dl(5, "KeyError: 'b'", failed_at=50.0),
        _dl(6, "disk full", failed_at=400.0),
    ]
    groups = group_by_signature(rows)
    assert [(g.signature, g.count) for g in groups] == [
        ("HTTP <n> from https://x/items/<n>", 3),
        ("KeyError: '<v>'", 2),
        ("disk full", 1),
    ]
    http = groups[0]
    assert http.ids == (1, 3, 4)
    assert http.queues == ("asr", "ingest") and http.task_types == ("t", "u")
    assert http.newest_failed_at == 200.0 and http.example.id == 3
    assert groups[1].example.id == 2
    assert group_by_signature([]) == []


def test_group_ties_break_on_newest_then_signature() -> None:
    rows = [_dl(1, "b", failed_at=1.0), _dl(2, "a", failed_at=1.0), _dl(3, "c", failed_at=9.0)]
    assert [g.signature for g in group_by_signature(rows)] == ["c", "a", "b"]


@pytest.mark.parametrize(
    ("depth", "workers"),
    [
        (-5, 1),
        (0, 1),
        (49, 1),
        (50, 2),
        (199, 2),
        (200, 3),
        (499, 3),
        (500, 4),
        (999, 4),
        (1000, 5),
        (10**9, 5),
    ],
)
def test_recommend_workers_boundaries(depth: int, workers: int) -> None:
    assert recommend_workers(depth) == workers


def test_recommend_workers_is_monotone_and_bounded() -> None:
    values = [recommend_workers(d) for d in range(0, 3000, 7)]
    assert values == sorted(values) and min(values) == 1 and max(values) == 5


def _b(name: str, state: str = "closed") -> Breaker:
    return Breaker(name, state, 0, 10, 0, 0, None, None, None, None)


def test_breaker_for_worker() -> None:
    breakers = [_b("worker_1", "open"), _b("2"), _b("worker_3"), _b("3")]
    assert breaker_for_worker("worker_1", breakers).name == "worker_1"  # type: ignore[union-attr]
    assert breaker_for_worker("1", breakers).name == "worker_1"  # type: ignore[union-attr]
    assert breaker_for_worker("worker_2", breakers).name == "2"  # type: ignore[union-attr]
    assert breaker_for_worker("worker-2", breakers).name == "2"  # type: ignore[union-attr]
    assert breaker_for_worker("3", breakers).name == "3"  # type: ignore[union-attr]
    assert breaker_for_worker("Worker_1", breakers) is None
    assert breaker_for_worker("worker_", breakers) is None
    assert breaker_for_worker(None, breakers) is None
    assert breaker_for_worker("", breakers) is None


def test_open_breaker_warning() -> None:
    breakers = [_b("worker_1", "open"), _b("worker_2", "half_open"), _b("worker_3", "open")]
    rows = [
        _dl(1, "x", worker="worker_1"),
        _dl(2, "x", worker="1"),
        _dl(3, "x", worker="worker_2"),
        _dl(4, "x", worker="3"),
        _dl(5, "x", worker=None),
    ]
    assert open_breakers(rows, breakers) == {"worker_1": 2, "worker_3": 1}
    assert open_breaker_warning(rows, breakers) == (
        "worker breaker open: worker_1 (2 rows), worker_3 (1 row); "
        "retried tasks may fail again until it closes"
    )
    assert open_breaker_warning(rows[2:3], breakers) is None
