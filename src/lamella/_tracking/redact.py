"""Keep secrets out of stored source code, params and run reports.

A token or password pasted into a script, passed as a param or printed would otherwise be copied into
the database, into every backup of it, and into anything that displays transforms and runs. Values
are replaced, names are kept, so stored code still reads naturally: `password = "***"`.

Three entry points share one name rule (`is_secret_name`) and one set of token patterns:
`redact_source` for Python code (tokenized, so quotes, prefixes and line structure are understood),
`redact_text` for free text such as a run's printed output and tracebacks, and `redact_params`.
"""

from __future__ import annotations

import functools
import io
import keyword
import re
import tokenize
from dataclasses import dataclass
from typing import Any

REDACTED = "***"

# ---- which names hold secrets ------------------------------------------------------------------------

_SECRET_WORDS = {
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "secrets",
    "token",
    "credential",
    "credentials",
    "auth",
    "authorization",
    "apikey",
    "accesskey",
    "privatekey",
    "secretkey",
    "cookie",
    "cookies",
}
# one word glued to a prefix, as in environment variables: PGPASSWORD, GITHUBTOKEN, authToken lowercased
_GLUED_ENDINGS = ("password", "passwd", "passphrase", "secret", "token", "apikey", "accesskey", "secretkey")
_SECRET_PAIRS = {
    ("api", "key"),
    ("access", "key"),
    ("private", "key"),
    ("secret", "key"),
    ("client", "secret"),
    ("encryption", "key"),
    ("signing", "key"),
    ("master", "key"),
    ("ssh", "key"),
    ("license", "key"),
}
# `pw` is short for "pathway" in biology too: only a last part (`db_pw`) counts
_LAST_PART_ONLY = {"pw"}
# the whole name `pwd`/`PWD` is the working directory (shell, os.environ), not a password
_NOT_SECRET_NAMES = {"pwd", "oldpwd"}
# a name ending in one of these describes a secret without holding it: password_length, token_type
_DESCRIPTIVE = {
    "length",
    "len",
    "count",
    "size",
    "type",
    "types",
    "ids",
    "file",
    "path",
    "dir",
    "url",
    "uri",
    "endpoint",
    "name",
    "names",
    "env",
    "var",
    "method",
    "prompt",
    "min",
    "max",
    "limit",
    "expiry",
    "ttl",
    "timeout",
    "header",
    "policy",
}
# tokenizer vocabulary (pad_token = "<pad>") is not a credential
_SPECIAL_TOKENS = {"pad", "eos", "bos", "unk", "mask", "cls", "sep", "start", "end", "special", "stop"}
_NAME_LIKE = re.compile(r"-{0,2}[A-Za-z_][\w.\-]{0,63}")


# every secret word above contains one of these: most names are rejected without splitting them
_HINT = re.compile(r"(?i)pass|pw|secret|token|credential|auth|key|cookie")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])|([A-Z]+)([A-Z][a-z])|([A-Za-z])([0-9])")
_SEPARATORS = re.compile(r"[_\-.\s]+")


def _parts(name: str) -> list[str]:
    spaced = _CAMEL.sub(lambda m: "_".join(g for g in m.groups() if g), name)
    return [p for p in _SEPARATORS.split(spaced.lower()) if p]


def _is_secret_part(parts: list[str], i: int) -> bool:
    part = parts[i]
    if part in _LAST_PART_ONLY:
        return i == len(parts) - 1
    if part == "token" and i > 0 and parts[i - 1] in _SPECIAL_TOKENS:
        return False
    if part in _SECRET_WORDS:
        return True
    if part.endswith(_GLUED_ENDINGS):
        return True
    return i > 0 and (parts[i - 1], part) in _SECRET_PAIRS


@functools.lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """True for names whose value is a secret: a part (split at `_`, `-`, `.` and camelCase) is a secret
    word (`db_password`, `apiKey`, `PGPASSWORD`, `db_pw`) and the name does not end in a word that
    describes the secret instead (`password_length`, `token_type`, `private_key_path`)."""
    if not _HINT.search(name):
        return False
    parts = _parts(name)
    if not parts or "".join(parts) in _NOT_SECRET_NAMES:
        return False
    secret_at = [i for i in range(len(parts)) if _is_secret_part(parts, i)]
    if not secret_at:
        return False
    return not (parts[-1] in _DESCRIPTIVE and secret_at[-1] < len(parts) - 1)


def _is_name_like_secret(text: str) -> bool:
    return _NAME_LIKE.fullmatch(text) is not None and is_secret_name(text)


