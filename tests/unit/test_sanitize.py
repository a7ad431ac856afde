"""sanitize: hostile log text is escaped, never emitted; secrets are masked, key names kept."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import re
import subprocess
import sys
import time
import unicodedata
import uuid
from pathlib import Path

import orjson
import pytest

from oos_tui.config import RedactSettings
from oos_tui.sanitize import MASK, Sanitizer, default_sanitizer, escape_controls

HOSTILE = Path(__file__).resolve().parent.parent / "fixtures" / "hostile"
MARKER = "s3cr3t"  # every secret in the corpus carries it, in any case
ENV = {
    "OPENROUTER_KEYS": "sk-or-v1-S3CR3Tenvaaaa,plainS3CR3Tvalue",
    "GITHUB_PAT": "patS3CR3Tvalue",
    "GOOGLE_SEARCH_API_KEY": "short12",
}

# The three RGI subdivision flags are the only legitimate use of tag characters.
RGI_TAG_FLAGS = re.compile(
    "\U0001f3f4\U000e0067\U000e0062"
    "(?:\U000e0065\U000e006e\U000e0067|\U000e0073\U000e0063\U000e0074|\U000e0077\U000e006c\U000e0073)"
    "\U000e007f"
)
ALLOWED_FORMAT = {"\u200c", "\u200d"}
INVISIBLE_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0"}
# Unassigned in this Python's Unicode 14 but format characters since Unicode 15.
FUTURE_FORMAT = {chr(c) for c in range(0x13439, 0x13440)}
SHORT = {"\a": "\\a", "\b": "\\b", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r"}


def forbidden(ch: str, *, multiline: bool = False) -> bool:
    """The characters that must never reach a terminal raw (judged by unicodedata)."""
    if ch == "\n":
        return not multiline
    category = unicodedata.category(ch)
    if category in ("Cc", "Cs", "Zl", "Zp"):
        return True
    return (category == "Cf" and ch not in ALLOWED_FORMAT) or ch in INVISIBLE_LETTERS


def is_terminal_safe(text: str, *, multiline: bool = False) -> bool:
    return not any(forbidden(ch, multiline=multiline) for ch in RGI_TAG_FLAGS.sub("", text))


def visible(ch: str) -> str:
    code = ord(ch)
    if ch in SHORT:
        return SHORT[ch]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def reference_escape(text: str, *, multiline: bool = False) -> str:
    """A slow, obviously-correct model of escape_controls, built on unicodedata."""
    if multiline:
        text = text.replace("\r\n", "\n")
    out: list[str] = []
    pos = 0
    for flag in [*RGI_TAG_FLAGS.finditer(text), None]:
        end = flag.start() if flag else len(text)
        for ch in text[pos:end]:
            out.append(visible(ch) if ch != "\t" and forbidden(ch, multiline=multiline) else ch)
        if flag:
            out.append(flag.group())
            pos = flag.end()
    return "".join(out).expandtabs(4)


def corpus(name: str, errors: str = "strict") -> list[str]:
    return (HOSTILE / name).read_bytes().decode("utf-8", errors).split("\n")[:-1]


DISPLAY_FILES = ("escapes.txt", "overwrite.txt", "unicode.txt", "markup.txt", "long.txt")
CORPUS: dict[str, list[str]] = {name: corpus(name) for name in DISPLAY_FILES}
CORPUS["invalid_utf8.bin:replace"] = corpus("invalid_utf8.bin", "replace")
CORPUS["invalid_utf8.bin:surrogateescape"] = corpus("invalid_utf8.bin", "surrogateescape")
CORPUS["benign.txt"] = corpus("benign.txt")
CORPUS["secrets.txt"] = corpus("secrets.txt")
SECRETS_EXPECTED = corpus("secrets.expected.txt")


def cases(*, secrets: bool | None = None) -> list[object]:
    """Every corpus line as a test case; only those with (or without) a secret if asked."""
    return [
        pytest.param(line, id=f"{name}:{i + 1}")
        for name, lines in CORPUS.items()
        for i, line in enumerate(lines)
        if secrets is None or (MARKER in line.lower()) is secrets
    ]


@pytest.fixture(scope="module")
def san() -> Sanitizer:
    return Sanitizer(env=ENV)


def test_corpus_is_hostile() -> None:
    """The fixture really holds raw bytes, so the tests below can fail."""
    assert not any(is_terminal_safe(line) for line in CORPUS["escapes.txt"])
    assert not any(is_terminal_safe(line) for line in CORPUS["overwrite.txt"])
    assert not is_terminal_safe(CORPUS["invalid_utf8.bin:surrogateescape"][0])
    assert "\x1b]52;c;" in CORPUS["escapes.txt"][4]
    assert "\x9b" in CORPUS["escapes.txt"][12]
    assert "\u202e" in CORPUS["unicode.txt"][0]
    assert len(SECRETS_EXPECTED) == len(CORPUS["secrets.txt"])
    assert all(MARKER in line.lower() for line in CORPUS["secrets.txt"])


# --- escaping ----------------------------------------------------------------


@pytest.mark.parametrize("line", cases())
def test_clean_output_is_terminal_safe(san: Sanitizer, line: str) -> None:
    assert is_terminal_safe(san.clean(line))
    assert is_terminal_safe(san.clean(line, multiline=True), multiline=True)
    assert "\t" not in san.clean(line)


@pytest.mark.parametrize("line", cases(secrets=False))
def test_escape_shows_exactly_what_was_there(san: Sanitizer, line: str) -> None:
    assert escape_controls(line) == reference_escape(line)
    assert escape_controls(line, multiline=True) == reference_escape(line, multiline=True)
    assert san.clean(line) == reference_escape(line)


@pytest.mark.parametrize("line", cases(secrets=False))
def test_brackets_survive(san: Sanitizer, line: str) -> None:
    out = san.clean(line)
    assert out.count("[") == line.count("[")
    assert out.count("]") == line.count("]")


@pytest.mark.parametrize("line", cases())
def test_cleaning_twice_does_not_double_escape(san: Sanitizer, line: str) -> None:
    once = san.clean(line)
    twice = san.clean(once)
    assert is_terminal_safe(twice)
    assert twice.count("\\") <= once.count("\\")
    assert MARKER not in twice.lower()


@pytest.mark.parametrize("line", cases(secrets=False))
def test_cleaning_clean_text_is_identity(san: Sanitizer, line: str) -> None:
    once = san.clean(line)
    assert san.clean(once) == once


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("\x1b]52;c;cm0gLXJmIH4vCg==\x07", "\\x1b]52;c;cm0gLXJmIH4vCg==\\a"),
        ("\x1b]0;title\x1b\\", "\\x1b]0;title\\x1b\\"),
        ('\x1bP$q"p\x1b\\', '\\x1bP$q"p\\x1b\\'),
        ("\x9b2J", "\\x9b2J"),
        ("ok\rFAIL", "ok\\rFAIL"),
        ("ab\b\bcd", "ab\\b\\bcd"),
        ("\x00\x7f\x85", "\\x00\\x7f\\x85"),
        ("\f\v\a", "\\f\\v\\a"),
        ("a\nb", "a\\nb"),
        ("invoice\u202efdp.exe", "invoice\\u202efdp.exe"),
        ("\u2066x\u2069 \u200e\u200f\u061c", "\\u2066x\\u2069 \\u200e\\u200f\\u061c"),
        ("a\u2028b\u2029c", "a\\u2028b\\u2029c"),
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        ("tag\U000e0041", "tag\\U000e0041"),
        ("bad \udc9b byte", "bad \\udc9b byte"),
        ("[INFO] started", "[INFO] started"),
        ("[bold red]markup[/] [@click=app.quit]x[/]", "[bold red]markup[/] [@click=app.quit]x[/]"),
        ("👩\u200d💻 中文 café", "👩\u200d💻 中文 café"),
        ("literal \\x1b stays", "literal \\x1b stays"),
    ],
)
def test_visible_forms(raw: str, shown: str) -> None:
    assert escape_controls(raw) == shown


def test_every_code_point_is_judged_by_its_category() -> None:
    every = "".join(chr(c) for c in range(0x110000) if c not in (9, 10))
    survivors = set(escape_controls(every))
    bad = {ch for ch in every if forbidden(ch)}
    assert not survivors & bad
    wrongly_escaped = {ch for ch in every if not forbidden(ch)} - survivors - FUTURE_FORMAT
    assert not wrongly_escaped


def test_zero_width_joiner_kept_and_zero_width_space_escaped() -> None:
    assert escape_controls("👨\u200d👩\u200d👧") == "👨\u200d👩\u200d👧"
    assert escape_controls("a\u200bb") == "a\\u200bb"


def test_subdivision_flags_kept_other_tag_runs_escaped() -> None:
    england = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
    assert escape_controls(england) == england
    assert escape_controls("\U0001f3f4\U000e0078\U000e007f") == "\U0001f3f4\\U000e0078\\U000e007f"


def test_multiline_keeps_line_breaks_only() -> None:
    assert escape_controls("a\nb", multiline=True) == "a\nb"
    assert escape_controls("a\r\nb\rc", multiline=True) == "a\nb\\rc"
    assert escape_controls("a\r\nb") == "a\\r\\nb"
    assert escape_controls("a\u2028b", multiline=True) == "a\\u2028b"


def test_tabs_expand_to_stops_of_four() -> None:
    assert escape_controls("a\tb") == "a   b"
    assert escape_controls("abcd\tx") == "abcd    x"
    assert escape_controls("\x1b\tx") == "\\x1b    x"
    assert escape_controls("ab\n\tc", multiline=True) == "ab\n    c"


def test_printable_text_is_returned_untouched() -> None:
    line = "2025-11-27 14:09:15,123 - INFO - worker - [job 42] 会議 done"
    assert escape_controls(line) is line
    assert default_sanitizer().clean(line) is line


# --- redaction ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param(line, want, id=f"secrets.txt:{i + 1}")
        for i, (line, want) in enumerate(zip(CORPUS["secrets.txt"], SECRETS_EXPECTED, strict=True))
    ],
)
def test_secrets_masked_key_names_kept(san: Sanitizer, line: str, expected: str) -> None:
    out = san.clean(line)
    assert out == expected
    assert MARKER not in out.lower()
    assert MASK in out


@pytest.mark.parametrize(
    "line",
    [pytest.param(line, id=f"benign.txt:{i + 1}") for i, line in enumerate(CORPUS["benign.txt"])],
)
def test_prose_is_not_redacted(san: Sanitizer, line: str) -> None:
    assert san.redact(line) == line


def test_redaction_runs_before_escaping(san: Sanitizer) -> None:
    """A line break ends a value in the log, and still does after cleaning."""
    text = "multi\nline password=S3CR3T\nnext"
    assert san.clean(text) == "multi\\nline password=***\\nnext"
    assert san.clean(text, multiline=True) == "multi\nline password=***\nnext"


def test_idempotent_on_masked_text(san: Sanitizer) -> None:
    for expected in SECRETS_EXPECTED:
        assert MARKER not in san.clean(expected).lower()
        assert san.clean(expected).count(MASK) >= expected.count(MASK)


def test_env_literals_need_eight_characters(san: Sanitizer) -> None:
    assert san.redact("value short12 here") == "value short12 here"
    assert san.redact("k=sk-or-v1-S3CR3Tenvaaaa,x") == "k=***,x"
    assert san.redact("see sk-or-v1-S3CR3Tenvaaaa,plainS3CR3Tvalue!") == "see ***!"


def test_env_defaults_to_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_PAT", "from-the-environment-1")
    assert Sanitizer().redact("x from-the-environment-1 y") == "x *** y"
    assert Sanitizer(env={}).redact("x from-the-environment-1 y") == "x from-the-environment-1 y"


def test_default_sanitizer_is_shared_and_reads_os_environ(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from oos_tui import sanitize

    monkeypatch.setenv("OPENROUTER_KEYS", "aaaa1111bbbb,cccc2222dddd")
    monkeypatch.setattr(sanitize, "_CONFIGURED", [])
    assert default_sanitizer() is default_sanitizer()
    assert default_sanitizer().redact("used cccc2222dddd") == "used ***"


def test_configure_makes_workspace_patterns_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from oos_tui import sanitize

    monkeypatch.setattr(sanitize, "_CONFIGURED", [])
    sanitize.configure(RedactSettings(patterns=[r"ticket-([0-9]+)"]))
    assert default_sanitizer().redact("see ticket-42") == "see ticket-***"


def test_weak_names_in_colon_form_need_a_credential_looking_value(san: Sanitizer) -> None:
    assert san.redact("token: expired") == "token: expired"
    assert san.redact("token: ab+cd/ef") == "token: ***"
    assert san.redact("auth: x1") == "auth: ***"
    assert san.redact("key: abcdefghijklmnopq") == "key: ***"
    assert san.redact("token=expired") == "token=***"
    assert san.redact('"token": "expired"') == '"token": "***"'
    assert san.redact("password: letmein") == "password: ***"


def test_extra_env_keys() -> None:
    san = Sanitizer(RedactSettings(env_keys=["OOS_DSN"]), env={"OOS_DSN": "dsn-S3CR3T-value"})
    assert san.redact("OOS_DSN=anything else") == "OOS_DSN=*** else"
    assert san.redact("got dsn-S3CR3T-value") == "got ***"
    assert san.is_secret_name("OOS_DSN")


def test_extra_patterns_group_or_whole_match() -> None:
    settings = RedactSettings(patterns=[r"ticket=(\w+)", r"INTERNAL-\d{4}"])
    san = Sanitizer(settings, env={})
    assert san.redact("ticket=abc next INTERNAL-1234 end") == "ticket=*** next *** end"
    assert san.clean("ticket=abc\x1b") == "ticket=***\\x1b"


@pytest.mark.parametrize("pattern", ["(unclosed", "[z-a]", "*x", "a{2,1}"])
def test_invalid_pattern_is_a_one_line_value_error(pattern: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(pattern))) as info:
        Sanitizer(RedactSettings(patterns=["ok", pattern]), env={})
    assert "\n" not in str(info.value)


def test_pattern_matching_empty_string_is_rejected() -> None:
    with pytest.raises(ValueError, match="empty"):
        Sanitizer(RedactSettings(patterns=["x*"]), env={})


@pytest.mark.parametrize("key", ["", "MY KEY", "A=B"])
def test_env_key_must_be_a_variable_name(key: str) -> None:
    with pytest.raises(ValueError, match="env key"):
        Sanitizer(RedactSettings(env_keys=[key]), env={})


def test_disabled_redaction_still_escapes() -> None:
    san = Sanitizer(RedactSettings(enabled=False, patterns=[r"zzz"]), env=ENV)
    assert san.redact("password=hunter2 zzz plainS3CR3Tvalue") == (
        "password=hunter2 zzz plainS3CR3Tvalue"
    )
    assert san.clean("password=hunter2\x1b[0m") == "password=hunter2\\x1b[0m"
    assert orjson.loads(san.json_bytes({"password": "x"})) == {"password": "x"}


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("password", True),
        ("DB_PASSWORD", True),
        ("client_secret", True),
        ("x-api-key", True),
        ("apiKey", True),
        ("accessToken", True),
        ("key", True),
        ("cache_key", True),
        ("GITHUB_PAT", True),
        ("OPENROUTER_KEYS", True),
        ("monkey", False),
        ("max_tokens", False),
        ("author", False),
        ("keyboard", False),
        ("message", False),
    ],
)
def test_is_secret_name(san: Sanitizer, name: str, secret: bool) -> None:
    assert san.is_secret_name(name) is secret


# --- json_bytes --------------------------------------------------------------


@pytest.mark.parametrize("line", cases())
def test_json_bytes_is_valid_inert_and_lossless(san: Sanitizer, line: str) -> None:
    out = san.json_bytes({"line": line})
    text = out.decode("utf-8")
    assert text.endswith("\n")
    assert not any(forbidden(ch) for ch in text[:-1])
    back = orjson.loads(out)["line"]
    if MARKER in line.lower():
        assert MARKER not in back.lower()
    elif re.search("[\ud800-\udfff]", line):
        assert back == re.sub("[\ud800-\udfff]", lambda m: visible(m.group()), line)
    else:
        assert back == line


def test_json_bytes_escapes_del_c1_and_bidi_as_unicode_escapes(san: Sanitizer) -> None:
    out = san.json_bytes("a\x7fb\x9bc\u202ed\u2028e\U000e0041\x1b", newline=False)
    assert out == b'"a\\u007fb\\u009bc\\u202ed\\u2028e\\udb40\\udc41\\u001b"'
    assert orjson.loads(out) == "a\x7fb\x9bc\u202ed\u2028e\U000e0041\x1b"


class Level(enum.Enum):
    ERROR = "error password=S3CR3T"


@dataclasses.dataclass
class Row:
    name: str
    token: str


class Opaque:
    def __str__(self) -> str:
        return "opaque api_key=S3CR3T"


def test_json_bytes_redacts_structures(san: Sanitizer) -> None:
    obj = {
        "password": "S3CR3T",
        "nested": {"client_secret": "S3CR3T", "apiKey": 12345, "user": "bob"},
        "OPENROUTER_KEYS": ["S3CR3Ta", "S3CR3Tb"],
        "token": None,
        "secret": True,
        "message": "login password=S3CR3T ok",
        "sk-S3CR3TS3CR3TS3CR3TS3CR3T0123": "key names are redacted too",
        "rows": (Row("a", "S3CR3T"),),
        "level": Level.ERROR,
        "tags": {"x"},
        "when": dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        "id": uuid.UUID(int=1),
        "path": Path("/tmp/password=S3CR3T"),
        "other": Opaque(),
        7: "int key",
    }
    out = san.json_bytes(obj, newline=False)
    assert not out.endswith(b"\n")
    assert MARKER.encode() not in out.lower()
    back = orjson.loads(out)
    assert back["password"] == MASK
    assert back["nested"] == {"client_secret": MASK, "apiKey": MASK, "user": "bob"}
    assert back["OPENROUTER_KEYS"] == [MASK, MASK]
    assert back["token"] is None and back["secret"] is True
    assert back["message"] == "login password=*** ok"
    assert back["rows"] == [{"name": "a", "token": MASK}]
    assert back["level"] == "error password=***"
    assert back["tags"] == ["x"]
    assert back["when"] == "2025-01-02T03:04:05+00:00"
    assert back["id"] == str(uuid.UUID(int=1))
    assert back["path"] == "/tmp/password=***"
    assert back["other"] == "opaque api_key=***"
    assert back["7"] == "int key"
    assert back["sk-***"] == "key names are redacted too"


def test_json_bytes_handles_lone_surrogates(san: Sanitizer) -> None:
    out = san.json_bytes({"k\udcff": "v\udc80"})
    assert orjson.loads(out) == {"k\\udcff": "v\\udc80"}


# --- cost --------------------------------------------------------------------


PATHOLOGICAL_SCRIPT = r"""
import time
from oos_tui.sanitize import Sanitizer
san = Sanitizer(env={})
cases = {
    "jwt-prefix-run": "eyJ" * 350_000,
    "sk-run-without-boundary": "xsk-" * 250_000,
    "escaped-quote-backslash-run": "key=\\\"" + "\\" * 1_000_000,
    "quoted-backslash-run": 'key="' + "\\" * 1_000_001,
    "open-quotes": 'password="' * 100_000,
    "url-user-run": "https://" + "a:" * 500_000,
    "keyword-run": "token" * 200_000 + "=x",
    "escape-run": "\x1b[0m" * 200_000,
    "bearer-run": "Bearer " * 150_000,
}
for name, line in cases.items():
    start = time.perf_counter()
    san.clean(line)
    print(name, time.perf_counter() - start, flush=True)
