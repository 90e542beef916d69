"""Bytes of small, valid files in formats biology uses, written from their specifications with numpy and
the standard library: FCS 3.0, BAM (in BGZF), baseline JPEG and baseline TIFF.

Nothing here touches the disk; `files.py` writes what these functions return.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lamella.errors import InvalidArgument

__all__ = ["Read", "bai_bytes", "bam_bytes", "bgzf_compress", "fcs_bytes", "jpeg_bytes", "tiff_bytes"]


# ---- FCS 3.0 (flow cytometry) ----------------------------------------------------------------------

_FCS_HEADER_LENGTH = 58
_FCS_TEXT_BEGIN = 256  # the TEXT segment starts after the header and some room, as instruments do


def _fcs_text(keywords: dict[str, str], delimiter: str = "|") -> bytes:
    for key, value in keywords.items():
        if delimiter in key or delimiter in value or not value:
            raise InvalidArgument(f"FCS keyword {key}={value!r} is empty or holds the delimiter")
    body = "".join(f"{key}{delimiter}{value}{delimiter}" for key, value in keywords.items())
    return (delimiter + body).encode("ascii")


def fcs_bytes(
    names: Sequence[str],
    stains: Sequence[str | None],
    events: np.ndarray,
    ranges: Sequence[int],
    extra: dict[str, str] | None = None,
) -> bytes:
    """An FCS 3.0 file: list mode, float32 values in little-endian order, one column per parameter.

    The HEADER holds the offsets of the TEXT and DATA segments; TEXT repeats the DATA offsets
    ($BEGINDATA/$ENDDATA), so the TEXT is rebuilt until the offsets it states no longer change its length.
    """
    data = np.ascontiguousarray(events, dtype="<f4")
    n_events, n_parameters = data.shape
    if not len(names) == len(stains) == len(ranges) == n_parameters:
        raise InvalidArgument("one name, stain and range per column of events")
    keywords: dict[str, str] = {
        "$BEGINANALYSIS": "0",
        "$ENDANALYSIS": "0",
        "$BEGINSTEXT": "0",
        "$ENDSTEXT": "0",
        "$BEGINDATA": "0",
        "$ENDDATA": "0",
        "$BYTEORD": "1,2,3,4",
        "$DATATYPE": "F",
        "$MODE": "L",
        "$NEXTDATA": "0",
        "$PAR": str(n_parameters),
        "$TOT": str(n_events),
    }
    for number, (name, stain, value_range) in enumerate(zip(names, stains, ranges, strict=True), start=1):
        keywords[f"$P{number}N"] = name
        keywords[f"$P{number}B"] = "32"
        keywords[f"$P{number}E"] = "0,0"
        keywords[f"$P{number}R"] = str(value_range)
        if stain:
            keywords[f"$P{number}S"] = stain
    keywords.update(extra or {})
    payload = data.tobytes()
    text = _fcs_text(keywords)
    while True:
        begin_data = _FCS_TEXT_BEGIN + len(text)
        end_data = begin_data + len(payload) - 1
        keywords["$BEGINDATA"], keywords["$ENDDATA"] = str(begin_data), str(end_data)
        rebuilt = _fcs_text(keywords)
        if len(rebuilt) == len(text):
            text = rebuilt
            break
        text = rebuilt
    end_text = _FCS_TEXT_BEGIN + len(text) - 1
    # the HEADER's fields are 8 characters wide: offsets beyond 99,999,999 would be written as 0
    offsets = (_FCS_TEXT_BEGIN, end_text, begin_data, end_data, 0, 0)
    header = b"FCS3.0    " + b"".join(f"{offset:>8}".encode("ascii") for offset in offsets)
    assert len(header) == _FCS_HEADER_LENGTH
    return header.ljust(_FCS_TEXT_BEGIN, b" ") + text + payload


# ---- BGZF and BAM (aligned reads) ------------------------------------------------------------------

_BGZF_MAX_INPUT = 0xFF00  # a block's uncompressed size must stay below 64 KiB, compressed or not


def _bgzf_block(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    deflated = compressor.compress(data) + compressor.flush()
    # a gzip member: magic, deflate, FLG.FEXTRA, MTIME 0, XFL 0, OS 255, then the BC extra subfield
    # whose value is the whole block's size minus one
    block_size = 18 + len(deflated) + 8
    header = b"\x1f\x8b\x08\x04" + b"\x00\x00\x00\x00" + b"\x00\xff" + struct.pack("<H", 6)
    extra = b"BC" + struct.pack("<HH", 2, block_size - 1)
    trailer = struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data))
    return header + extra + deflated + trailer


def bgzf_compress(data: bytes) -> bytes:
    """Blocked gzip as BAM, tabix and bgzip write it: gzip members of < 64 KiB each, then the empty EOF
    block. Any gzip reader decompresses it to `data`."""
    blocks = [_bgzf_block(data[i : i + _BGZF_MAX_INPUT]) for i in range(0, len(data), _BGZF_MAX_INPUT)]
    return b"".join(blocks) + _bgzf_block(b"")


@dataclass(frozen=True)
class Read:
    """One aligned read: 0-based `pos` on reference `ref`, a CIGAR like "30M", Phred qualities."""

    name: str
    ref: int
    pos: int
    cigar: str
    seq: str
    qual: Sequence[int]
    flag: int = 0
    mapq: int = 60


_CIGAR_OPS = "MIDNSHP=X"
_SEQ_CODES = {base: code for code, base in enumerate("=ACMGRSVTWYHKDBN")}


def _parse_cigar(cigar: str) -> list[tuple[int, str]]:
    ops, number = [], ""
    for char in cigar:
        if char.isdigit():
            number += char
        else:
            ops.append((int(number), char))
            number = ""
    return ops


def _reference_length(cigar: list[tuple[int, str]]) -> int:
    return sum(length for length, op in cigar if op in "MDN=X")


def _bin(begin: int, end: int) -> int:
    """The smallest bin of the UCSC binning scheme (SAM specification, section 5.3) holding [begin, end)."""
    end -= 1
    for shift, offset in ((14, 4681), (17, 585), (20, 73), (23, 9), (26, 1)):
        if begin >> shift == end >> shift:
            return offset + (begin >> shift)
    return 0


def _bam_record(read: Read) -> bytes:
    cigar = _parse_cigar(read.cigar)
    if sum(length for length, op in cigar if op in "MIS=X") != len(read.seq) or len(read.qual) != len(
        read.seq
    ):
        raise InvalidArgument(f"read {read.name}: CIGAR, sequence and qualities disagree in length")
    name = read.name.encode("ascii") + b"\x00"
    end = read.pos + max(_reference_length(cigar), 1)
    codes = [_SEQ_CODES[base] for base in read.seq] + [0]
    packed = bytes((codes[i] << 4) | codes[i + 1] for i in range(0, len(read.seq), 2))
    body = struct.pack(
        "<iiBBHHHiiii",
        read.ref,
        read.pos,
        len(name),
        read.mapq,
        _bin(read.pos, end),
        len(cigar),
        read.flag,
        len(read.seq),
        -1,  # mate's reference
        -1,  # mate's position
        0,  # template length
    )
    body += name
    body += b"".join(struct.pack("<I", length << 4 | _CIGAR_OPS.index(op)) for length, op in cigar)
    body += packed + bytes(read.qual)
    body += b"NMC" + bytes([0])  # tag NM (edit distance), type uint8, value 0
    return struct.pack("<i", len(body)) + body


def bam_bytes(header_text: str, references: Sequence[tuple[str, int]], reads: Sequence[Read]) -> bytes:
    """A BAM file: the SAM header text, the reference dictionary and the reads, BGZF-compressed."""
    text = header_text.encode("ascii")
    raw = b"BAM\x01" + struct.pack("<i", len(text)) + text + struct.pack("<i", len(references))
    for name, length in references:
        encoded = name.encode("ascii") + b"\x00"
        raw += struct.pack("<i", len(encoded)) + encoded + struct.pack("<i", length)
    raw += b"".join(_bam_record(read) for read in reads)
    return bgzf_compress(raw)


def bai_bytes(n_references: int) -> bytes:
    """A BAM index that indexes nothing: the magic and, per reference, no bins and no intervals.

    A stand-in next to a mock BAM; tools that need the index of the reads rebuild it (`samtools index`).
    """
    return b"BAI\x01" + struct.pack("<i", n_references) + struct.pack("<ii", 0, 0) * n_references


# ---- baseline JPEG ---------------------------------------------------------------------------------


def _zigzag() -> list[int]:
    """Natural-order indices (row * 8 + column) of an 8x8 block in JPEG's zigzag order."""
    order = []
    for diagonal in range(15):
        cells = [(row, diagonal - row) for row in range(8) if 0 <= diagonal - row < 8]
        order += cells if diagonal % 2 else cells[::-1]
    return [row * 8 + column for row, column in order]


