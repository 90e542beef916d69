"""`search()` ranks and filters alike on SQLite (FTS5 trigram tables) and PostgreSQL (pg_trgm)."""

from __future__ import annotations

from pathlib import Path

import pytest

import lamella as ln

LABELS = [
    ("T cell receptor", "a receptor"),
    ("T cell", "a lymphocyte"),
    ("Regulatory T cell", "suppresses"),
    ("cell cycle T phase", None),
    ("B cell", "T helper target"),
    ("CD8-positive, alpha-beta T CELL", "naïve 100% a_b"),
    ("Neuron", None),
]


@pytest.fixture
def labels(backend: str, db_url: str | None, tmp_path: Path) -> None:
    ln.setup.init(storage=(tmp_path / "data").resolve(), name=f"search-{backend}", db=db_url)
    for name, description in LABELS:
        ln.ULabel(name=name, description=description).save()


T_CELL = [
    "T cell",
    "T cell receptor",
    "Regulatory T cell",
    "CD8-positive, alpha-beta T CELL",
    "cell cycle T phase",
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # exact, prefix, substring, then every word in one field; among equals the shortest, then the first
        ("t cell", T_CELL),
        ("T CELL", T_CELL),
        (
            "cell",
            [
                "cell cycle T phase",
                "T cell",
                "B cell",
                "T cell receptor",
                "Regulatory T cell",
                "CD8-positive, alpha-beta T CELL",
            ],
        ),
        ("lymphocyte", ["T cell"]),
        ("helper target", ["B cell"]),
        ("alpha-beta", ["CD8-positive, alpha-beta T CELL"]),
        ("a_b", ["CD8-positive, alpha-beta T CELL"]),  # wildcards are literal
        ("100%", ["CD8-positive, alpha-beta T CELL"]),
        ("ne", ["Neuron"]),  # shorter than a trigram: scanned
        ("nothing like this", []),
    ],
)
def test_search_ranks_alike_on_both_backends(labels: None, text: str, expected: list[str]) -> None:
    assert ln.ULabel.search(text, limit=None).to_list("name") == expected


def test_search_is_chained_fields_and_limits(labels: None) -> None:
    assert ln.ULabel.filter(name__startswith="R").search("t cell").to_list("name") == ["Regulatory T cell"]
    assert ln.ULabel.search("receptor", field="name").to_list("name") == ["T cell receptor"]
    assert ln.ULabel.search("cell", limit=2).count() == 2
    label = ln.ULabel.get(name="Neuron")
    label.name = "Neuron of the gut"
    label.save()
    assert ln.ULabel.search("gut").to_list("name") == ["Neuron of the gut"]
    label.delete(permanent=True)
    assert ln.ULabel.search("gut").count() == 0