"""


def test_pathological_lines_stay_linear() -> None:
    """Megabyte lines built to make a backtracking regex go quadratic finish quickly.

    Run in a child process so a regression fails with a timeout instead of hanging the suite.
    """
    try:
        done = subprocess.run(
            [sys.executable, "-c", PATHOLOGICAL_SCRIPT],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"sanitizing stalled; finished before the stall: {exc.stdout!r}")
    seconds = {name: float(s) for name, s in (line.split() for line in done.stdout.splitlines())}
    assert len(seconds) == 9
    assert not {name: s for name, s in seconds.items() if s > 3.0}


def test_common_lines_are_cheap(san: Sanitizer) -> None:
    """A loose bound: a typical row costs microseconds, far below a repaint budget."""
    line = (
        '2025-09-29T02:00:19.480Z|DISCOVER|podcast|TechPodcast|TechPodcast_001|{"url":'
        '"https://feeds.example.com/ai","title":"AI Revolution","lang":"en","n":42}'
    )
    big = (line + " ") * 50
    runs = 500
    start = time.perf_counter()
    for _ in range(runs):
        san.clean(line)
    per_line = (time.perf_counter() - start) / runs
    start = time.perf_counter()
    for _ in range(20):
        san.clean(big)
    per_big = (time.perf_counter() - start) / 20
    assert per_line < 200e-6
    assert per_big < 10e-3