# ---- well-known token formats, wherever they appear --------------------------------------------------

_TOKENS = [
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),  # GitHub tokens
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{30,}\b"),  # GitHub fine-grained tokens
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),  # Slack tokens
    re.compile(r"\bsk-[A-Za-z0-9_-]{20,}\b"),  # API secret keys (OpenAI style)
    re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"),  # Hugging Face tokens
    re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b"),  # JWTs
    re.compile(r"(?<=://)[^/\s:@'\"]+:[^/\s@'\"]+(?=@)"),  # user:password@ in URLs
]
_PEM = re.compile(
    r"(?P<begin>-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----)(?P<body>.*?)(?P<end>-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----)",
    re.DOTALL,
)
# a key block cut off before its END line (a truncated print): the base64 lines after BEGIN
_PEM_OPEN = re.compile(
    r"(?P<begin>-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----)"
    r"(?:(?:\\n|\s)+(?:[A-Za-z0-9+/=]{16,}|[A-Za-z-]+:[^\n\\]*))+"
)
# password=... in connection strings (libpq, ODBC, JDBC, URL queries)
_DSN_PASSWORD = re.compile(
    r"(?i)(?<![\w.])(?P<key>password|passwd|pwd|pass)\s*=\s*(?P<value>'[^']*'|[^\s;'\"&\\()\[\]{}]++(?![(\[]))"
)


def _redact_formats(text: str) -> str:
    def pem(match: re.Match[str]) -> str:
        body = f"\n{REDACTED}\n" if "\n" in match["body"] else REDACTED
        return f"{match['begin']}{body}{match['end']}"

    if "PRIVATE KEY" in text:
        text = _PEM.sub(pem, text)
        text = _PEM_OPEN.sub(lambda m: f"{m['begin']}\n{REDACTED}\n", text)
    for pattern in _TOKENS:
        text = pattern.sub(REDACTED, text)
    return text


# ---- free text: printed output, tracebacks, comments, string contents --------------------------------

# `name = value`, `name: value`, `"name": value`, `["name"] = value`, `name: T = value`, `name += value`
_ASSIGNMENT = re.compile(
    r"""(?<![\w.])(?P<open>["']?)(?P<name>[A-Za-z_][\w.\-]*)(?P=open)\]?"""
    r"""\s*(?P<sep>:\s*[A-Za-z_][\w\[\]., |]*?\s*=(?!=)|(?://|\*\*|>>|<<|[-+*/%&|^@])?=(?!=)|:=|:(?!:))\s*"""
)
_QUOTED = re.compile(
    r"""(?P<prefix>[rRbBfFuU]{0,2})"""
    r"""(?:(?P<triple>\"\"\"|''')(?P<long>.*?)(?<!\\)(?P=triple)"""
    r"""|(?P<single>["'])(?P<short>(?:\\.|(?!(?P=single))[^\\\n])*)(?P=single))""",
    re.DOTALL,
)
_CONCATENATION = re.compile(r"[ \t]*\+?[ \t]*")
_BRACKETS = {"(": ")", "[": "]", "{": "}"}
_BARE = re.compile(
    r"""(?:(?:Bearer|Basic|Token)\s+)?[^\s'"()\[\]{},;&\\<>=][^\s'"()\[\]{},;&\\<>]*+(?![(\[])"""
)
_NUMBER = re.compile(r"(?<![\w.])-?\d[\d_]*(?:\.\d+)?(?:[eE][-+]?\d+)?\b")
_KEPT_BARE = {"None", "True", "False", "null", "true", "false"}


def _hide_quoted(match: re.Match[str]) -> str:
    quote = match["triple"] or match["single"]
    if not (match["long"] or match["short"]):
        return match[0]
    return f"{match['prefix']}{quote}{REDACTED}{quote}"


def _value_at(text: str, pos: int, *, bare: bool) -> tuple[int, str] | None:
    """(end, replacement) for the value starting at `pos`: quoted strings (concatenated with `+` or
    side by side), a bracketed literal, or (free text only) a bare word; None when it is none of these."""
    quoted = _QUOTED.match(text, pos)
    if quoted is not None:
        pieces, end = [_hide_quoted(quoted)], quoted.end()
        while True:
            gap = _CONCATENATION.match(text, end)
            assert gap is not None
            following = _QUOTED.match(text, gap.end())
            if following is None:
                break
            pieces += [gap[0], _hide_quoted(following)]
            end = following.end()
        return end, "".join(pieces)
    if pos < len(text) and text[pos] in _BRACKETS:
        close = _closing_bracket(text, pos)
        if close is None:
            return None
        inner = _QUOTED.sub(_hide_quoted, text[pos + 1 : close])
        inner = _NUMBER.sub(REDACTED if bare else f'"{REDACTED}"', inner)
        return close + 1, f"{text[pos]}{inner}{text[close]}"
    number = _NUMBER.match(text, pos)
    if number is not None and not bare:
        return number.end(), f'"{REDACTED}"'
    if bare:
        word = _BARE.match(text, pos)
        if word is not None and word[0] not in _KEPT_BARE:
            return word.end(), REDACTED
    return None


