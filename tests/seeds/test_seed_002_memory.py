"""Seed 002, "Track in-memory data objects" (LaminDB 0.x): its code, in the page's order.

Changes to the page's code: `lamindb` is `lamella`; sklearn's iris table is Lamella's own copy
(`ln.examples.datasets.df_iris()`, the same 150 rows), so nothing is downloaded; `!ls ./mydata`
is a listing of the storage folder. Old names warn (DeprecationWarning), as they should.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest


@pytest.fixture(autouse=True)
def _old_names_warn_quietly() -> None:
    warnings.simplefilter("ignore", DeprecationWarning)


def test_the_page_in_order(ln: ModuleType, storage_root: Path) -> None:
    ln.track(ln.Transform(key="04-memory.ipynb", kind="notebook", description="Track in-memory data objects"))

    # Usage
    df = ln.examples.datasets.df_iris()
    df.head()
    assert df.shape == (150, 5)

    file = ln.File(df, name="iris")
    ln.add(file)
    assert file.suffix == ".parquet" and file.description == "iris" and file.run == ln.context.run

    # What happens under the hood? In the SQL database
    assert ln.select(ln.File, name=file.description).one() == file
    notebook = ln.select(ln.schema.Notebook, id=ln.context.transform.id).one()
    assert notebook.kind == "notebook" and notebook.description == "Track in-memory data objects"
    assert ln.select(ln.schema.Run, id=ln.context.run.id).one() == ln.context.run

    # In storage: a parquet file with a cryptic name
    stored = sorted(p.name for p in (storage_root / ".lamella").iterdir())
    assert f"{file.uid}.parquet" in stored

    # Retrieve data
    pd.testing.assert_frame_equal(file.load(), df)
    ln.finish()
