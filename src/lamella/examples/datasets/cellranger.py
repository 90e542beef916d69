"""A folder laid out like Cell Ranger's output for one sample: count matrices, BAM, summaries.

The files are small and valid in their formats (gzip MatrixMarket and TSV, 10x HDF5, BAM, CSV, HTML)
with synthetic counts; `cloupe.cloupe` (a proprietary format) and the BAM index are stand-ins.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import h5py
import numpy as np

from ._file_bytes import bai_bytes
from .files import bam_example_bytes, cache_folder, fastq_example_bytes, write_file

__all__ = ["dir_scrnaseq_cellranger"]

_GENES = [
    ("ENSG00000153563", "CD8A"),
    ("ENSG00000010610", "CD4"),
    ("ENSG00000170458", "CD14"),
    ("ENSG00000004468", "CD38"),
    ("ENSG00000000003", "TSPAN6"),
    ("ENSG00000000419", "DPM1"),
    ("ENSG00000000457", "SCYL3"),
    ("ENSG00000000938", "FGR"),
]
_GENOME = "GRCh38"
_N_BARCODES = 20
_N_CELLS = 12  # the barcodes with most counts are called cells


def _text_gz(lines: list[str]) -> bytes:
    return gzip.compress(("\n".join(lines) + "\n").encode("ascii"), mtime=0)


def _matrix_mtx_gz(counts: np.ndarray) -> bytes:
    """Features x barcodes in MatrixMarket coordinate format, 1-based, as Cell Ranger writes it."""
    rows, columns = np.nonzero(counts)
    lines = [
        "%%MatrixMarket matrix coordinate integer general",
        '%metadata_json: {"software_version": "lamella-example", "format_version": 2}',
        f"{counts.shape[0]} {counts.shape[1]} {len(rows)}",
    ]
    lines += [f"{r + 1} {c + 1} {counts[r, c]}" for r, c in zip(rows, columns, strict=True)]
    return _text_gz(lines)


def _features_tsv_gz() -> bytes:
    return _text_gz([f"{gene_id}\t{symbol}\tGene Expression" for gene_id, symbol in _GENES])


def _matrix_h5(counts: np.ndarray, barcodes: list[str]) -> bytes:
    """The 10x HDF5 feature-barcode matrix: /matrix with CSC arrays (columns are barcodes)."""
    indptr = [0]
    indices: list[int] = []
    data: list[int] = []
    for column in range(counts.shape[1]):
        nonzero = np.nonzero(counts[:, column])[0]
        indices += nonzero.tolist()
        data += counts[nonzero, column].tolist()
        indptr.append(len(indices))
    buffer = io.BytesIO()
    with h5py.File(buffer, "w", track_order=False) as file:
        matrix = file.create_group("matrix")
        matrix.create_dataset("barcodes", data=np.array(barcodes, dtype="S"), track_times=False)
        matrix.create_dataset("data", data=np.array(data, dtype=np.int32), track_times=False)
        matrix.create_dataset("indices", data=np.array(indices, dtype=np.int64), track_times=False)
        matrix.create_dataset("indptr", data=np.array(indptr, dtype=np.int64), track_times=False)
        matrix.create_dataset("shape", data=np.array(counts.shape, dtype=np.int32), track_times=False)
        features = matrix.create_group("features")
        for name, values in (
            ("id", [gene_id for gene_id, _ in _GENES]),
            ("name", [symbol for _, symbol in _GENES]),
            ("feature_type", ["Gene Expression"] * len(_GENES)),
            ("genome", [_GENOME] * len(_GENES)),
        ):
            features.create_dataset(name, data=np.array(values, dtype="S"), track_times=False)
        file.attrs["library_ids"] = np.array([b"sample"])
    return buffer.getvalue()


def _molecule_info_h5(counts: np.ndarray, barcodes: list[str]) -> bytes:
    """One row per (barcode, feature) with a count, as in Cell Ranger's per-molecule table (simplified)."""
    features, barcode_index = np.nonzero(counts)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w", track_order=False) as file:
        file.create_dataset("barcodes", data=np.array(barcodes, dtype="S"), track_times=False)
        file.create_dataset("barcode_idx", data=barcode_index.astype(np.uint64), track_times=False)
        file.create_dataset("feature_idx", data=features.astype(np.uint32), track_times=False)
        file.create_dataset(
            "count", data=counts[features, barcode_index].astype(np.uint32), track_times=False
        )
    return buffer.getvalue()