def _closing_bracket(text: str, pos: int) -> int | None:
    stack = [_BRACKETS[text[pos]]]
    i = pos + 1
    while i < len(text) and i < pos + 10_000:
        char = text[i]
        quoted = _QUOTED.match(text, i) if char in "\"'" else None
        if quoted is not None:
            i = quoted.end()
            continue
        if char in _BRACKETS:
            stack.append(_BRACKETS[char])
        elif char in ")]}":
            if char != stack.pop():
                return None
            if not stack:
                return i
        i += 1
    return None


def _redact_assignments(text: str, *, bare: bool) -> str:
    out, pos = [], 0
    for match in _ASSIGNMENT.finditer(text):
        if match.start() < pos or not is_secret_name(match["name"]):
            continue
        value = _value_at(text, match.end(), bare=bare)
        if value is None:
            continue
        end, replacement = value
        out += [text[pos : match.end()], replacement]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def redact_text(text: str) -> str:
    """Free text (a run's printed output, a traceback, a log line): secret-named values after `=` or
    `:`, quoted or not (`password=hunter2`, `token: abc`, `{'api_key': 'abc'}`), and token formats."""
    return _redact_formats(_DSN_PASSWORD.sub(_hide_dsn, _redact_assignments(text, bare=True)))


# ---- source code --------------------------------------------------------------------------------------


class _Untokenizable(Exception):
    pass


@dataclass
class _Unit:
    """A token, or a whole f-string (Python >= 3.12 splits those into parts), with character offsets."""

    type: int
    string: str
    start: int
    end: int


_STRING_STARTS = {getattr(tokenize, n) for n in ("FSTRING_START", "TSTRING_START") if hasattr(tokenize, n)}
_STRING_ENDS = {getattr(tokenize, n) for n in ("FSTRING_END", "TSTRING_END") if hasattr(tokenize, n)}
_SKIPPED = {tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING}
_ASSIGN_OPS = {"=", ":=", "+=", "-=", "*=", "/=", "//=", "%=", "**=", "@=", "&=", "|=", "^=", ">>=", "<<="}
_OPENING, _CLOSING = {"(", "[", "{"}, {")", "]", "}"}
_STRING_SYNTAX = re.compile(r"(?P<prefix>[A-Za-z]*)(?P<quote>\"\"\"|'''|\"|')")
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


def _units(source: str) -> list[_Unit]:
    starts = [0] + [m.end() for m in re.finditer("\n", source)]

    def offset(position: tuple[int, int]) -> int:
        row, col = position
        return starts[row - 1] + col if row - 1 < len(starts) else len(source)

    units: list[_Unit] = []
    nested, opened_at = 0, 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.ERRORTOKEN and not token.string.isspace():
                raise _Untokenizable(token.string)  # Python 3.11 reports `!ls`, `obj?`, a lone quote so
            if token.type in _STRING_STARTS:
                if nested == 0:
                    opened_at = offset(token.start)
                nested += 1
            elif nested:
                if token.type in _STRING_ENDS:
                    nested -= 1
                    if nested == 0:
                        end = offset(token.end)
                        units.append(_Unit(tokenize.STRING, source[opened_at:end], opened_at, end))
            elif token.type not in _SKIPPED:
                units.append(_Unit(token.type, token.string, offset(token.start), offset(token.end)))
    except (tokenize.TokenError, SyntaxError) as e:
        raise _Untokenizable(str(e)) from e
    return units


def _string_parts(unit: _Unit) -> tuple[str, str, str]:
    syntax = _STRING_SYNTAX.match(unit.string)
    assert syntax is not None
    prefix, quote = syntax["prefix"], syntax["quote"]
    return prefix, quote, unit.string[len(prefix) + len(quote) : len(unit.string) - len(quote)]


def _is_op(unit: _Unit | None, *ops: str) -> bool:
    return unit is not None and unit.type == tokenize.OP and unit.string in ops


