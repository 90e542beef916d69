"""Random base62 identifiers (uids) and version suffixes."""

from __future__ import annotations

import os

from lamella.errors import InvalidArgument

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_N = len(BASE62)


# byte -> character for bytes below 248 (= 4 * 62); the others are dropped so all 62 are equally likely
_TABLE = bytes(BASE62[b % _N].encode()[0] for b in range(248)) + bytes(8)
_DROP = bytes(range(248, 256))


def base62(n_chars: int) -> str:
    """A random base62 string (uniform: bytes that would bias the mapping are dropped, in C)."""
    out = os.urandom(n_chars + 8).translate(_TABLE, _DROP)
    while len(out) < n_chars:  # 8 spare bytes make this rare
        out += os.urandom(n_chars).translate(_TABLE, _DROP)
    return out[:n_chars].decode()


def encode_version(number: int, width: int = 4) -> str:
    """0 -> '0000', 1 -> '0001', 62 -> '0010' (base62, fixed width)."""
    if number < 0 or number >= _N**width:
        raise InvalidArgument(
            f"version number {number} does not fit in {width} base62 characters (0 to {_N**width - 1}); "
            f"start a new family with a new key instead of revising this one"
        )
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
