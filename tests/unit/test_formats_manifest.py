"""Stage manifests (CONTRACT §2.5): valid, partial (being written) and malformed; the writer."""

from __future__ import annotations

import random

import orjson
import pytest

from oos_tui.formats.manifest import (
    STATUSES,
    ManifestError,
    parse_manifest,
    stage_order,
    write_manifest,
)
from oos_tui.models import Stage, StageFile

T = 1_759_111_219.48
CONTRACT = {
    "stage": "asr",
    "status": "success",
    "started_at": "2025-09-29T02:00:19.480Z",
    "duration_seconds": 12.5,
    "inputs": [{"path": "01_demux/audio.wav", "type": "audio", "format": "wav"}],
    "outputs": [{"path": "05_asr/segments.json", "type": "transcript", "size_mb": 0.2}],
    "intermediate_files": [],
    "config": {},
    "resources": {"cpu_percent": 80.1, "memory_mb": 512},
    "errors": [{"at": "2025-09-29T02:00:20Z", "message": "one segment skipped"}],
    "warnings": [],
}


def manifest(**changes: object) -> bytes:
    doc = {**CONTRACT, **changes}
    return orjson.dumps({k: v for k, v in doc.items() if v is not ...})


def malformed(data: bytes) -> ManifestError:
    with pytest.raises(ManifestError) as info:
        parse_manifest(data, "05_asr")
    assert info.value.partial is False, info.value
    return info.value


def test_contract_example_every_field() -> None:
    stage = parse_manifest(orjson.dumps(CONTRACT, option=orjson.OPT_INDENT_2), "05_asr")
    assert stage == Stage(
        name="05_asr",
        order=5,
        stage="asr",
        status="success",
        started_at=pytest.approx(T),  # type: ignore[arg-type]
        duration_seconds=12.5,
        inputs=(StageFile("01_demux/audio.wav", "audio", "wav", None),),
        outputs=(StageFile("05_asr/segments.json", "transcript", None, 0.2),),
        errors=({"at": "2025-09-29T02:00:20Z", "message": "one segment skipped"},),
        warnings=(),
        resources={"cpu_percent": 80.1, "memory_mb": 512},
    )
    assert stage.manifest_error is None
    assert stage.log_path is None


def test_stage_dir_may_be_a_path_and_names_a_missing_stage() -> None:
    stage = parse_manifest(manifest(stage=...), "/ws/out/job-1/12_summarize/")
    assert (stage.name, stage.order, stage.stage) == ("12_summarize", 12, "summarize")
    stage = parse_manifest(manifest(stage=None), "scratch")
    assert (stage.name, stage.order, stage.stage) == ("scratch", 0, "scratch")


def test_stage_order() -> None:
    assert stage_order("05_asr") == (5, "asr")
    assert stage_order("100_final_pass") == (100, "final_pass")
    assert stage_order("asr") == (0, "asr")
    assert stage_order("x_asr") == (0, "x_asr")
    assert stage_order("²_asr") == (0, "²_asr")


@pytest.mark.parametrize("status", sorted(STATUSES))
def test_every_status(status: str) -> None:
    assert parse_manifest(manifest(status=status), "01_x").status == status


def test_optional_fields_may_be_missing_or_null() -> None:
    data = orjson.dumps({"status": "running"})
    stage = parse_manifest(data, "03_demux")
    assert stage.started_at is None
    assert stage.duration_seconds is None
    assert (stage.inputs, stage.outputs, stage.errors, stage.warnings) == ((), (), (), ())
    assert stage.resources == {}
    nulls = manifest(started_at=None, duration_seconds=None, inputs=None, resources=None)
    assert parse_manifest(nulls, "03_demux").inputs == ()


def test_lenient_shapes() -> None:
    stage = parse_manifest(
        manifest(inputs=["a.wav"], errors=["plain text"], duration_seconds=3), "01_x"
    )
    assert stage.inputs == (StageFile("a.wav"),)
    assert stage.errors == ({"message": "plain text"},)
    assert stage.duration_seconds == 3.0


def test_naive_and_offset_started_at() -> None:
    assert parse_manifest(manifest(started_at="2025-09-29T02:00:19.480"), "1_x").started_at == (
        pytest.approx(T)
    )
    offset = manifest(started_at="2025-09-29T04:00:19.480+02:00")
    assert parse_manifest(offset, "1_x").started_at == pytest.approx(T)


@pytest.mark.parametrize("data", [b"", b"   \n", b"{", b'{"stage": "asr", "sta'])
def test_partial_manifests(data: bytes) -> None:
    with pytest.raises(ManifestError) as info:
        parse_manifest(data, "05_asr")
    assert info.value.partial is True


