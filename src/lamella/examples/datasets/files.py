"""Example files of the formats the guides register: made on this machine, never downloaded.

Each function writes a small, valid file (deterministic: the same bytes on every call and machine) into
`<cache>/examples/` (`ln.settings.cache_dir`, by default `~/.lamella/cache`) and returns its path. A file
already there with the right bytes is left alone; one that was changed is written again.

LaminDB downloads real recordings for some of these (an FCS file from Alpert et al. 2019, a
micrograph from Paradisi et al. 2005, an image from Suo et al. 2022); Lamella makes stand-ins of the
same format and name with synthetic content, so they are good for registering, loading and curating,
not for biology.
"""

from __future__ import annotations

import gzip
import os
import uuid
from pathlib import Path

import numpy as np

from lamella import bionty as bt
from lamella._instance import state
from lamella.errors import InvalidArgument
from lamella.models import save

from . import _file_bytes as fb
from ._registries import feature_named

__all__ = [
    "bam_example_bytes",
    "cache_folder",
    "fastq_example_bytes",
    "file_bam",
    "file_fastq",
    "file_fcs",
    "file_fcs_alpert19",
    "file_jpg_paradisi05",
    "file_mini_csv",
    "file_tiff_suo22",
    "file_tsv_rnaseq_nfcore_salmon_merged_gene_counts",
    "write_file",
]

_SEED = 2005