_ZIGZAG = _zigzag()


def _quantization_table(base: int, slope: int, quality: int) -> np.ndarray:
    """A table that quantizes high frequencies more coarsely: base + slope * (u + v), scaled by quality."""
    u, v = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    scale = 5000 / quality if quality < 50 else 200 - 2 * quality
    table = np.floor(((base + slope * (u + v)) * scale + 50) / 100)
    return np.clip(table, 1, 255).astype(np.int64)


def _dct_matrix() -> np.ndarray:
    x = np.arange(8)
    matrix = np.cos((2 * x[None, :] + 1) * x[:, None] * np.pi / 16) * np.sqrt(2 / 8)
    matrix[0, :] = np.sqrt(1 / 8)
    return matrix


_DCT = _dct_matrix()


def _fixed_length_code(symbols: Sequence[int], length: int) -> tuple[bytes, dict[int, tuple[int, int]]]:
    """A Huffman table (DHT body: 16 counts, the symbols) giving every symbol a code of `length` bits.

    Not optimal, but valid for any decoder: canonical codes of one length never use the all-ones code as
    long as there are fewer symbols than 2**length."""
    assert len(symbols) < 2**length
    counts = [0] * 16
    counts[length - 1] = len(symbols)
    codes = {symbol: (index, length) for index, symbol in enumerate(symbols)}
    return bytes(counts) + bytes(symbols), codes