def _outputs(sample_name: str) -> dict[str, bytes]:
    rng = np.random.default_rng(10)
    barcodes = ["".join(rng.choice(list("ACGT"), size=16)) + "-1" for _ in range(_N_BARCODES)]
    depth = np.sort(rng.gamma(2.0, 40.0, size=_N_BARCODES))[::-1]
    profile = rng.dirichlet(np.ones(len(_GENES)), size=_N_BARCODES)
    counts = rng.poisson(depth[:, None] * profile).T.astype(np.int64)  # features x barcodes
    cells = list(range(_N_CELLS))
    filtered = counts[:, cells]
    cell_barcodes = [barcodes[i] for i in cells]
    files: dict[str, bytes] = {}
    for prefix, matrix, names in (("raw", counts, barcodes), ("filtered", filtered, cell_barcodes)):
        folder = f"{prefix}_feature_bc_matrix"
        files[f"{folder}.h5"] = _matrix_h5(matrix, names)
        files[f"{folder}/barcodes.tsv.gz"] = _text_gz(names)
        files[f"{folder}/features.tsv.gz"] = _features_tsv_gz()
        files[f"{folder}/matrix.mtx.gz"] = _matrix_mtx_gz(matrix)
    reads = int(filtered.sum()) * 3
    files["metrics_summary.csv"] = (
        "Estimated Number of Cells,Mean Reads per Cell,Median Genes per Cell,Number of Reads\n"
        f"{_N_CELLS},{reads // _N_CELLS},{int(np.median((filtered > 0).sum(axis=0)))},{reads}\n"
    ).encode("ascii")
    clusters = [f"{barcode},{1 + i % 3}" for i, barcode in enumerate(cell_barcodes)]
    files["analysis/analysis.csv"] = ("Barcode,Cluster\n" + "\n".join(clusters) + "\n").encode("ascii")
    files["web_summary.html"] = (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>"
        f"{sample_name} - Cell Ranger summary (example)</title></head>\n<body><h1>{sample_name}</h1>\n"
        f"<p>Estimated number of cells: {_N_CELLS}</p></body></html>\n"
    ).encode("ascii")
    files["possorted_genome_bam.bam"] = bam_example_bytes(n_reads=6, seed=11)
    files["possorted_genome_bam.bam.bai"] = bai_bytes(1)
    files["molecule_info.h5"] = _molecule_info_h5(counts, barcodes)
    files["cloupe.cloupe"] = b"Loupe Browser file stand-in: the format is proprietary.\n"
    return files


def dir_scrnaseq_cellranger(
    sample_name: str = "sample_001", basedir: str | Path | None = None, output_only: bool = True
) -> Path:
    """Write Cell Ranger's outputs for `sample_name` into `<basedir>/<sample_name>/`; return that folder.

    Args:
        sample_name: the sample's name, the folder's name.
        basedir: the run folder; by default `<cache>/examples/cellranger_run_001` (LaminDB's default is
            the working directory).
        output_only: without the inputs; with `False`, also `<basedir>/fastq/<sample_name>_R1_001.fastq.gz`
            and `_R2_001.fastq.gz`.

    The sample folder holds web_summary.html, metrics_summary.csv, possorted_genome_bam.bam (+ .bai),
    molecule_info.h5, cloupe.cloupe, raw_ and filtered_feature_bc_matrix.h5 and the folders
    raw_feature_bc_matrix/, filtered_feature_bc_matrix/ (barcodes.tsv.gz, features.tsv.gz,
    matrix.mtx.gz) and analysis/ (analysis.csv): 15 files, 8 genes, 20 barcodes of which 12 are cells.
    """
    run_folder = Path(basedir) if basedir is not None else cache_folder() / "cellranger_run_001"
    if not output_only:
        for read, seed in (("R1", 1), ("R2", 2)):
            path = run_folder / "fastq" / f"{sample_name}_{read}_001.fastq.gz"
            write_file(path, fastq_example_bytes(seed=seed))
    sample_folder = run_folder / sample_name
    for relative, data in _outputs(sample_name).items():
        write_file(sample_folder / relative, data)
    return sample_folder
