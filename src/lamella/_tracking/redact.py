"""Keep secrets out of stored source code and params.

A token or password pasted into a script would otherwise be copied into the database, into every
backup of it, and into anything that displays transforms. String values are replaced, names are
kept, so the code still reads naturally: `password = "***"`. A name is secret when one of its parts
(split at `_` and camelCase) is a secret word: `db_password`, `apiKey`, `GITHUB_TOKEN` are;
`tokenizer`, `author`, `max_tokens` are not.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

REDACTED = "***"

_SECRET_PARTS = {
    "password",
    "authorization",
    "passwd",
    "pwd",
    "secret",
    "secrets",
    "token",
    "credential",
    "credentials",
    "auth",
}
_SECRET_PAIRS = {
    ("api", "key"),
    ("access", "key"),
    ("private", "key"),
    ("secret", "key"),
    ("client", "secret"),
}
_ASSIGNMENT = re.compile(
    r"""(?P<name>\b[A-Za-z_][A-Za-z0-9_]*)(?P<sep>["']?\s*(?:=|:)\s*)(?P<quote>["'])(?P<value>[^"'\n]{4,})(?P=quote)"""
)
# well-known token formats, wherever they appear
_TOKENS = [
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),  # GitHub tokens
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),  # Slack tokens
    re.compile(r"\bsk-[A-Za-z0-9_-]{20,}\b"),  # API secret keys (OpenAI style)
    re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b"),  # JWTs
    re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"),  # user:password@ in URLs
]


def _parts(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [p for p in spaced.lower().split("_") if p]


def is_secret_name(name: str) -> bool:
    parts = _parts(name)
    if any(part in _SECRET_PARTS for part in parts):
        return True
    if any(part in ("apikey", "accesskey", "privatekey", "secretkey") for part in parts):
        return True
    return any(pair in _SECRET_PAIRS for pair in itertools.pairwise(parts))


def redact_text(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        if not is_secret_name(match["name"]):
            return match[0]
        return f"{match['name']}{match['sep']}{match['quote']}{REDACTED}{match['quote']}"

    text = _ASSIGNMENT.sub(replace, text)
    for pattern in _TOKENS:
        text = pattern.sub(REDACTED, text)
    return text


def redact_params(params: Any) -> Any:
    """A copy of params with the string values of secret-named keys, and token-like strings, replaced."""
    if isinstance(params, dict):
        return {
            key: REDACTED
            if isinstance(key, str) and isinstance(value, str) and value and is_secret_name(key)
            else redact_params(value)
            for key, value in params.items()
        }
    if isinstance(params, list | tuple):
        return [redact_params(v) for v in params]
    if isinstance(params, str):
        for pattern in _TOKENS:
            params = pattern.sub(REDACTED, params)
        return params
    return params