_DC_SYMBOLS = list(range(12))
_AC_SYMBOLS = [0x00, 0xF0] + [run << 4 | size for run in range(16) for size in range(1, 11)]
_DC_TABLE, _DC_CODES = _fixed_length_code(_DC_SYMBOLS, 4)
_AC_TABLE, _AC_CODES = _fixed_length_code(_AC_SYMBOLS, 8)


class _BitWriter:
    def __init__(self) -> None:
        self.out = bytearray()
        self.accumulator = 0
        self.n_bits = 0

    def write(self, value: int, n_bits: int) -> None:
        self.accumulator = (self.accumulator << n_bits) | (value & ((1 << n_bits) - 1))
        self.n_bits += n_bits
        while self.n_bits >= 8:
            self.n_bits -= 8
            byte = (self.accumulator >> self.n_bits) & 0xFF
            self.out.append(byte)
            if byte == 0xFF:
                self.out.append(0x00)  # byte stuffing: 0xFF in entropy-coded data is followed by 0
        self.accumulator &= (1 << self.n_bits) - 1

    def flush(self) -> bytes:
        if self.n_bits:
            self.write((1 << (8 - self.n_bits)) - 1, 8 - self.n_bits)  # pad with 1-bits
        return bytes(self.out)


def _magnitude(value: int) -> tuple[int, int]:
    """JPEG's (size category, bits) of a coefficient: negative values as their ones' complement."""
    size = abs(value).bit_length()
    bits = value if value >= 0 else value + (1 << size) - 1
    return size, bits


def _encode_block(
    writer: _BitWriter, coefficients: list[int], previous_dc: int, dc_codes: dict, ac_codes: dict
) -> int:
    size, bits = _magnitude(coefficients[0] - previous_dc)
    writer.write(*dc_codes[size])
    if size:
        writer.write(bits, size)
    run = 0
    for value in coefficients[1:]:
        if value == 0:
            run += 1
            continue
        while run > 15:
            writer.write(*ac_codes[0xF0])  # 16 zeros
            run -= 16
        size, bits = _magnitude(value)
        writer.write(*ac_codes[run << 4 | size])
        writer.write(bits, size)
        run = 0
    if run:
        writer.write(*ac_codes[0x00])  # end of block
    return coefficients[0]


def _segment(marker: int, body: bytes) -> bytes:
    return struct.pack(">HH", 0xFF00 | marker, len(body) + 2) + body


