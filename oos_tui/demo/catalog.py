"""What the simulated OOS pipeline is made of: queues, workers, task types, sources, errors.

Everything here is data. The nominal durations and cadences are seconds of the
real pipeline; the simulation divides each by ``--speed``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BAD_SOURCE",
    "BREAKER_WINDOW",
    "BURST",
    "DEPENDENCIES",
    "FAILURE_THRESHOLD",
    "HOST",
    "OUTAGE",
    "QUEUES",
    "SICK",
    "SOURCES",
    "TASK_TYPES",
    "WORKERS",
    "Cadence",
    "Source",
    "TaskType",
    "dependency_for",
    "worker_names",
]

QUEUES: tuple[str, ...] = ("ingest", "asr", "publish")
"""The task queues, in the order an item flows through them."""

WORKERS: dict[str, int] = {"ingest": 2, "asr": 3, "publish": 3}
"""How many workers serve each queue."""

HOST = "oos-demo-1"
"""The host name written into logs: constant, so a seeded run is reproducible anywhere."""

FAILURE_THRESHOLD = 10
"""Consecutive failures that open a breaker (CONTRACT §3)."""

BREAKER_WINDOW = 30.0
"""Nominal seconds an open breaker waits before going half-open."""

BAD_SOURCE = "BadFeed"
"""The source whose feed fails in bursts, tripping its own breaker."""


def worker_names(queue: str) -> tuple[str, ...]:
    """The worker ids of a queue, which are also the names of their breakers."""
    return tuple(f"worker_{queue}_{n}" for n in range(1, WORKERS[queue] + 1))


@dataclass(frozen=True, slots=True)
class TaskType:
    """One kind of task: where it runs, what it depends on, how it fails.

    ``errors`` are templates for transient failures blamed on the dependency;
    ``faults`` are failures inside the worker (they count on the worker's
    breaker); ``poison`` is the permanent error of a broken item.
    """

    name: str
    queue: str
    dependency: str
    max_attempts: int
    duration: tuple[float, float]
    fail_p: float
    errors: tuple[str, ...]
    faults: tuple[str, ...]
    poison: str
    batch: int = 1


TASK_TYPES: dict[str, TaskType] = {
    t.name: t
    for t in (
        TaskType(
            "fetch_feed_item",
            "ingest",
            "dep_feed_fetch",
            5,
            (0.2, 0.8),
            0.04,
            (
                "TimeoutError: GET {url} timed out after 30s",
                "HTTPError: 503 Service Unavailable for url: {url}",
                "ConnectionResetError: [Errno 104] Connection reset by peer ({host})",
            ),
            ("KeyError: 'enclosure'",),
            "FeedParseError: invalid enclosure at /rss/channel/item[{n}]/enclosure/@url"
            " in {item_id}",
        ),
        TaskType(
            "download_media",
            "ingest",
            "dep_media_cdn",
            10,
            (0.4, 1.2),
            0.03,
            (
                "HTTPError: 404 Not Found for url: {url}",
                "DownloadError: checksum mismatch for /data/media/{item_id}.mp4",
            ),
            ("OSError: [Errno 28] No space left on device: '/data/media/{item_id}.part'",),
            "DownloadError: unsupported container 'video/x-ms-asf' for {item_id}",
        ),
        TaskType(
            "transcribe_audio",
            "asr",
            "dep_asr_api",
            5,
            (0.4, 1.2),
            0.05,
            (
                "ASRServiceError: 503 from asr-api.internal:8443/v1/transcribe"
                " (upstream overloaded)",
                "TimeoutError: transcription of {item_id} exceeded 600s",
            ),
            ("RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB",),
            "AudioDecodeError: no audio stream in /data/media/{item_id}.wav",
        ),
        TaskType(
            "diarize_speakers",
            "asr",
            "dep_asr_api",
            3,
            (0.3, 0.9),
            0.05,
            ("ASRServiceError: 429 Too Many Requests from asr-api.internal:8443/v1/diarize",),
            ("ValueError: speaker count must be positive, got 0",),
            "DiarizationError: segment overlap at {n}.0s in {item_id}",
        ),
        TaskType(
            "publish_summary",
            "publish",
            "dep_cms_api",
            10,
            (0.1, 0.5),
            0.03,
            (
                "HTTPError: 502 Bad Gateway for url: https://cms.example.com/api/posts",
                "CMSError: 409 Conflict: slug '{slug}' already exists",
            ),
            ("UnicodeEncodeError: 'latin-1' codec can't encode character '\\u2019'",),
            "ValidationError: summary for {item_id} is empty",
        ),
        TaskType(
            "notify_webhook",
            "publish",
            "dep_webhook",
            3,
            (0.05, 0.3),
            0.06,
            ("WebhookError: POST https://hooks.example.org/oos/{n} returned 410 Gone",),
            ("TypeError: Object of type datetime is not JSON serializable",),
            "WebhookError: POST https://hooks.example.org/oos/{n} returned 400 Bad Request",
        ),
        TaskType(
            "reindex_search",
            "publish",
            "dep_search_index",
            3,
            (0.1, 0.3),
            0.01,
            ("ElasticsearchTimeout: bulk request to search-1:9200 timed out after 10s",),
            ("MemoryError: bulk buffer exceeded 64 MiB",),
            "MapperParsingError: failed to parse field [published_at] of {item_id}",
            batch=10,
        ),
    )
}
"""Every task type by name."""

DEPENDENCIES: tuple[str, ...] = (
    "dep_feed_fetch",
    "dep_feed_badfeed",
    "dep_media_cdn",
    "dep_asr_api",
    "dep_cms_api",
    "dep_webhook",
    "dep_search_index",
)
"""The guarded dependencies, each with its own breaker."""


def dependency_for(task_type: str, source: str | None) -> str:
    """The breaker guarding a task: the bad source's own feed fetch, else its type's."""
    if task_type == "fetch_feed_item" and source == BAD_SOURCE:
        return "dep_feed_badfeed"
    return TASK_TYPES[task_type].dependency


@dataclass(frozen=True, slots=True)
class Source:
    """A feed the pipeline discovers items from."""

    name: str
    content_type: str
    feed: str
    weight: float


SOURCES: tuple[Source, ...] = (
    Source("TechPodcast", "podcast", "https://feeds.example.com/techpodcast.xml", 3.0),
    Source("AIWeekly", "podcast", "https://aiweekly.example.net/rss", 2.0),
    Source("CityRadio", "radio", "https://radio.example.org/stream/archive.xml", 1.5),
    Source("VideoLectures", "video", "https://lectures.example.edu/feed.atom", 1.5),
    Source(BAD_SOURCE, "podcast", "https://badfeed.example.net/rss", 1.0),
)
"""The feeds, with their share of discoveries."""


@dataclass(frozen=True, slots=True)
class Cadence:
    """A recurring episode: first start, period, and least duration (nominal seconds)."""

    first: float
    every: float
    lasts: float


OUTAGE = Cadence(first=8.0, every=90.0, lasts=15.0)
"""The bad source fails every fetch for a while: its breaker trips, then recovers."""

SICK = Cadence(first=25.0, every=120.0, lasts=20.0)
"""One worker fails every task it takes for a while: its own breaker trips."""

BURST = Cadence(first=20.0, every=240.0, lasts=0.0)
"""A search re-index backfill floods the publish queue past the 1000-pending alert."""
