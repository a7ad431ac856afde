"""Make text from logs and the store safe for a terminal: escape controls, redact secrets."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import functools
import os
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from oos_tui.config import RedactSettings

__all__ = [
    "DEFAULT_ENV_KEYS",
    "MASK",
    "Sanitizer",
    "default_sanitizer",
    "escape_controls",
]

MASK = "***"

DEFAULT_ENV_KEYS: tuple[str, ...] = ("GOOGLE_SEARCH_API_KEY", "OPENROUTER_KEYS", "GITHUB_PAT")

_MIN_LITERAL = 8

# Cf (format) minus U+200C/U+200D, Zl, Zp, C1, DEL and the Hangul fillers.
# tests/unit/test_sanitize.py checks this against the running unicodedata.
_UNICODE_UNSAFE = (
    "\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u115f\u1160\u180e\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f"
    "\u3164\ufeff\uffa0\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_SURROGATES = "\ud800-\udfff"
_C0_BUT_TAB_LF = "\x00-\x08\x0b-\x1f"

# England, Scotland and Wales: the only emoji that are made of tag characters.
_TAG_FLAGS = (
    "\U0001f3f4\U000e0067\U000e0062"
    "(?:\U000e0065\U000e006e\U000e0067|\U000e0073\U000e0063\U000e0074|\U000e0077\U000e006c\U000e0073)"
    "\U000e007f"
)

_UNSAFE_LINE = re.compile(
    f"(?P<flag>{_TAG_FLAGS})|[{_C0_BUT_TAB_LF}\n{_UNICODE_UNSAFE}{_SURROGATES}]+"
)
_UNSAFE_MULTI = re.compile(
    f"(?P<flag>{_TAG_FLAGS})|[{_C0_BUT_TAB_LF}{_UNICODE_UNSAFE}{_SURROGATES}]+"
)
_FILLERS = ("\u115f", "\u1160", "\u3164", "\uffa0")
_JSON_UNSAFE = re.compile(f"[{_UNICODE_UNSAFE}]+")

_SHORT_FORMS = {
    "\a": "\\a",
    "\b": "\\b",
    "\n": "\\n",
    "\v": "\\v",
    "\f": "\\f",
    "\r": "\\r",
}


@functools.cache
def _escape_char(ch: str) -> str:
    short = _SHORT_FORMS.get(ch)
    if short is not None:
        return short
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _escape_run(match: re.Match[str]) -> str:
    if match.lastgroup == "flag":
        return match.group()
    return "".join(map(_escape_char, match.group()))


def escape_controls(text: str, *, multiline: bool = False) -> str:
    """Show every terminal-active or text-hiding character as a visible escape.

    Log text is hostile: one raw ESC can clear the screen, retitle the window
    or write the clipboard (OSC 52), and a bidi override can make a line read
    differently from what it holds. So these are shown, never emitted: C0
    controls (``\\a \\b \\n \\v \\f \\r`` in short form, the rest as
    ``\\x1b``), DEL and C1 (``\\x7f``, ``\\x9b``), which leaves every
    ESC/CSI/OSC/DCS/APC/PM/SOS sequence as inert, readable text; Unicode
    format characters (bidi marks, embeddings, overrides and isolates,
    zero-width space, soft hyphen, BOM, tag characters) and the line and
    paragraph separators as ``\\u202e``/``\\U000e0041``; lone surrogates from
    ``surrogateescape`` (``\\udc80``); and the invisible Hangul fillers.
    Printable text passes untouched, emoji and CJK included, and so do the
    joiners U+200D/U+200C (emoji sequences, Indic and Persian scripts) and
    the three subdivision-flag emoji, the one legitimate use of tag
    characters. A tab becomes spaces to the next multiple of 4 characters.

    Backslashes are not escaped: the form is for display only and is not a
    reversible encoding (a log holding the four characters ``\\x1b`` looks
    like one that held an ESC), and cleaning twice never double-escapes.
    Brackets are not touched either: the faces render with markup off
    (``Content(text)``, ``markup=False``), so ``[INFO]`` stays ``[INFO]``.
    This is escaping only, for text that cannot hold secrets or was redacted
    already. Printable text comes back as the same object, which keeps the
    cost of a repaint near zero.

    Args:
        text: Anything read from a log file, the store or a process table.
        multiline: Keep ``\\n`` (and read ``\\r\\n`` as ``\\n``) instead of
            showing it as ``\\n``; for detail panes and tracebacks.

    Returns:
        Text that holds no control, format, separator or surrogate character.
    """
    if text.isprintable() and (text.isascii() or not any(f in text for f in _FILLERS)):
        return text
    if multiline and "\r\n" in text:
        text = text.replace("\r\n", "\n")
    pattern = _UNSAFE_MULTI if multiline else _UNSAFE_LINE
    text = pattern.sub(_escape_run, text)
    if "\t" in text:
        text = text.expandtabs(4)
    return text


def _json_escape_char(ch: str) -> str:
    code = ord(ch)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def _json_escape_run(match: re.Match[str]) -> str:
    return "".join(map(_json_escape_char, match.group()))


# Redaction works on spans: each family of secrets is found by its own small
# regex that starts with a literal (so `re` can search for it quickly), only
# when a cheap substring test says it can occur; the spans are then merged,
# leftmost first, and replaced in one pass.

_SEP = r"(?P<sep>\\*[\"']?[ \t]*+[:=]>?[ \t]*+)"
_SCHEMES = r"(?:bearer|basic|token|digest|negotiate|bot)"
_VALUE = (
    r'(?:"(?P<dq>(?:[^"\\\n]++|\\.)*+)"'
    r"|'(?P<sq>(?:[^'\\\n]++|\\.)*+)'"
    r'|\\++"(?P<eq>(?:[^"\\\n]++|\\++(?!"))*+)\\++"'
    r"|(?!(?:null|true|false|none|nil)\b)(?![{\[(])"
    rf"(?P<uq>(?:{_SCHEMES}[ \t]++)?[^\s\"'`<>&]++))"
)
# Name endings that mark a value as secret; matched on the lower-cased text.
_KEY_WORDS = (
    ("pass", r"pass(?:word|wd|phrase)?"),
    ("pwd", r"pwd"),
    ("secret", r"secret(?:[_.-]?key)?"),
    ("token", r"token"),
    ("key", r"key"),
    ("auth", r"auth(?:orization)?"),
    ("cred", r"credentials?"),
    ("cookie", r"cookie"),
    ("session", r"session[_.-]?id"),
)
_STRONG_TOKEN_PREFIX = re.compile(
    r"(?<![a-z0-9])(?:access|refresh|id|auth|bearer|session|api)[_.-]?$"
)
_STRONG_KEY_PREFIX = re.compile(
    r"(?<![a-z0-9])(?:x-)?(?:api|access|private|client|signing|encryption|master|license"
    r"|subscription)[_.-]?$"
)
_SCHEME_PREFIX = re.compile(rf"({_SCHEMES}\s+)\S", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"://[^\s:/@?#\"'<>]*+:(?P<secret>[^\s@/?#\"'<>]++)@")
_BEARER = re.compile(
    r"bearer(?<![a-z0-9_-]bearer)[ \t]++"
    r"(?P<secret>(?=[a-z]{0,256}[0-9._~+/-])[a-z0-9._~+/-]{8,}+=*+|[a-z]{24,}+=*+)"
)


def _token_shape(prefix: str, body: str) -> re.Pattern[str]:
    # The lookbehind sits after the literal so `re` still searches for the literal fast,
    # and a long run like "xsk-xsk-..." is rejected at once instead of rescanned.
    return re.compile(rf"{prefix}(?<![A-Za-z0-9_-]{prefix})(?P<secret>{body})")


_TOKEN_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "sk-",
        re.compile(
            r"sk-(?<![A-Za-z0-9_-]sk-)(?:or-v1-|proj-|ant-(?:api\d\d-)?|svcacct-|admin-)?"
            r"(?P<secret>[A-Za-z0-9_-]{20,}+)"
        ),
    ),
    ("gh", re.compile(r"gh[pousr]_(?<![A-Za-z0-9_-]gh[pousr]_)(?P<secret>[A-Za-z0-9]{30,}+)")),
    ("github_pat_", _token_shape("github_pat_", r"[A-Za-z0-9_]{22,}+")),
    ("AIza", _token_shape("AIza", r"[0-9A-Za-z_-]{30,}+")),
    ("AKIA", _token_shape("AKIA", r"[0-9A-Z]{16}(?![0-9A-Za-z])")),
    ("ASIA", _token_shape("ASIA", r"[0-9A-Z]{16}(?![0-9A-Za-z])")),
    (
        "xox",
        re.compile(r"xox[abposr]-(?<![A-Za-z0-9_-]xox[abposr]-)(?P<secret>[A-Za-z0-9-]{10,}+)"),
    ),
    ("eyJ", _token_shape("eyJ", r"[A-Za-z0-9_-]{5,}+\.eyJ[A-Za-z0-9_-]{5,}+\.[A-Za-z0-9_-]*+")),
)
_SECRET_NAME = (
    r"[\w.-]*?(?:password|passwd|passphrase|secret|token|credentials?|authorization|cookie"
    r"|session[_.-]?id|apikey|(?:api|access|private|client|signing|encryption|master|license"
    r"|subscription)[_.-]?key)"
    r"|(?:[\w.-]*[_.-])?(?:pwd|pass|auth|key)"
)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CREDENTIAL_SYMBOLS = frozenset("_+/=~!@#$%^&*")
_TRAILING_PUNCTUATION = ",;.)]}"

_Span = tuple[int, int, str]


def _looks_like_credential(value: str) -> bool:
    return (
        len(value) >= 16
        or any(c.isdigit() for c in value)
        or not _CREDENTIAL_SYMBOLS.isdisjoint(value)
    )


def _key_strength(name: str, before: str) -> str | None:
    """``"strong"``, ``"weak"`` or ``None`` (not a secret's name) for a key ending in ``name``."""
    bounded = not before[-1:].isalnum()
    if name in ("pass", "auth"):
        return "weak" if bounded else None
    if name == "pwd":
        return "strong" if bounded else None
    if name == "token":
        return "strong" if _STRONG_TOKEN_PREFIX.search(before) else "weak"
    if name == "key":
        if _STRONG_KEY_PREFIX.search(before):
            return "strong"
        return "weak" if bounded else None
    return "strong"


def _mask_value(name: str, value: str) -> str:
    if name in ("authorization", "auth"):
        scheme = _SCHEME_PREFIX.match(value)
        if scheme is not None:
            return scheme.group(1) + MASK
    return MASK


def _kv_span(match: re.Match[str], low: str, text: str) -> _Span | None:
    name = match["name"]
    start = match.start("name")
    strength = _key_strength(name, low[max(0, start - 16) : start])
    if strength is None:
        return None
    for group in ("dq", "sq", "eq"):
        if match[group] is not None:
            begin, end = match.span(group)
            if begin == end:
                return None
            return begin, end, _mask_value(name, text[begin:end])
    begin, end = match.span("uq")
    value = text[begin:end].rstrip(_TRAILING_PUNCTUATION)
    if not value:
        return None
    if strength == "weak" and "=" not in match["sep"] and not _looks_like_credential(value):
        return None
    return begin, begin + len(value), _mask_value(name, value)


def _lower_same_length(text: str) -> str:
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _compile_extra(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    compiled = []
    for pattern in patterns:
        try:
            rx = re.compile(pattern)
        except re.error as exc:
            msg = str(exc).replace("\n", " ")
            raise ValueError(
                f"redact pattern {pattern!r} is not a valid regular expression: {msg}"
            ) from None
        if rx.search("") is not None:
            raise ValueError(f"redact pattern {pattern!r} matches the empty string")
        compiled.append(rx)
    return compiled


def _mask_extra(match: re.Match[str]) -> str:
    if match.re.groups and match.start(1) >= 0:
        whole = match.group()
        start, end = match.start(1) - match.start(), match.end(1) - match.start()
        return whole[:start] + MASK + whole[end:]
    return MASK


def _check_env_keys(keys: Iterable[str]) -> tuple[str, ...]:
    keys = tuple(dict.fromkeys(keys))
    for key in keys:
        if _ENV_NAME.fullmatch(key) is None:
            raise ValueError(f"redact env key {key!r} is not an environment variable name")
    return keys


def _literal_secrets(env: Mapping[str, str], keys: Iterable[str]) -> tuple[str, ...]:
    found: set[str] = set()
    for key in keys:
        value = env.get(key)
        if not value:
            continue
        for part in (value, *value.split(",")):
            part = part.strip()
            if len(part) >= _MIN_LITERAL:
                found.add(part)
    return tuple(sorted(found, key=len, reverse=True))


class Sanitizer:
    """Escapes and redacts every string on its way to a terminal or stdout.

    A secret's value becomes ``***`` while its key name, URL user, header
    scheme or vendor prefix stays, so the line still reads: ``password=***``,
    ``"api_key": "***"``, ``Authorization: Bearer ***``,
    ``https://user:***@host/``, ``ghp_***``. Rules (built in;
    ``RedactSettings`` adds to them):

    * ``name=value``, ``name: value``, ``name => value``, ``"name": "value"``
      (also single-quoted, and backslash-escaped JSON inside JSON), any case,
      where the name ends in password, passwd, passphrase, secret, token,
      credential(s), authorization, cookie, session_id, an ``api``/``access``/
      ``private``/``client``/... ``key`` (``x-api-key``, ``apiKey``), or an
      environment key name; or is pwd, pass, auth or key, bare or after
      ``_ . -`` (``db_pass``, ``cache_key``; not ``monkey``). An unquoted
      value runs to whitespace, a quote, ``<``, ``>`` or ``&`` (so a
      comma-separated list goes whole), less trailing ``, ; . ) ] }``.
      ``Authorization: Bearer x`` keeps its scheme. In the unquoted
      ``name: value`` shape, the names token, auth, key and pass redact only
      a value that looks like a credential (a digit, one of
      ``_+/=~!@#$%^&*``, or 16+ characters), so prose such as ``invalid
      token: expired`` stays readable. JSON ``null``/``true``/``false``,
      objects, arrays and empty strings are left alone.
    * ``scheme://user:password@host``: the password.
    * ``Bearer <token>`` anywhere (a token of 8+ characters with a digit or
      symbol, or 24+ letters, so "Bearer authentication" is left alone).
    * Token shapes, keeping the vendor prefix (``sk-or-v1-***``): OpenAI,
      OpenRouter and Anthropic ``sk-…``, GitHub ``ghp_ gho_ ghu_ ghs_ ghr_``
      and ``github_pat_``, Google ``AIza…``, AWS ``AKIA…``/``ASIA…``, Slack
      ``xox?-…``, JWTs ``eyJ….eyJ….…``.
    * Literal values of the environment keys (``DEFAULT_ENV_KEYS`` plus
      ``env_keys``) set in the given environment, whole and each
      comma-separated part, when at least 8 characters long.
    * Each extra pattern: its first capture group, or the whole match.

    Instances are immutable after construction and safe to share between threads.
    """

    def __init__(
        self, settings: RedactSettings | None = None, env: Mapping[str, str] | None = None
    ) -> None:
        """Compile the redaction rules once.

        Args:
            settings: Redaction settings; defaults when ``None``.
            env: Where to look up the values of the secret environment keys;
                ``os.environ`` when ``None``. Read once, here.

        Raises:
            ValueError: an extra pattern is not a valid regular expression, or
                matches the empty string (which would mask every gap); or an
                env key is not a variable name (an empty one would match any
                ``=value``).
        """
        settings = settings or RedactSettings()
        env = os.environ if env is None else env
        self._enabled = settings.enabled
        self._extra = _compile_extra(settings.patterns)
        env_keys = _check_env_keys((*DEFAULT_ENV_KEYS, *settings.env_keys))
        self._literals = _literal_secrets(env, env_keys)
        words = (*_KEY_WORDS, *((k.lower(), re.escape(k.lower())) for k in env_keys))
        self._key_rules = tuple(
            (trigger, re.compile(f"(?P<name>{word}){_SEP}{_VALUE}")) for trigger, word in words
        )
        names = "".join(f"|{re.escape(k)}" for k in env_keys)
        self._secret_name = re.compile(f"{_SECRET_NAME}{names}", re.IGNORECASE)

    def clean(self, text: str, *, multiline: bool = False) -> str:
        """Redact, then escape: the one call for any text shown or printed.

        Redaction runs first, on the raw text, so a value ends where the log's
        own whitespace or line break ends it.

        Args:
            text: A log line, a field from the store, an error message.
            multiline: Keep line breaks (detail panes); otherwise ``\\n`` is
                shown as ``\\n`` and the result is one row.

        Returns:
            Terminal-safe text with secrets masked.
        """
        return escape_controls(self.redact(text), multiline=multiline)

    def redact(self, text: str) -> str:
        """Mask secrets, leaving everything else (controls too) as it is.

        Args:
            text: Any text.

        Returns:
            The text with every secret value replaced by ``***``; the same
            object when nothing matched or redaction is disabled.
        """
        if not self._enabled:
            return text
        for literal in self._literals:
            if literal in text:
                text = text.replace(literal, MASK)
        spans = self._spans(text)
        if spans:
            text = _apply(text, spans)
        for rx in self._extra:
            text = rx.sub(_mask_extra, text)
        return text

    def is_secret_name(self, name: str) -> bool:
        """Whether a field called ``name`` holds a secret (``client_secret``, ``apiKey``).

        Used for structured data, where the value has no ``name=`` around it.
        """
        return self._secret_name.fullmatch(name) is not None

    def json_bytes(self, obj: Any, *, newline: bool = True) -> bytes:
        """Serialise for ``--json`` output: redacted, valid, and inert in a terminal.

        Every string (keys too) is redacted, and a value whose key names a
        secret (``{"password": "x"}``) is masked whole. orjson escapes C0; the
        output then also gets DEL, C1, format, bidi and separator characters
        as ``\\uXXXX`` escapes, so the JSON parses back to the same strings
        while no raw terminal-active character is printed. Lone surrogates,
        which no UTF-8 JSON can hold, become the text ``\\udc80``.

        Args:
            obj: Dicts, lists, tuples, sets, dataclasses, enums, scalars,
                dates, UUIDs; anything else is written as ``str(obj)``.
            newline: End the output with ``\\n`` (one JSON document per line).

        Returns:
            UTF-8 JSON.
        """
        option = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
        if newline:
            option |= orjson.OPT_APPEND_NEWLINE
        out = orjson.dumps(self._walk(obj), default=self._default, option=option)
        if out.isascii() and b"\x7f" not in out:
            return out
        return _JSON_UNSAFE.sub(_json_escape_run, out.decode("utf-8")).encode("utf-8")

    def _spans(self, text: str) -> list[_Span]:
        spans: list[_Span] = []
        low = _lower_same_length(text)
        for trigger, rx in self._key_rules:
            if trigger in low:
                for m in rx.finditer(low):
                    span = _kv_span(m, low, text)
                    if span is not None:
                        spans.append(span)
        if "://" in text:
            spans.extend((*m.span("secret"), MASK) for m in _URL_PASSWORD.finditer(text))
        if "bearer" in low:
            spans.extend((*m.span("secret"), MASK) for m in _BEARER.finditer(low))
        for trigger, rx in _TOKEN_SHAPES:
            if trigger in text:
                spans.extend((*m.span("secret"), MASK) for m in rx.finditer(text))
        return spans

    def _walk(self, obj: Any, secret: bool = False) -> Any:
        if isinstance(obj, str):
            if secret and obj:
                return MASK
            return _json_text(self.redact(obj))
        if obj is None or isinstance(obj, bool):
            return obj
        if isinstance(obj, enum.Enum):
            return self._walk(obj.value, secret)
        if isinstance(obj, int | float):
            if secret:
                return MASK
            return int(obj) if isinstance(obj, int) else float(obj)
        if isinstance(obj, Mapping):
            return {
                self._walk_key(k): self._walk(v, self._is_secret_key(k)) for k, v in obj.items()
            }
        if isinstance(obj, list | tuple | set | frozenset):
            return [self._walk(v, secret) for v in obj]
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return self._walk(
                {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}, secret
            )
        if isinstance(obj, _dt.date | _dt.time | uuid.UUID) or type(obj).__module__ == "numpy":
            return obj
        return self._default(obj)

    def _walk_key(self, key: Any) -> Any:
        return _json_text(self.redact(key)) if isinstance(key, str) else key

    def _is_secret_key(self, key: Any) -> bool:
        return self._enabled and isinstance(key, str) and self.is_secret_name(key)

    def _default(self, obj: Any) -> str:
        return _json_text(self.redact(str(obj)))


def _apply(text: str, spans: list[_Span]) -> str:
    spans.sort(key=lambda s: (s[0], -s[1]))
    parts: list[str] = []
    pos = 0
    for start, end, replacement in spans:
        if start < pos:
            continue
        parts.append(text[pos:start])
        parts.append(replacement)
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


_LONE_SURROGATE = re.compile(f"[{_SURROGATES}]")


def _json_text(text: str) -> str:
    if text.isascii():
        return text
    return _LONE_SURROGATE.sub(lambda m: _escape_char(m.group()), text)


_CONFIGURED: list[Sanitizer] = []


def configure(settings: RedactSettings | None) -> Sanitizer:
    """Make the workspace's ``[redact]`` settings the shared sanitizer's.

    The console calls this once at start-up, so every pane that asks for
    :func:`default_sanitizer` masks the operator's extra patterns too.
    """
    sanitizer = Sanitizer(settings)
    _CONFIGURED[:] = [sanitizer]
    return sanitizer


def default_sanitizer() -> Sanitizer:
    """The shared sanitizer: the workspace's settings once configured, else the defaults.

    For code that has no ``Settings`` at hand (panes, error paths, the CLI
    before the config loads). Built on first use, so importing stays cheap.
    """
    if not _CONFIGURED:
        _CONFIGURED.append(Sanitizer())
    return _CONFIGURED[0]
