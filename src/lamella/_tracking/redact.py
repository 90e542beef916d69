"""Keep secrets out of stored source code and params.

A token or password pasted into a script would otherwise be copied into the database, into every
backup of it, and into anything that displays transforms. Values are replaced, names are kept, so
the code still reads naturally: `password = "***"`.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "***"

# names whose values are secrets: api_key, aws_secret_access_key, password, token, ...
_SECRET_NAME = r"(?:[A-Za-z0-9_]*?(?:pass(?:word|wd)?|secret|token|api_?key|access_?key|private_?key|credential|auth)[A-Za-z0-9_]*)"
_ASSIGNMENT = re.compile(
    rf"""(?P<name>\b{_SECRET_NAME}\b["']?\s*(?:=|:)\s*)(?P<quote>["'])(?P<value>[^"'\n]{{4,}})(?P=quote)""",
    re.IGNORECASE,
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
_SECRET_KEY = re.compile(rf"^{_SECRET_NAME}$", re.IGNORECASE)


def redact_text(text: str) -> str:
    text = _ASSIGNMENT.sub(lambda m: f"{m['name']}{m['quote']}{REDACTED}{m['quote']}", text)
    for pattern in _TOKENS:
        text = pattern.sub(REDACTED, text)
    return text


def redact_params(params: Any) -> Any:
    """A copy of params with secret-looking keys and token-looking strings replaced."""
    if isinstance(params, dict):
        return {
            key: REDACTED
            if isinstance(key, str) and _SECRET_KEY.match(key) and value
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