def jpeg_bytes(rgb: np.ndarray, quality: int = 90) -> bytes:
    """A baseline JFIF JPEG of an RGB uint8 image: YCbCr without subsampling, one interleaved scan."""
    height, width, _ = rgb.shape
    pixels = rgb.astype(np.float64)
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    planes = [
        0.299 * r + 0.587 * g + 0.114 * b,
        -0.168736 * r - 0.331264 * g + 0.5 * b + 128,
        0.5 * r - 0.418688 * g - 0.081312 * b + 128,
    ]
    padded_h, padded_w = -(-height // 8) * 8, -(-width // 8) * 8
    tables = [_quantization_table(10, 6, quality), _quantization_table(16, 10, quality)]
    blocks = []  # per component: quantized coefficients of each 8x8 block in zigzag order, row by row
    for component, plane in enumerate(planes):
        plane = np.pad(plane, ((0, padded_h - height), (0, padded_w - width)), mode="edge") - 128
        table = tables[min(component, 1)]
        coefficients = []
        for top in range(0, padded_h, 8):
            for left in range(0, padded_w, 8):
                transformed = _DCT @ plane[top : top + 8, left : left + 8] @ _DCT.T
                quantized = np.rint(transformed / table).astype(np.int64).ravel()
                coefficients.append([int(quantized[i]) for i in _ZIGZAG])
        blocks.append(coefficients)
    writer = _BitWriter()
    previous = [0, 0, 0]
    for index in range(len(blocks[0])):
        for component in range(3):
            dc_codes, ac_codes = _DC_CODES, _AC_CODES
            previous[component] = _encode_block(
                writer, blocks[component][index], previous[component], dc_codes, ac_codes
            )
    entropy_coded = writer.flush()

    jfif = b"JFIF\x00" + bytes([1, 1, 0]) + struct.pack(">HH", 1, 1) + bytes([0, 0])
    quantization = b"".join(
        bytes([number]) + bytes(int(table.ravel()[i]) for i in _ZIGZAG) for number, table in enumerate(tables)
    )
    frame = struct.pack(">BHHB", 8, height, width, 3) + bytes([1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1])
    # components share one DC table (0) and one AC table (0)
    huffman = bytes([0x00]) + _DC_TABLE + bytes([0x10]) + _AC_TABLE
    scan = bytes([3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0])
    return (
        b"\xff\xd8"
        + _segment(0xE0, jfif)
        + _segment(0xDB, quantization)
        + _segment(0xC0, frame)
        + _segment(0xC4, huffman)
        + _segment(0xDA, scan)
        + entropy_coded
        + b"\xff\xd9"
    )


# ---- baseline TIFF ---------------------------------------------------------------------------------


def tiff_bytes(rgb: np.ndarray, dpi: int = 72) -> bytes:
    """An uncompressed little-endian RGB TIFF (baseline TIFF 6.0): one strip, 8 bits per sample."""
    height, width, _ = rgb.shape
    pixels = np.ascontiguousarray(rgb, dtype=np.uint8).tobytes()
    strip_bytes = len(pixels)
    pixels += b"\x00" * (len(pixels) % 2)  # what follows starts on a word boundary, as TIFF asks
    # layout: header (8) | pixels | bits per sample (6) | two resolutions (8 each) | IFD
    bits_offset = 8 + len(pixels)
    resolution_offset = bits_offset + 6
    ifd_offset = resolution_offset + 16
    short, long, rational = 3, 4, 5
    entries = [
        (256, long, 1, width),  # ImageWidth
        (257, long, 1, height),  # ImageLength
        (258, short, 3, bits_offset),  # BitsPerSample: 8, 8, 8 (stored elsewhere: 3 values)
        (259, short, 1, 1),  # Compression: none
        (262, short, 1, 2),  # PhotometricInterpretation: RGB
        (273, long, 1, 8),  # StripOffsets
        (277, short, 1, 3),  # SamplesPerPixel
        (278, long, 1, height),  # RowsPerStrip
        (279, long, 1, strip_bytes),  # StripByteCounts
        (282, rational, 1, resolution_offset),  # XResolution
        (283, rational, 1, resolution_offset + 8),  # YResolution
        (284, short, 1, 1),  # PlanarConfiguration: chunky
        (296, short, 1, 2),  # ResolutionUnit: inch
    ]
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        # a SHORT that fits is left-justified in the 4-byte value field
        field = struct.pack("<HH", value, 0) if kind == short and count == 1 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, count) + field
    ifd += struct.pack("<I", 0)  # no further image
    return (
        b"II*\x00"
        + struct.pack("<I", ifd_offset)
        + pixels
        + struct.pack("<HHH", 8, 8, 8)
        + struct.pack("<IIII", dpi, 1, dpi, 1)
        + ifd
    )