def test_every_truncation_of_a_manifest_is_partial() -> None:
    doc = {**CONTRACT, "errors": [{"message": "ünïcödé ✓ 漢字"}]}
    full = write_manifest(
        "asr",
        "success",
        T,
        1.0,
        CONTRACT["inputs"],  # type: ignore[arg-type]
        CONTRACT["outputs"],  # type: ignore[arg-type]
        errors=doc["errors"],  # type: ignore[arg-type]
    )
    body = full.rstrip()
    for cut in range(len(body)):
        with pytest.raises(ManifestError) as info:
            parse_manifest(body[:cut], "05_asr")
        assert info.value.partial is True, (cut, body[:cut])
    assert parse_manifest(body, "05_asr").status == "success"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b'{"status": "success",}', "bad JSON"),
        (b"{status: success}", "bad JSON"),
        (b'{"status": "success"} trailing', "bad JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'"success"', "not a JSON object"),
        (b"{}", "missing status"),
        (b'{"status": null}', "missing status"),
        (b'{"status": "done"}', "unknown status 'done'"),
        (b'{"status": 1}', "unknown status 1"),
        (b'{"status": "success", "stage": 5}', "stage: expected a string"),
        (b'{"status": "success", "started_at": "soon"}', "started_at: bad timestamp"),
        (b'{"status": "success", "started_at": 17}', "started_at: expected a string"),
        (
            b'{"status": "success", "duration_seconds": "12s"}',
            "duration_seconds: expected a number",
        ),
        (b'{"status": "success", "duration_seconds": true}', "duration_seconds: expected a number"),
        (b'{"status": "success", "inputs": {"path": "a"}}', "inputs: expected a list"),
        (b'{"status": "success", "inputs": [1]}', "inputs[0]: expected an object"),
        (b'{"status": "success", "outputs": [{"type": "x"}]}', "outputs[0].path: missing"),
        (b'{"status": "success", "outputs": [{"path": 3}]}', "outputs[0].path: expected a string"),
        (
            b'{"status": "success", "outputs": [{"path": "a", "size_mb": "big"}]}',
            "outputs[0].size_mb: expected a number",
        ),
        (b'{"status": "success", "errors": [3]}', "errors[0]: expected an object"),
        (b'{"status": "success", "warnings": "none"}', "warnings: expected a list"),
        (b'{"status": "success", "resources": [1]}', "resources: expected an object"),
    ],
)
def test_malformed_manifests(data: bytes, fragment: str) -> None:
    assert fragment in str(malformed(data))


def test_deeply_nested_manifest_is_malformed() -> None:
    deep = b"[" * 300 + b"]" * 300
    assert "nested" in str(malformed(b'{"status": "success", "config": ' + deep + b"}"))


def test_invalid_utf8_is_replaced() -> None:
    data = b'{"status": "failed", "errors": [{"message": "caf\xe9"}]}'
    assert parse_manifest(data, "02_x").errors == ({"message": "caf\ufffd"},)


def test_manifest_error_is_a_value_error_with_a_message() -> None:
    err = ManifestError("boom", partial=True)
    assert isinstance(err, ValueError)
    assert (err.message, err.partial, str(err)) == ("boom", True, "boom")


# -- writer -----------------------------------------------------------------------------------


def test_writer_is_pretty_and_complete() -> None:
    data = write_manifest(
        "asr",
        "success",
        T,
        12.5,
        [StageFile("01_demux/audio.wav", "audio", "wav")],
        [{"path": "05_asr/segments.json", "type": "transcript", "size_mb": 0.2}],
        resources={"cpu_percent": 80.1, "memory_mb": 512},
        errors=[{"at": "2025-09-29T02:00:20Z", "message": "one segment skipped"}],
    )
    assert data.startswith(b"{\n  ") and data.endswith(b"}\n")
    assert orjson.loads(data) == CONTRACT
    assert list(orjson.loads(data)) == list(CONTRACT)


def test_writer_refuses_unknown_status() -> None:
    with pytest.raises(ValueError, match="status"):
        write_manifest("asr", "done", T, 1.0, [], [])


def test_writer_parser_round_trip() -> None:
    rng = random.Random(8)
    for _ in range(300):
        status = rng.choice(sorted(STATUSES))
        started = rng.choice([None, rng.uniform(0, 4_000_000_000)])
        duration = rng.choice([None, rng.uniform(0, 1000)])
        inputs = [
            StageFile(f"in/{i}.wav", rng.choice([None, "audio"]), rng.choice([None, "wav"]))
            for i in range(rng.randrange(4))
        ]
        outputs = [
            StageFile(f"out/{i}.json", "transcript", None, rng.choice([None, rng.random()]))
            for i in range(rng.randrange(4))
        ]
        errors = [{"message": f"e{i}", "at": "x"} for i in range(rng.randrange(3))]
        resources = {"cpu_percent": rng.random() * 100}
        data = write_manifest(
            "stage", status, started, duration, inputs, outputs, resources=resources, errors=errors
        )
        stage = parse_manifest(data, "07_stage")
        assert stage.status == status
        assert stage.stage == "stage"
        assert stage.order == 7
        assert stage.inputs == tuple(inputs)
        assert stage.outputs == tuple(outputs)
        assert stage.errors == tuple(errors)
        assert stage.resources == resources
        assert stage.duration_seconds == duration
        if started is None:
            assert stage.started_at is None
        else:
            assert stage.started_at == pytest.approx(started, abs=0.0005 + 1e-6)
