"""The search language (issue 5): every field, operator, combination, time form and error."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from oos_tui.models import Event, Severity
from oos_tui.query import FIELDS, Query, QueryError, compile_query

NOW = 1_759_111_200.0  # 2025-09-29T02:00:00Z


def ev(**kw: Any) -> Event:
    """An event with harmless defaults; tests set only what they look at."""
    base: dict[str, Any] = {
        "ts": NOW - 60,
        "severity": Severity.INFO,
        "kind": "oos",
        "source": "TechPodcast",
        "event_type": "PROCESS",
        "message": "",
        "raw": "",
    }
    base.update(kw)
    return Event(**base)


def q(text: str) -> Query:
    return compile_query(text, now=NOW)


def m(text: str, event: Event) -> bool:
    return q(text).matches(event)


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


# --------------------------------------------------------------------------- empty


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_query_matches_everything(text: str) -> None:
    query = q(text)
    assert query.is_empty
    assert query.matches(ev())
    assert query.since is None and query.until is None
    assert query.describe() == "everything"
    assert query.highlights("anything") == []
    assert all(query.prefilter(kind) is None for kind in ("oos", "ai", "app", "job", "store"))


def test_a_query_with_terms_is_not_empty() -> None:
    assert not q("x").is_empty
    assert q("x").text == "x"


def test_fields_lists_every_field() -> None:
    assert set(FIELDS) == {
        "severity", "type", "source", "system", "kind", "tag",
        "item", "corr", "file", "queue", "since", "until",
    }  # fmt: skip


# --------------------------------------------------------------------------- text


def test_word_matches_message_ignoring_case() -> None:
    assert m("timeout", ev(message="Upstream TIMEOUT after 30s"))
    assert m("TIMEOUT", ev(message="upstream timeout"))
    assert not m("timeout", ev(message="all good"))


def test_word_matches_raw_line_that_holds_the_data() -> None:
    e = ev(message="AI Revolution", raw='...|{"url":"https://feeds.example.com/ai"}')
    assert m("feeds.example", e)
    assert m('"https://feeds.example.com/ai"', e)
    assert not m("podcast", e)


def test_word_with_colon_after_a_non_identifier_is_text() -> None:
    e = ev(message="finished at 12:30 sharp")
    assert m("12:30", e)
    assert q("12:30").describe() == "12:30"


def test_unicode_words_ignore_case() -> None:
    assert m("CAFÉ", ev(message="un café noir"))
    assert m("straße", ev(message="STRASSE ist nicht Straße"))
    assert m("日本語", ev(raw="{'x': '日本語'}"))
    assert m("🎉", ev(message="done 🎉"))


def test_star_in_a_word_is_literal() -> None:
    assert m("a*b", ev(message="x a*b y"))
    assert not m("a*b", ev(message="aXb"))


def test_phrase_matches_the_words_in_order() -> None:
    e = ev(message="Connection refused by peer")
    assert m('"connection refused"', e)
    assert not m('"refused connection"', e)
    assert not m('"connection  refused"', e)


def test_phrase_escapes() -> None:
    assert m(r'"say \"hi\""', ev(message='they say "hi" twice'))
    assert m(r'"a\\b"', ev(message="path a\\b"))
    assert m(r'"a\nb"', ev(message="raw a\\nb"))  # other backslashes stay as they are


def test_quoted_keyword_and_field_are_text() -> None:
    assert m('"OR"', ev(message="this or that"))
    assert m('"type:FAIL"', ev(message="saw type:fail in the logs"))
    assert not m('"type:FAIL"', ev(event_type="FAIL"))
    assert m('"-1"', ev(message="exit -1"))
    assert m('"/tmp/x"', ev(message="wrote /tmp/x"))


def test_lowercase_or_and_not_are_words() -> None:
    assert not m("cats or dogs", ev(message="cats only"))
    assert m("cats or dogs", ev(message="cats or dogs"))
    assert m("this and that", ev(message="this AND that"))
    assert not m("not", ev(message="yes"))


def test_words_combine_with_and_across_message_and_raw() -> None:
    e = ev(message="Task failed", raw='{"queue": "transcode"}')
    assert m("failed transcode", e)
    assert not m("failed missing", e)


def test_unknown_identifier_with_equals_is_text() -> None:
    e = ev(message="action=start k=v")
    assert m("action=start", e)
    assert m("k=v", e)
    assert not m("action=stop", e)


def test_parentheses_end_a_word() -> None:
    # f(x) reads as f AND x: the documented cost of parentheses that always group.
    assert q("f(x)").describe() == "f AND x"
    assert m('"f(x)"', ev(message="call f(x)"))


# --------------------------------------------------------------------------- regex


def test_regex_is_case_sensitive_by_default() -> None:
    assert m(r"/HTTP 5\d\d/", ev(message="got HTTP 503 back"))
    assert not m(r"/HTTP 5\d\d/", ev(message="got http 503 back"))
    assert not m(r"/HTTP 5\d\d/", ev(message="got HTTP 404 back"))


def test_regex_i_flag_ignores_case() -> None:
    assert m(r"/http 5\d\d/i", ev(message="got HTTP 503 back"))


def test_regex_escaped_slash_and_spaces_and_parentheses() -> None:
    assert m(r"/a\/b/", ev(message="path a/b"))
    assert m(r"/feeds\/(ai|ml) done/", ev(message="feeds/ml done"))
    assert not m(r"/feeds\/(ai|ml) done/", ev(message="feeds/xx done"))


def test_regex_searches_the_raw_line_too() -> None:
    assert m(r'/"duration":\d+/', ev(message="x", raw='{"duration":12}'))


def test_regex_followed_by_another_term() -> None:
    assert m("/ab+c/ x", ev(message="abbbc x"))
    assert not m("/ab+c/ x", ev(message="abbbc"))


# --------------------------------------------------------------------------- severity

SEVERITIES = list(Severity)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("severity:error", {Severity.ERROR}),
        ("severity=error", {Severity.ERROR}),
        ("severity>=warning", {Severity.WARNING, Severity.ERROR, Severity.CRITICAL}),
        ("severity:>=warning", {Severity.WARNING, Severity.ERROR, Severity.CRITICAL}),
        ("severity>warning", {Severity.ERROR, Severity.CRITICAL}),
        ("severity<=info", {Severity.DEBUG, Severity.INFO}),
        ("severity<info", {Severity.DEBUG}),
        ("severity:<info", {Severity.DEBUG}),
        ("level:warn", {Severity.WARNING}),
        ("level>=err", {Severity.ERROR, Severity.CRITICAL}),
        ("severity:crit", {Severity.CRITICAL}),
        ("severity:fatal", {Severity.CRITICAL}),
        ("severity:CRITICAL", {Severity.CRITICAL}),
        ("severity:debug", {Severity.DEBUG}),
        ("severity:info", {Severity.INFO}),
        ("LEVEL:Error", {Severity.ERROR}),
        ("-severity>=error", {Severity.DEBUG, Severity.INFO, Severity.WARNING}),
    ],
)
def test_severity(text: str, expected: set[Severity]) -> None:
    assert {s for s in SEVERITIES if m(text, ev(severity=s))} == expected


def test_severity_renders_canonically() -> None:
    assert q("level>=warn").describe() == "severity>=warning"
    assert q("severity=err").describe() == "severity:error"
    assert q("severity:<=INFO").describe() == "severity<=info"


# --------------------------------------------------------------------------- fields


def test_type_whole_value_ignoring_case() -> None:
    assert m("type:FAIL", ev(event_type="FAIL"))
    assert m("type:fail", ev(event_type="FAIL"))
    assert m("type=FAIL", ev(event_type="fail"))
    assert not m("type:FAIL", ev(event_type="FAILED"))
    assert m("event_type:error", ev(event_type="error"))


@pytest.mark.parametrize(
    ("pattern", "hits"),
    [
        ("FA*", {"FAIL", "FAILED", "fa"}),
        ("*ED", {"FAILED", "COMPLETED"}),
        ("*AIL*", {"FAIL", "FAILED"}),
        ("C*T*D", {"COMPLETED"}),
        ("*", {"FAIL", "FAILED", "fa", "COMPLETED", "PROCESS"}),
        ("**", {"FAIL", "FAILED", "fa", "COMPLETED", "PROCESS"}),
    ],
)
def test_type_globs(pattern: str, hits: set[str]) -> None:
    types = ["FAIL", "FAILED", "fa", "COMPLETED", "PROCESS"]
    assert {t for t in types if m(f"type:{pattern}", ev(event_type=t))} == hits


def test_source_glob_and_quoted_value() -> None:
    assert m("source:Tech*", ev(source="TechPodcast"))
    assert m("source:tech*", ev(source="TechPodcast"))
    assert not m("source:Tech*", ev(source="MyTechPodcast"))
    assert m('source:"My Source"', ev(source="my source"))
    assert m('source:"My *"', ev(source="My Other Source"))
    assert m('source:"say \\"x\\""', ev(source='say "x"'))
    assert not m("source:Straße", ev(source="STRASSE"))
    assert m("source:ÉCOLE", ev(source="école"))


def test_system_is_the_store_system_else_the_source() -> None:
    store = ev(kind="store", source="worker-3", data={"system": "ingest"})
    assert m("system:ingest", store)
    assert not m("system:worker-3", store)
    assert m("source:worker-3", store)
    assert m("system:worker-3", ev(kind="store", source="worker-3", data={"system": 5}))
    log = ev(kind="app", source="api", data={"system": "other"})
    assert m("system:api", log)
    assert not m("system:other", log)


def test_kind_exact_and_glob() -> None:
    assert m("kind:oos", ev(kind="oos"))
    assert m("kind:OOS", ev(kind="oos"))
    assert not m("kind:ai", ev(kind="app"))
    assert m("kind:a*", ev(kind="ai")) and m("kind:a*", ev(kind="app"))
    assert not m("kind:a*", ev(kind="store"))


def test_tag_matches_any_tag() -> None:
    e = ev(tags=("podcast", "Urgent"))
    assert m("tag:podcast", e)
    assert m("tag:urgent", e)
    assert m("tag:urg*", e)
    assert not m("tag:video", e)
    assert not m("tag:*", ev(tags=()))
    assert m("-tag:video", e)


def test_item_and_corr() -> None:
    e = ev(item_id="TechPodcast_001", correlation_id="req-42")
    assert m("item:techpodcast_001", e)
    assert m("item_id:TechPodcast_*", e)
    assert not m("item:TechPodcast_00", e)
    assert m("corr:req-42", e)
    assert m("correlation_id:REQ-*", e)
    none = ev()
    assert not m("item:*", none)
    assert not m("corr:*", none)
    assert m("-item:x", none)
    assert m("-corr:x", none)


def test_file_is_a_part_of_the_path_or_a_glob() -> None:
    e = ev(file="out/job1/05_asr/stage.log")
    assert m("file:05_asr", e)
    assert m("file:STAGE.LOG", e)
    assert m("file:*.log", e)
    assert not m("file:*.log.1", e)
    assert m("file:out/*/stage.log", e)
    assert not m("file:out/*/other.log", e)
    assert not m("file:x", ev(file=None))


@pytest.mark.parametrize(
    "data",
    [
        {"queue": "transcode"},
        {"metadata": {"queue": "transcode"}},
        {"context": {"queue": "Transcode"}},
        {"details": {"queue": "transcode"}},
        {"payload": {"queue": "TRANSCODE"}},
        {"queue": "other", "metadata": {"queue": "transcode"}},
    ],
)
def test_queue_found_in_the_data(data: dict[str, Any]) -> None:
    assert m("queue:transcode", ev(data=data))
    assert m("queue:trans*", ev(data=data))


@pytest.mark.parametrize(
    "data",
    [None, [], "queue", {"queue": ""}, {"queue": True}, {"x": {"queue": "transcode"}},
     {"metadata": "queue=transcode"}, {"queue": 3.5}],
)  # fmt: skip
def test_queue_not_found(data: Any) -> None:
    assert not m("queue:transcode", ev(data=data))
    assert not m("queue:*", ev(data=data))


def test_queue_number_reads_as_text() -> None:
    assert m("queue:7", ev(data={"queue": 7}))


def test_field_names_ignore_case() -> None:
    assert m("TYPE:fail", ev(event_type="FAIL"))
    assert m("Source:tech*", ev(source="TechPodcast"))


# --------------------------------------------------------------------------- time


@pytest.mark.parametrize(
    ("text", "since"),
    [
        ("since:90s", NOW - 90),
        ("since:15m", NOW - 900),
        ("since:2h", NOW - 7200),
        ("since:1d", NOW - 86400),
        ("since:1w", NOW - 604800),
        ("since:1h30m", NOW - 5400),
        ("since:1.5h", NOW - 5400),
        ("since:15M", NOW - 900),
        ("since:now", NOW),
        ("since:2025-09-29", at("2025-09-29T00:00:00")),
        ("since:2025-09-29T02:00", at("2025-09-29T02:00:00")),
        ("since:2025-09-29T01:30:15.5", at("2025-09-29T01:30:15.5")),
        ("since:2025-09-29T02:00Z", at("2025-09-29T02:00:00")),
        ("since:2025-09-29T04:00+02:00", at("2025-09-29T02:00:00")),
        ('since:"2025-09-29 02:00"', at("2025-09-29T02:00:00")),
    ],
)
def test_since_values(text: str, since: float) -> None:
    query = q(text)
    assert query.since == pytest.approx(since)
    assert query.until is None


def test_since_is_inclusive_until_is_exclusive() -> None:
    t = at("2025-09-29T01:00:00")
    assert m("since:2025-09-29T01:00", ev(ts=t))
    assert not m("since:2025-09-29T01:00", ev(ts=t - 0.001))
    assert not m("until:2025-09-29T01:00", ev(ts=t))
    assert m("until:2025-09-29T01:00", ev(ts=t - 0.001))


def test_relative_until_and_a_window() -> None:
    query = q("since:2h until:1h")
    assert (query.since, query.until) == (NOW - 7200, NOW - 3600)
    assert query.matches(ev(ts=NOW - 5000))
    assert not query.matches(ev(ts=NOW - 100))
    assert not query.matches(ev(ts=NOW - 8000))


def test_now_defaults_to_the_clock() -> None:
    import time

    before = time.time()
    query = compile_query("since:1m")
    assert query.since is not None
    assert before - 61 <= query.since <= time.time() - 59


def test_time_never_matches_an_unknown_time() -> None:
    nan = ev(ts=math.nan)
    assert not m("since:1h", nan)
    assert not m("until:1h", nan)
    assert m("-since:1h", nan)


@pytest.mark.parametrize(
    ("text", "since", "until"),
    [
        ("x", None, None),
        ("since:1h", NOW - 3600, None),
        ("since:2h since:1h", NOW - 3600, None),
        ("until:2h until:1h", None, NOW - 7200),
        ("since:1h OR since:2h", NOW - 7200, None),
        ("since:1h OR x", None, None),
        ("(since:1h until:10m) OR (since:3h until:2h)", NOW - 10800, NOW - 600),
        ("(since:1h x) OR (since:2h until:1m)", NOW - 7200, None),
        ("-since:1h", None, None),
        ("NOT until:1h", None, None),
        ("a (b since:5m)", NOW - 300, None),
    ],
)
def test_since_until_bounds(text: str, since: float | None, until: float | None) -> None:
    query = q(text)
    assert (query.since, query.until) == (since, until)


# --------------------------------------------------------------------------- combining


def truth(text: str, **words: bool) -> bool:
    message = " ".join(name for name, present in words.items() if present)
    return m(text, ev(message=message))


@pytest.mark.parametrize("a", [False, True])
@pytest.mark.parametrize("b", [False, True])
@pytest.mark.parametrize("c", [False, True])
def test_and_binds_tighter_than_or(a: bool, b: bool, c: bool) -> None:
    words = {"aa": a, "bb": b, "cc": c}
    assert truth("aa bb OR cc", **words) == ((a and b) or c)
    assert truth("aa AND bb OR cc", **words) == ((a and b) or c)
    assert truth("aa OR bb cc", **words) == (a or (b and c))
    assert truth("aa (bb OR cc)", **words) == (a and (b or c))
    assert truth("(aa OR bb) cc", **words) == ((a or b) and c)
    assert truth("-aa bb", **words) == ((not a) and b)
    assert truth("NOT aa bb", **words) == ((not a) and b)
    assert truth("-(aa OR bb) cc", **words) == ((not (a or b)) and c)
    assert truth("NOT (aa bb)", **words) == (not (a and b))
    assert truth("((aa))", **words) == a
    assert truth("aa OR bb OR cc", **words) == (a or b or c)
    assert truth("--aa", **words) == a
    assert truth("aa -bb -cc", **words) == (a and not b and not c)


def test_negation_applies_to_every_term() -> None:
    e = ev(message="Connection refused", event_type="FAIL", source="TechPodcast")
    assert not m("-refused", e)
    assert not m('-"connection refused"', e)
    assert not m("-/refused$/", e)
    assert not m("-type:FAIL", e)
    assert not m("-source:tech*", e)
    assert not m("-kind:oos", e)
    assert not m("-severity:info", e)
    assert not m("-(refused OR nothing)", e)
    assert m("-nothing", e)
    assert m("-type:RETRY", e)


def test_describe_normalises() -> None:
    assert q("type:FAIL -source:x").describe() == "type:FAIL AND NOT source:x"
    assert q("a b OR c").describe() == "a AND b OR c"
    assert q("a (b OR c)").describe() == "a AND (b OR c)"
    assert q("-(a b)").describe() == "NOT (a AND b)"
    assert q('"connection refused" /x\\/y/i').describe() == '"connection refused" AND /x\\/y/i'
    assert q('source:"My Source" since:15m').describe() == 'source:"My Source" AND since:15m'
    assert q('"OR" "-x" "a:b" "plain"').describe() == '"OR" AND "-x" AND "a:b" AND plain'
    assert q("level=warn").describe() == "severity:warning"
    assert q("item_id:x correlation_id:y event_type:z").describe() == "item:x AND corr:y AND type:z"


@pytest.mark.parametrize(
    "text",
    [
        "type:FAIL -source:x",
        "a b OR c d",
        "-(a OR b) c",
        '"say \\"hi\\"" \'x\'',
        r"/a\/b (c|d)/i -/x/",
        'source:"My \\"odd\\" Source" tag:*x*',
        "severity>warning OR severity<=debug",
        "since:1h30m until:2025-09-29T01:00",
        '"a\\\\b" "NOT" AND x',
        "NOT NOT a",
        "x=y kind:a*",
    ],
)
def test_describe_reads_back_as_the_same_query(text: str) -> None:
    first = q(text)
    again = q(first.describe())
    assert again.describe() == first.describe()
    assert (again.since, again.until) == (first.since, first.until)


# --------------------------------------------------------------------------- highlights


def test_highlights_positive_words_phrases_and_regexes() -> None:
    query = q('timeout "HTTP 5" /\\d{3}/ -ignored type:FAIL')
    text = "Timeout: HTTP 503 ignored, timeout again"
    spans = query.highlights(text)
    assert [text[a:b] for a, b in spans] == ["Timeout", "HTTP 503", "timeout"]


def test_highlights_merge_overlaps_and_skip_empty_regex_matches() -> None:
    query = q("abc bcd /x*/")
    assert query.highlights("zabcdz") == [(1, 5)]


def test_highlights_inside_or_and_double_negation() -> None:
    query = q("alpha OR -(beta) OR --gamma")
    text = "alpha beta gamma"
    assert [text[a:b] for a, b in query.highlights(text)] == ["alpha", "gamma"]


def test_highlights_when_lowering_changes_length() -> None:
    text = "İstanbul timeout"
    spans = q("timeout").highlights(text)
    assert [text[a:b] for a, b in spans] == ["timeout"]


def test_highlights_empty_text() -> None:
    assert q("x").highlights("") == []


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("tpye:FAIL", "unknown field 'tpye' (did you mean 'type'?)", 0),
        ("x sourc:a", "unknown field 'sourc' (did you mean 'source'?)", 2),
        ("lvl:error", "unknown field 'lvl' (did you mean 'level'?)", 0),
        ("sevrity>=warning", "unknown field 'sevrity' (did you mean 'severity'?)", 0),
        (
            "http://x/y",
            "unknown field 'http' (to search for the text, quote it: \"http://x/y\")",
            0,
        ),
        ("severity:warnin", "unknown severity 'warnin' (did you mean 'warning'?)", 9),
        ("level>=zzz", "unknown severity 'zzz' (use debug, info, warning, error, critical)", 7),
        ("type>=FAIL", "'>=' compares severities only; write type:VALUE", 4),
        ("x source<a", "'<' compares severities only; write source:VALUE", 8),
        ("since>1h", "'>' compares severities only; write since:VALUE", 5),
        (
            "since:yesterday",
            "bad time 'yesterday' for since: use a duration such as 15m, 2h or 1d,"
            " or a date such as 2025-09-29T02:00",
            6,
        ),
        ("until:2025-13-01", None, 6),
        ("since:15x", None, 6),
        ("type:", "type: needs a value", 5),
        ("type: FAIL", "type: needs a value", 5),
        ('type:""', "type: needs a value", 5),
        ("(type:)", "type: needs a value", 6),
        ("severity>=", "severity>= needs a value", 10),
        ("severity:>=", "severity:>= needs a value", 11),
        ('"abc', 'unclosed quote: add the closing "', 0),
        ('x source:"abc', 'unclosed quote: add the closing "', 9),
        ('x "a\\"', 'unclosed quote: add the closing "', 2),
        ('""', 'empty quotes: put the text to search between ""', 0),
        ("(a", "unclosed '('", 0),
        ("a (b (c)", "unclosed '('", 2),
        ("a)", "unmatched ')'", 1),
        ("(a))", "unmatched ')'", 3),
        (")", "unmatched ')'", 0),
        ("()", "empty '()'", 0),
        ("a () b", "empty '()'", 2),
        ("OR a", "OR needs a term before it", 0),
        ("a OR", "OR needs a term after it", 2),
        ("a OR OR b", "OR needs a term after it", 2),
        ("(a OR) b", "OR needs a term after it", 3),
        ("(OR a)", "OR needs a term before it", 1),
        ("AND a", "AND needs a term before it", 0),
        ("a AND", "AND needs a term after it", 2),
        ("a AND OR b", "AND needs a term after it", 2),
        ("a -", "'-' must be followed by the term to exclude", 2),
        ("- a", "'-' must be followed by the term to exclude", 0),
        ("(a -)", "'-' must be followed by the term to exclude", 3),
        ("-OR a", "'-' must be followed by the term to exclude", 0),
        ("a NOT", "NOT must be followed by the term to exclude", 2),
        ("NOT OR a", "NOT must be followed by the term to exclude", 0),
        ("/a(/", "bad regex: missing ), unterminated subpattern", 2),
        ("x /[a/", "bad regex: unterminated character set", 3),
        ("/a/ /*/", "bad regex: nothing to repeat", 5),
        ("/abc", "unclosed regex: add the closing /", 0),
        ("x /a\\/", "unclosed regex: add the closing /", 2),
        ("//", "empty regex //", 0),
        ("/a/x", "unknown regex flag 'x' (only i, ignore case; quote text with /)", 3),
        ("/usr/bin", "unknown regex flag 'b' (only i, ignore case; quote text with /)", 5),
        ("kind:foo", "unknown kind 'foo' (use oos, ai, app, store, job)", 5),
        ("kind:z*", "unknown kind 'z*' (use oos, ai, app, store, job)", 5),
    ],
)
def test_errors(text: str, message: str | None, position: int) -> None:
    with pytest.raises(QueryError) as info:
        compile_query(text, now=NOW)
    if message is not None:
        assert str(info.value) == message
    assert info.value.position == position
    assert "\n" not in str(info.value)


def test_query_error_is_a_value_error() -> None:
    err = QueryError("boom", 3)
    assert isinstance(err, ValueError)
    assert (err.message, err.position, str(err)) == ("boom", 3, "boom")
    assert QueryError("x").position is None


def test_unknown_identifier_far_from_any_field_with_comparison_is_text() -> None:
    assert m("temperature>=40", ev(message="temperature>=40 reached"))
    assert m("x<y", ev(message="if x<y"))