class _SourceRedactor:
    def __init__(self, source: str) -> None:
        self.source = source
        units = _units(source)
        self.comments = [u for u in units if u.type == tokenize.COMMENT]
        self.units = [u for u in units if u.type != tokenize.COMMENT]
        self.depths: list[int] = []
        self.line_starts: list[int] = []  # index of the first unit of each unit's logical line
        depth, line_start = 0, 0
        for i, unit in enumerate(self.units):
            if _is_op(unit, *_CLOSING):
                depth = max(depth - 1, 0)
            self.depths.append(depth)
            self.line_starts.append(line_start)
            if _is_op(unit, *_OPENING):
                depth += 1
            if unit.type == tokenize.NEWLINE or (depth == 0 and _is_op(unit, ";")):
                line_start = i + 1
        self.edits: dict[int, tuple[int, str]] = {}

    def at(self, i: int) -> _Unit | None:
        return self.units[i] if 0 <= i < len(self.units) else None

    def run(self) -> str:
        for i in range(len(self.units)):
            start = self._value_start(i)
            if start is not None:
                self._hide_value(start, self.depths[start - 1])
        for unit in self.units:
            if unit.type == tokenize.STRING and unit.start not in self.edits:
                prefix, quote, content = _string_parts(unit)
                redacted = redact_text(content)
                if redacted != content:
                    self.edits[unit.start] = (unit.end, f"{prefix}{quote}{redacted}{quote}")
        for comment in self.comments:
            redacted = redact_text(comment.string)
            if redacted != comment.string:
                self.edits[comment.start] = (comment.end, redacted)
        out, pos = [], 0
        for start in sorted(self.edits):
            end, replacement = self.edits[start]
            if start < pos:
                continue
            out += [self.source[pos:start], replacement]
            pos = end
        out.append(self.source[pos:])
        return "".join(out)

    def _value_start(self, i: int) -> int | None:
        """Where the value of the secret named at unit i begins, if i names one that gets a value."""
        unit, following = self.units[i], self.at(i + 1)
        if unit.type == tokenize.NAME:
            if keyword.iskeyword(unit.string) or not is_secret_name(unit.string):
                return None
            if _is_op(following, *_ASSIGN_OPS):  # assignment, keyword argument, default, walrus
                return i + 2
            if _is_op(
                following, ":"
            ):  # annotation `name: T = value`, or `{name: value}`, `lambda name: value`
                first = self.units[self.line_starts[i]]
                if self.depths[i] == 0 and first.type == tokenize.NAME and keyword.iskeyword(first.string):
                    return None  # `if token:`, `for token in ...:` -- a block follows, not a value
                equals = self._annotation_default(i + 2, self.depths[i])
                return equals + 1 if equals is not None else i + 2
            return None
        if unit.type != tokenize.STRING:
            return None
        _, _, content = _string_parts(unit)
        if not _is_name_like_secret(content):
            return None
        if _is_op(following, "]") and _is_op(self.at(i + 2), *_ASSIGN_OPS):  # os.environ["TOKEN"] = ...
            return i + 3
        if _is_op(following, ":"):  # {"api_key": ...}
            return i + 2
        if _is_op(following, ",") and _is_op(self.at(i - 1), "("):  # getenv("TOKEN", default), ("pw", value)
            argument, after = self.at(i + 2), self.at(i + 3)
            if argument is None or _is_op(argument, *_CLOSING):
                return None
            if argument.type == tokenize.NAME and _is_op(after, "="):
                return None  # add_argument("--token", help="...") names an option, the value comes later
            return i + 2
        return None

    def _region(self, start: int, depth: int) -> range:
        """The units of a value: to the end of the logical line, or at depth > 0 (an argument, a dict
        item) to the next comma or the closing bracket."""
        end = start
        while end < len(self.units):
            unit = self.units[end]
            if unit.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                break
            if depth == 0 and self.depths[end] == 0 and _is_op(unit, ";"):
                break
            if self.depths[end] < depth:
                break
            if depth > 0 and self.depths[end] == depth and _is_op(unit, ","):
                break
            end += 1
        return range(start, end)

    def _annotation_default(self, start: int, depth: int) -> int | None:
        for j in self._region(start, depth):
            if self.depths[j] == depth and _is_op(self.units[j], "="):
                return j
        return None

    def _hide_value(self, start: int, depth: int) -> None:
        for j in self._region(start, depth):
            unit = self.units[j]
            if unit.type == tokenize.STRING:
                if self._is_lookup_key(j):
                    continue
                prefix, quote, content = _string_parts(unit)
                if content:
                    self.edits[unit.start] = (unit.end, f"{prefix}{quote}{REDACTED}{quote}")
            elif unit.type == tokenize.NUMBER and not self._in_subscript(j):
                sign = self.at(j - 1)
                begin = unit.start
                if j - 1 >= start and _is_op(sign, "-", "+") and self._is_unary(j - 1):
                    assert sign is not None
                    begin = sign.start
                self.edits[begin] = (unit.end, f'"{REDACTED}"')

    def _is_unary(self, i: int) -> bool:
        before = self.at(i - 1)
        return before is None or (before.type == tokenize.OP and before.string not in _CLOSING)

    def _opens_subscript_or_call(self, i: int) -> bool:
        before = self.at(i - 1)
        if before is None:
            return False
        if before.type in (tokenize.NAME, tokenize.STRING):
            return not keyword.iskeyword(before.string)
        return _is_op(before, ")", "]")

    def _in_subscript(self, j: int) -> bool:
        depth = self.depths[j]
        for k in range(j - 1, -1, -1):
            if self.depths[k] < depth:
                return _is_op(self.units[k], "[") and self._opens_subscript_or_call(k)
        return False

    def _is_lookup_key(self, j: int) -> bool:
        """A string that names what to look up, not a value: `os.environ["DB_PASSWORD"]`,
        `config["db"]["password"]`, the name in `os.getenv("DB_PASSWORD", ...)`, a dict key."""
        if self._in_subscript(j):
            return True
        if _is_op(self.at(j + 1), ":") and self.depths[j] > 0:
            return True
        before = self.at(j - 1)
        if _is_op(before, "(") and self._opens_subscript_or_call(j - 1):
            _, _, content = _string_parts(self.units[j])
            return _ENV_NAME.fullmatch(content) is not None or _is_name_like_secret(content)
        return False