def cache_folder() -> Path:
    """`<cache>/examples`, created on first use."""
    folder = state.cache_dir() / "examples"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_file(path: Path, data: bytes) -> Path:
    """Write `data` to `path` unless it holds exactly that already; a reader never sees half a file."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return path
    except (FileNotFoundError, NotADirectoryError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.part")
    try:
        temp.write_bytes(data)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path


def _folder(in_storage_root: bool) -> Path:
    """The cache folder, or the local storage root of the connected instance (`in_storage_root`)."""
    if not in_storage_root:
        return cache_folder()
    root = state.current().storage_root
    if "://" in root and not root.startswith("file://"):
        raise InvalidArgument(
            f"in_storage_root=True writes into a local storage root, but the instance stores in {root}; "
            "call without it and register the returned file: ln.Artifact(path, key=...).save()"
        )
    return Path(root.removeprefix("file://"))


# ---- flow cytometry ----------------------------------------------------------------------------------


def _populations(
    rng: np.random.Generator, n_events: int, means: list[list[float]], weights: list[float], noise: float
) -> np.ndarray:
    """Events drawn from a mixture of cell populations, each a mean intensity per channel."""
    labels = rng.choice(len(means), size=n_events, p=weights)
    centers = np.asarray(means, dtype=np.float64)[labels]
    return np.maximum(centers * rng.lognormal(0.0, noise, size=centers.shape), 0.0)


def file_fcs() -> Path:
    """`example.fcs`: FCS 3.0, 200 events of a flow cytometry panel (scatter plus five stains).

    Channels ($PnN / $PnS): FSC-A, FSC-H, SSC-A, and FITC-A CD3, PE-A CD4, APC-A CD8, PerCP-Cy5.5-A
    CD14, BV421-A CD19; T cells, B cells and monocytes in float32.
    """
    names = ["FSC-A", "FSC-H", "SSC-A", "FITC-A", "PE-A", "APC-A", "PerCP-Cy5.5-A", "BV421-A"]
    stains: list[str | None] = [None, None, None, "CD3", "CD4", "CD8", "CD14", "CD19"]
    means: list[list[float]] = [
        [60000, 55000, 15000, 8000, 6000, 300, 200, 150],  # CD4 T cells
        [58000, 53000, 14000, 7500, 250, 5000, 200, 150],  # CD8 T cells
        [55000, 50000, 13000, 300, 200, 250, 250, 6000],  # B cells
        [90000, 80000, 50000, 300, 1500, 200, 9000, 200],  # monocytes (CD4 low)
    ]
    events = _populations(np.random.default_rng(_SEED), 200, means, [0.4, 0.25, 0.2, 0.15], 0.15)
    data = fb.fcs_bytes(
        names,
        stains,
        events,
        [262144] * len(names),
        {"$CYT": "Lamella example cytometer", "$DATE": "01-DEC-2024", "$FIL": "example.fcs"},
    )
    return write_file(cache_folder() / "example.fcs", data)


# mass cytometry channels (metal isotope) and the marker each measures
_ALPERT19_CHANNELS = [
    ("Cd111Di", "CD57"),
    ("Cd112Di", "CD19"),
    ("In113Di", "CD4"),
    ("Cd114Di", "CD8"),
    ("In115Di", "IgD"),
    ("La139Di", "CD11c"),
    ("Pr141Di", "CD16"),
    ("Nd143Di", "CD3"),
    ("Nd144Di", "CD38"),
    ("Nd145Di", "CD27"),
    ("Nd146Di", "CD14"),
    ("Sm147Di", "CCR7"),
    ("Nd148Di", "CD45RA"),
    ("Sm149Di", "CD56"),
    ("Nd150Di", "HLA-DR"),
    ("Eu151Di", "CD161"),
]


def file_fcs_alpert19(populate_registries: bool = False) -> Path:
    """`Alpert19.fcs`: FCS 3.0 in the layout of a mass cytometry (CyTOF) immune panel, 300 events.

    Channels are metal isotopes ($PnN, "Nd143Di") with the marker each measures as $PnS ("CD3"); the
    counts are synthetic (the study's recordings are not shipped).

    Args:
        populate_registries: save the 16 markers as `bt.CellMarker` records (by name: no public marker
            table ships with Lamella) and the features "assay" (`bt.ExperimentalFactor`) and "organism"
            (`bt.Organism`), as if an earlier study had; needs the bionty module.
    """
    rng = np.random.default_rng(_SEED + 19)
    names = ["Time", "Event_length"] + [channel for channel, _ in _ALPERT19_CHANNELS]
    stains: list[str | None] = [None, None] + [marker for _, marker in _ALPERT19_CHANNELS]
    n_events = 300
    markers = rng.gamma(shape=0.6, scale=40.0, size=(n_events, len(_ALPERT19_CHANNELS)))
    time = np.sort(rng.uniform(0, 600_000, size=(n_events, 1)), axis=0)
    length = rng.integers(10, 60, size=(n_events, 1)).astype(np.float64)
    events = np.hstack([time, length, np.arcsinh(markers / 5) * 200])
    data = fb.fcs_bytes(
        names,
        stains,
        events,
        [1048576, 128] + [8192] * len(_ALPERT19_CHANNELS),
        {"$CYT": "CyTOF2", "$DATE": "07-MAR-2014", "$FIL": "Alpert19.fcs"},
    )
    path = write_file(cache_folder() / "Alpert19.fcs", data)
    if populate_registries:
        existing = set(bt.CellMarker.filter().to_list("name"))
        save([bt.CellMarker(name=marker) for _, marker in _ALPERT19_CHANNELS if marker not in existing])
        feature_named("assay", bt.ExperimentalFactor)
        feature_named("organism", bt.Organism)
    return path


# ---- images ------------------------------------------------------------------------------------------


def _blobs(
    rng: np.random.Generator, height: int, width: int, n: int, radius: tuple[float, float]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """`n` irregular elliptical blobs: per blob a boolean mask and the distance map inside it."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    shapes = []
    for _ in range(n):
        cy, cx = rng.uniform(0.1, 0.9) * height, rng.uniform(0.1, 0.9) * width
        ry, rx = rng.uniform(*radius), rng.uniform(*radius)
        angle = np.arctan2(yy - cy, xx - cx)
        # a wavy rim: laminopathic nuclei bleb, tissue nuclei are not round either
        wobble = 1 + 0.07 * np.sin(rng.integers(3, 7) * angle + rng.uniform(0, 2 * np.pi))
        distance = np.sqrt(((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2) / wobble
        shapes.append((distance < 1, distance))
    return shapes


def file_jpg_paradisi05() -> Path:
    """`paradisi05_laminopathic_nuclei.jpg`: a 120x90 baseline JPEG of fluorescent nuclei (synthetic).

    Stands in for the micrograph of laminopathic nuclei from Paradisi et al. 2005 that LaminDB's guides
    register: blue-stained nuclei with irregular, blebbing rims and green lamina on a dark background.
    """
    rng = np.random.default_rng(_SEED)
    height, width = 90, 120
    image = np.zeros((height, width, 3), dtype=np.float64)
    image += rng.normal(12, 3, size=image.shape)
    for inside, distance in _blobs(rng, height, width, 7, (8, 15)):
        image[inside, 2] += 180 * (1.1 - distance[inside] ** 2)  # DNA stain
        rim = inside & (distance > 0.75)
        image[rim, 1] += 160  # lamina at the nuclear envelope
    pixels = np.clip(image, 0, 255).astype(np.uint8)
    return write_file(cache_folder() / "paradisi05_laminopathic_nuclei.jpg", fb.jpeg_bytes(pixels))


def file_tiff_suo22() -> Path:
    """`suo22/F121_LP1_4LIV.tiff`: a 96x96 RGB TIFF of a stained tissue section (synthetic).

    Stands in for the Visium tissue image of Suo et al. 2022 (pair it with a spatial AnnData):
    pink eosin-stained tissue with purple haematoxylin-stained nuclei.
    """
    rng = np.random.default_rng(_SEED + 22)
    size = 96
    image = np.empty((size, size, 3), dtype=np.float64)
    image[...] = (235, 170, 200)
    image += rng.normal(0, 8, size=image.shape)
    for inside, _ in _blobs(rng, size, size, 40, (2, 4)):
        image[inside] = (110, 60, 150)
    pixels = np.clip(image, 0, 255).astype(np.uint8)
    return write_file(cache_folder() / "suo22" / "F121_LP1_4LIV.tiff", fb.tiff_bytes(pixels))


# ---- sequencing ---------------------------------------------------------------------------------------

_BASES = np.array(list("ACGT"))


def _sequence(rng: np.random.Generator, length: int) -> str:
    return "".join(rng.choice(_BASES, size=length))


def fastq_example_bytes(n_reads: int = 8, read_length: int = 50, seed: int = _SEED) -> bytes:
    """Reads in FASTQ (Illumina 1.8 style names, Phred+33 qualities), gzip-compressed without a timestamp."""
    rng = np.random.default_rng(seed)
    records = []
    for number in range(1, n_reads + 1):
        sequence = _sequence(rng, read_length)
        quality = "".join(chr(33 + int(q)) for q in rng.integers(25, 41, size=read_length))
        records.append(
            f"@LAMELLA:1:FC001:1:1101:{1000 + number}:{2000 + number} 1:N:0:ACGT\n{sequence}\n+\n{quality}\n"
        )
    return gzip.compress("".join(records).encode("ascii"), mtime=0)


def file_fastq(in_storage_root: bool = False) -> Path:
    """`input.fastq.gz`: eight 50-base reads in gzip-compressed FASTQ.

    Args:
        in_storage_root: write it into the connected instance's (local) storage root instead of the
            cache, to register it in place.
    """
    return write_file(_folder(in_storage_root) / "input.fastq.gz", fastq_example_bytes())


_REFERENCE = ("chr1", 248_956_422)  # GRCh38


def bam_example_bytes(n_reads: int = 4, seed: int = _SEED, cell_barcodes: list[str] | None = None) -> bytes:
    """A coordinate-sorted BAM with a SAM header and `n_reads` 30-base reads aligned to GRCh38's chr1."""
    rng = np.random.default_rng(seed)
    header = (
        "@HD\tVN:1.6\tSO:coordinate\n"
        f"@SQ\tSN:{_REFERENCE[0]}\tLN:{_REFERENCE[1]}\n"
        "@PG\tID:lamella\tPN:lamella\tVN:example\n"
    )
    positions = sorted(int(p) for p in rng.integers(1_000_000, 1_001_000, size=n_reads))
    reads = []
    for number, position in enumerate(positions, start=1):
        sequence = _sequence(rng, 30)
        qualities = [int(q) for q in rng.integers(25, 41, size=30)]
        # every other read on the reverse strand (flag 16), one with a soft-clipped start
        cigar = "5S25M" if number == 2 else "30M"
        flag = 16 if number % 2 == 0 else 0
        reads.append(fb.Read(f"read{number}", 0, position, cigar, sequence, qualities, flag=flag))
    return fb.bam_bytes(header, [_REFERENCE], reads)


def file_bam(in_storage_root: bool = False) -> Path:
    """`output.bam`: four reads on chr1 in a valid, BGZF-compressed BAM (header, references, EOF block).

    Args:
        in_storage_root: write it into the connected instance's (local) storage root instead of the
            cache, to register it in place.
    """
    return write_file(_folder(in_storage_root) / "output.bam", bam_example_bytes())


def file_mini_csv(in_storage_root: bool = False) -> Path:
    """`mini.csv`: one column "test" with the values 1, 2, 3.

    Args:
        in_storage_root: write it into the connected instance's (local) storage root instead of the
            cache.
    """
    return write_file(_folder(in_storage_root) / "mini.csv", b"test\n1\n2\n3\n")


# yeast genes, as in the nf-core/rnaseq test data: systematic name and standard name
_YEAST_GENES = [
    ("YAL001C", "TFC3"),
    ("YAL002W", "VPS8"),
    ("YAL003W", "EFB1"),
    ("YAL005C", "SSA1"),
    ("YAL007C", "ERP2"),
    ("YAL008W", "FUN14"),
    ("YAL009W", "SPO7"),
    ("YAL010C", "MDM10"),
    ("YAL011W", "SWC3"),
    ("YAL012W", "CYS3"),
]
_NFCORE_SAMPLES = ["RAP1_IAA_30M_REP1", "RAP1_UNINDUCED_REP1", "RAP1_UNINDUCED_REP2", "WT_REP1", "WT_REP2"]


def file_tsv_rnaseq_nfcore_salmon_merged_gene_counts(populate_registries: bool = False) -> Path:
    """`salmon.merged.gene_counts.tsv`: the gene-by-sample count table nf-core/rnaseq writes with Salmon.

    Columns gene_id, gene_name and one per sample (RAP1_IAA_30M_REP1, ..., WT_REP2); ten yeast genes,
    estimated counts with three decimals (synthetic).

    Args:
        populate_registries: save the features "assay" (`bt.ExperimentalFactor`) and "organism"
            (`bt.Organism`) and the assay "RNA-Seq" (EFO:0008896), as if an earlier study had; needs the
            bionty module.
    """
    rng = np.random.default_rng(_SEED + 1)
    expression = rng.gamma(shape=1.5, scale=400.0, size=len(_YEAST_GENES))
    lines = ["\t".join(["gene_id", "gene_name", *_NFCORE_SAMPLES])]
    for (gene_id, gene_name), level in zip(_YEAST_GENES, expression, strict=True):
        counts = rng.poisson(level, size=len(_NFCORE_SAMPLES)) + rng.uniform(0, 1, size=len(_NFCORE_SAMPLES))
        lines.append("\t".join([gene_id, gene_name, *(f"{count:.3f}" for count in counts)]))
    data = ("\n".join(lines) + "\n").encode("ascii")
    path = write_file(cache_folder() / "salmon.merged.gene_counts.tsv", data)
    if populate_registries:
        feature_named("assay", bt.ExperimentalFactor)
        feature_named("organism", bt.Organism)
        bt.ExperimentalFactor.from_source(ontology_id="EFO:0008896").save()
    return path
