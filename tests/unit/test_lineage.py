"""The lineage resolver on hand-written manifests: producers, externals, finals and problems."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from oos_tui.formats.manifest import parse_manifest
from oos_tui.lineage import (
    Lineage,
    Node,
    lineage_tree,
    lineage_tree_all,
    normalize_path,
    render_tree,
    resolve_lineage,
)
from oos_tui.models import Stage


def stage(name: str, inputs: list[Any], outputs: list[Any], status: str = "success") -> Stage:
    """A stage read from a hand-written manifest, as the scanner reads one."""
    doc = {"stage": name.partition("_")[2], "status": status, "inputs": inputs, "outputs": outputs}
    return parse_manifest(orjson.dumps(doc), name)


def edges(lineage: Lineage) -> set[tuple[str, str, str]]:
    return {(e.producer, e.consumer, e.path) for e in lineage.edges}


def kinds(lineage: Lineage) -> list[str]:
    return sorted(p.kind for p in lineage.problems)


def walk(node: Node) -> list[Node]:
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        out.append(n)
        stack.extend(n.children)
    return out


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("01_demux/audio.wav", "01_demux/audio.wav"),
        ("./01_demux/audio.wav", "01_demux/audio.wav"),
        ("01_demux//audio.wav", "01_demux/audio.wav"),
        ("01_demux\\audio.wav", "01_demux/audio.wav"),
        ("01_demux/frames/", "01_demux/frames"),
        ("01_demux/x/../audio.wav", "01_demux/audio.wav"),
        ("//abs/path", "/abs/path"),
        ("", ""),
        ("./", ""),
    ],
)
def test_normalize_path(raw: str, expected: str) -> None:
    assert normalize_path(raw) == expected


def test_normalize_path_makes_absolute_paths_under_the_job_relative() -> None:
    assert normalize_path("/ws/out/job1/01_demux/a.wav", "/ws/out/job1") == "01_demux/a.wav"
    assert normalize_path("/ws/out/job1/01_demux/a.wav", "/ws/out/job1/") == "01_demux/a.wav"
    assert normalize_path("/elsewhere/a.wav", "/ws/out/job1") == "/elsewhere/a.wav"
    assert normalize_path("/ws/out/job10/a.wav", "/ws/out/job1") == "/ws/out/job10/a.wav"


def test_linear_chain() -> None:
    lineage = resolve_lineage(
        [
            stage("03_summary", ["./02_asr/segments.json"], ["03_summary/summary.md"]),
            stage("01_demux", ["input/podcast.mp3"], ["01_demux/audio.wav"]),
            stage("02_asr", ["01_demux/audio.wav"], ["02_asr/segments.json"]),
        ]
    )
    assert lineage.stages == ("01_demux", "02_asr", "03_summary")
    assert edges(lineage) == {
        ("01_demux", "02_asr", "01_demux/audio.wav"),
        ("02_asr", "03_summary", "02_asr/segments.json"),
    }
    assert [(r.stage, r.path) for r in lineage.externals] == [("01_demux", "input/podcast.mp3")]
    assert [(r.stage, r.path) for r in lineage.finals] == [("03_summary", "03_summary/summary.md")]
    assert lineage.problems == ()
    assert lineage.outputs_of("01_demux")[0].consumers == ("02_asr",)
    assert lineage.inputs_of("02_asr")[0].producer == "01_demux"


def test_fan_out_and_fan_in() -> None:
    lineage = resolve_lineage(
        [
            stage("01_demux", ["in/video.mp4"], ["01_demux/audio.wav", "01_demux/frames/"]),
            stage("02_asr", ["01_demux/audio.wav"], ["02_asr/text.json"]),
            stage("03_ocr", ["01_demux/frames/0001.png", "01_demux/frames/0002.png"], ["03_ocr/t"]),
            stage("04_merge", ["02_asr/text.json", "03_ocr/t", "in/meta.json"], ["04_merge/out"]),
        ]
    )
    assert edges(lineage) == {
        ("01_demux", "02_asr", "01_demux/audio.wav"),
        ("01_demux", "03_ocr", "01_demux/frames/0001.png"),
        ("01_demux", "03_ocr", "01_demux/frames/0002.png"),
        ("02_asr", "04_merge", "02_asr/text.json"),
        ("03_ocr", "04_merge", "03_ocr/t"),
    }
    assert {r.path for r in lineage.externals} == {"in/video.mp4", "in/meta.json"}
    assert [r.path for r in lineage.finals] == ["04_merge/out"]
    frames = lineage.outputs_of("01_demux")[1]
    assert frames.path == "01_demux/frames" and frames.consumers == ("03_ocr",)
    assert lineage.problems == ()

    tree = lineage_tree(lineage, "04_merge")
    assert tree.kind == "stage" and tree.label == "04_merge"
    assert [c.label for c in tree.children] == ["02_asr/text.json", "03_ocr/t", "in/meta.json"]
    assert tree.children[2].markers == ("external",) and tree.children[2].children == ()
    # 01_demux is reached through 02_asr first, then again through 03_ocr: traced once.
    demux = [n for n in walk(tree) if n.kind == "stage" and n.label == "01_demux"]
    assert sorted(n.markers for n in demux) == [(), ("seen",), ("seen",)]
    assert sum(1 for n in demux if n.children) == 1


def test_external_inputs_and_final_outputs_of_a_stage_with_many() -> None:
    lineage = resolve_lineage(
        [
            stage("01_a", ["/data/in/a.mp3", "C:\\in\\b.mp3"], ["01_a/x", "01_a/unused"]),
            stage("02_b", ["01_a/x"], ["02_b/y", "02_b/z"]),
        ]
    )
    assert {r.path for r in lineage.externals} == {"/data/in/a.mp3", "C:/in/b.mp3"}
    assert {(r.stage, r.path) for r in lineage.finals} == {
        ("01_a", "01_a/unused"),
        ("02_b", "02_b/y"),
        ("02_b", "02_b/z"),
    }
    roots = lineage_tree_all(lineage).children
    assert [(n.label, n.markers) for n in roots] == [
        ("01_a/unused", ("final",)),
        ("02_b/y", ("final",)),
        ("02_b/z", ("final",)),
    ]
    assert roots[0].children[0].markers == ()  # 01_a traced under its first final output
    assert roots[2].children[0].markers == ("seen",)


def test_two_stage_cycle_is_reported_and_terminates() -> None:
    lineage = resolve_lineage(
        [
            stage("01_a", ["02_b/x"], ["01_a/y"]),
            stage("02_b", ["01_a/y"], ["02_b/x"]),
        ]
    )
    assert edges(lineage) == {("02_b", "01_a", "02_b/x"), ("01_a", "02_b", "01_a/y")}
    assert kinds(lineage) == ["cycle", "order"]
    cycle = next(p for p in lineage.problems if p.kind == "cycle")
    assert cycle.stages == ("01_a", "02_b") and "01_a → 02_b → 01_a" in cycle.message
    tree = lineage_tree(lineage, "02_b")
    labels = [(n.label, n.markers) for n in walk(tree) if n.kind == "stage"]
    assert labels == [("02_b", ()), ("01_a", ()), ("02_b", ("cycle",))]
    everything = lineage_tree_all(lineage)
    # No final output: both stages still appear, each traced once.
    stages = [n for n in walk(everything) if n.kind == "stage" and not n.markers]
    assert sorted(n.label for n in stages) == ["01_a", "02_b"]


def test_self_loop_is_a_cycle_and_terminates() -> None:
    lineage = resolve_lineage([stage("01_a", ["01_a/state.json"], ["01_a/state.json"])])
    assert [(e.producer, e.consumer, e.kind) for e in lineage.edges] == [("01_a", "01_a", "self")]
    assert kinds(lineage) == ["cycle"]
    assert lineage.problems[0].stages == ("01_a",)
    assert lineage.externals == ()
    assert [r.path for r in lineage.finals] == ["01_a/state.json"]  # no other stage reads it
    tree = lineage_tree(lineage, "01_a")
    assert tree.children[0].children[0].markers == ("cycle",)
    assert len(walk(lineage_tree_all(lineage))) < 10


def test_in_place_update_reads_the_earlier_producer_not_itself() -> None:
    lineage = resolve_lineage(
        [
            stage("01_a", [], ["shared/db.json"]),
            stage("02_b", ["shared/db.json"], ["shared/db.json"]),
            stage("03_c", ["shared/db.json"], []),
        ]
    )
    assert edges(lineage) == {
        ("01_a", "02_b", "shared/db.json"),
        ("02_b", "03_c", "shared/db.json"),
    }
    assert kinds(lineage) == ["ambiguous"]


def test_input_from_a_later_stage_is_an_order_violation() -> None:
    lineage = resolve_lineage(
        [
            stage("01_a", ["03_c/late.txt"], ["01_a/x"]),
            stage("02_b", ["01_a/x"], ["02_b/y"]),
            stage("03_c", [], ["03_c/late.txt"]),
        ]
    )
    assert ("03_c", "01_a", "03_c/late.txt") in edges(lineage)
    assert kinds(lineage) == ["order"]
    problem = lineage.problems[0]
    assert problem.stages == ("01_a", "03_c") and problem.path == "03_c/late.txt"
    assert lineage.outputs_of("03_c")[0].final is False
    node = lineage_tree(lineage, "01_a").children[0]
    assert node.markers == ("order",) and node.children[0].label == "03_c"


def test_ambiguous_producer_is_reported_and_the_latest_earlier_one_wins() -> None:
    lineage = resolve_lineage(
        [
            stage("01_a", [], ["common/out.txt"]),
            stage("02_b", [], ["./common/out.txt"]),
            stage("03_c", ["common/out.txt"], []),
        ]
    )
    assert kinds(lineage) == ["ambiguous"]
    problem = lineage.problems[0]
    assert problem.stages == ("01_a", "02_b") and problem.path == "common/out.txt"
    assert lineage.inputs_of("03_c")[0].producer == "02_b"


def test_missing_files_are_reported_by_status() -> None:
    on_disk = {"in/a.mp3", "01_a/x"}
    lineage = resolve_lineage(
        [
            stage("01_a", ["in/a.mp3"], ["01_a/x", "01_a/lost"]),
            stage("02_b", ["01_a/x", "01_a/lost"], ["02_b/not-yet"], status="running"),
            stage("03_c", ["in/gone.mp3"], ["03_c/never"], status="failed"),
        ],
        exists=on_disk.__contains__,
    )
    missing = sorted((p.stages, p.path) for p in lineage.problems if p.kind == "missing")
    # 01_a/lost once as 01_a's output, once as 02_b's input; a running or failed
    # stage's outputs are not expected yet.
    assert missing == [
        (("01_a",), "01_a/lost"),
        (("02_b",), "01_a/lost"),
        (("03_c",), "in/gone.mp3"),
    ]
    assert [r.missing for r in lineage.outputs_of("01_a")] == [False, True]
    tree = lineage_tree(lineage, "03_c")
    assert tree.children[0].markers == ("external", "missing")


def test_without_exists_nothing_is_missing() -> None:
    lineage = resolve_lineage([stage("01_a", ["nowhere"], ["nothing"])])
    assert lineage.problems == ()


def test_duplicate_stage_names_are_reported() -> None:
    a = stage("01_a", [], ["01_a/x"])
    lineage = resolve_lineage([a, a])
    assert kinds(lineage) == ["duplicate"]
    assert lineage.stages == ("01_a",)


def test_stages_without_a_manifest_have_no_files_and_still_appear() -> None:
    pending = Stage("02_b", 2, "b", "missing")
    lineage = resolve_lineage([stage("01_a", [], ["01_a/x"]), pending])
    roots = lineage_tree_all(lineage).children
    assert [n.label for n in roots] == ["01_a/x", "02_b"]


def test_unknown_stage_in_tree_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        lineage_tree(resolve_lineage([]), "01_nope")


def test_large_tangled_graph_is_bounded() -> None:
    # Every stage reads every other stage's output: a dense graph of cycles.
    n = 60
    stages = [
        stage(f"{i:02d}_s", [f"{j:02d}_s/o" for j in range(n) if j != i], [f"{i:02d}_s/o"])
        for i in range(n)
    ]
    lineage = resolve_lineage(stages)
    cycles = [p for p in lineage.problems if p.kind == "cycle"]
    assert len(cycles) == 1 and len(cycles[0].stages) == n
    tree = lineage_tree_all(lineage, max_nodes=500)
    assert len(walk(tree)) <= 700
    assert any("truncated" in node.markers for node in walk(tree))
    lines = render_tree(tree)
    assert lines[0] == "lineage"


def test_deep_chain_does_not_overflow_the_stack() -> None:
    n = 1500
    stages = [
        stage(f"{i:04d}_s", [f"{i - 1:04d}_s/o"] if i else [], [f"{i:04d}_s/o"]) for i in range(n)
    ]
    lineage = resolve_lineage(stages)
    assert len(lineage.edges) == n - 1
    tree = lineage_tree(lineage, f"{n - 1:04d}_s", max_depth=100)
    assert any("truncated" in node.markers for node in walk(tree))


def test_render_tree_unicode_and_ascii() -> None:
    lineage = resolve_lineage(
        [
            stage("01_demux", [{"path": "in/p.mp3", "type": "audio", "format": "mp3"}], [
                {"path": "01_demux/audio.wav", "type": "audio", "format": "wav", "size_mb": 2.5}
            ]),
            stage("02_asr", ["01_demux/audio.wav"], ["02_asr/seg.json"]),
        ]
    )  # fmt: skip
    lines = render_tree(lineage_tree_all(lineage))
    assert lines == [
        "lineage",
        "└─ 02_asr/seg.json  [→ final]",
        "   └─ 02_asr",
        "      └─ 01_demux/audio.wav  (audio/wav  2.6 MB)",
        "         └─ 01_demux",
        "            └─ in/p.mp3  (audio/mp3)  [← external]",
    ]
    ascii_lines = render_tree(lineage_tree(lineage, "02_asr"), ascii_only=True)
    assert ascii_lines[1] == "`-- 01_demux/audio.wav  (audio/wav  2.6 MB)"
    assert all(ch.isascii() for line in ascii_lines for ch in line)


def test_to_json_shape() -> None:
    lineage = resolve_lineage(
        [stage("01_a", ["in/x"], ["01_a/y"]), stage("02_b", ["01_a/y", "02_b/self"], ["02_b/self"])]
    )
    doc = lineage.to_json()
    assert set(doc) == {"edges", "externals", "finals", "problems"}
    assert {"from": "01_a", "to": "02_b", "path": "01_a/y", "kind": "ok"} in doc["edges"]
    assert doc["externals"] == [
        {"stage": "01_a", "path": "in/x", "producer": None, "missing": False}
    ]
    assert doc["finals"] == [
        {"stage": "02_b", "path": "02_b/self", "consumers": [], "missing": False}
    ]
    assert doc["problems"][0]["kind"] == "cycle"
    orjson.dumps(doc)