def _redact_lines(source: str) -> str:
    """For code that does not tokenize (a notebook cell with magics, a syntax error): assignments of
    quoted or literal values to secret names, anywhere; `%env`/`!export` lines as free text."""
    text = _redact_magic_lines(_redact_assignments(source, bare=False))
    return _QUOTED.sub(lambda m: _DSN_PASSWORD.sub(_hide_dsn, m[0]), text)


def _hide_dsn(match: re.Match[str]) -> str:
    return f"{match[0][: match.start('value') - match.start()]}{REDACTED}"


_MAGIC_LINE = re.compile(r"(?m)^[ \t]*[%!]")


def _redact_magic_lines(text: str) -> str:
    """IPython magics and shell escapes tokenize as operators and names on Python 3.11:
    `%env TOKEN=abc`, `!export PGPASSWORD=abc` are free text."""
    if not _MAGIC_LINE.search(text):
        return text
    return "".join(
        _redact_assignments(line, bare=True) if _MAGIC_LINE.match(line) else line
        for line in text.splitlines(keepends=True)
    )


def _redact_cell(source: str) -> str:
    try:
        return _redact_magic_lines(_SourceRedactor(source).run())
    except _Untokenizable:
        return _redact_lines(source)


_CELL = re.compile(r"(?m)^(?=# %%)")


def redact_source(source: str) -> str:
    """Python source (a script, a function, a notebook in percent format) with the values of secret
    names replaced (`password: str = "***"`), string and comment contents treated as free text, and
    token formats (keys, PEM blocks, URL passwords) removed everywhere. A notebook cell that does not
    tokenize is redacted line by line without hurting the other cells."""
    try:
        text = _redact_magic_lines(_SourceRedactor(source).run())
    except _Untokenizable:
        text = "".join(_redact_cell(cell) for cell in _CELL.split(source))
    return _redact_formats(text)


# ---- params -------------------------------------------------------------------------------------------


def _hidden(value: Any) -> Any:
    if value is None or isinstance(value, bool) or value == "":
        return value  # nothing to hide, and `use_auth: True` stays queryable
    return REDACTED


def redact_params(params: Any) -> Any:
    """A copy of params: any value under a secret-named key (string, number, list, dict) replaced,
    nested dicts and lists walked, every string treated as free text (token formats, DSN passwords)."""
    if isinstance(params, dict):
        return {
            key: _hidden(value) if isinstance(key, str) and is_secret_name(key) else redact_params(value)
            for key, value in params.items()
        }
    if isinstance(params, list | tuple):
        return [redact_params(v) for v in params]
    if isinstance(params, str):
        return redact_text(params)
    return params
