"""Random base62 identifiers (uids) and version suffixes."""

from __future__ import annotations

import os

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_N = len(BASE62)


def base62(n_chars: int) -> str:
    """A random base62 string; bytes >= 248 are rejected so every character is equally likely."""
    out: list[str] = []
    while len(out) < n_chars:
        for byte in os.urandom(n_chars * 2):
            if byte < 248:  # 248 = 4 * 62
                out.append(BASE62[byte % _N])
                if len(out) == n_chars:
                    break
    return "".join(out)


def encode_version(number: int, width: int = 4) -> str:
    """0 -> '0000', 1 -> '0001', 62 -> '0010' (base62, fixed width)."""
    if number < 0 or number >= _N**width:
        raise ValueError(f"version number {number} does not fit in {width} base62 characters")
    chars = []
    for _ in range(width):
        number, rem = divmod(number, _N)
        chars.append(BASE62[rem])
    return "".join(reversed(chars))


def decode_version(suffix: str) -> int:
    number = 0
    for char in suffix:
        number = number * _N + BASE62.index(char)
    return number
