"""The web UI on a team instance: PostgreSQL and S3 storage. Previews and downloads stream from S3."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from starlette.testclient import TestClient

import lamella as ln
import servers
from lamella._ui.app import create_app

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("lamella_home")]


def test_pages_previews_and_downloads_of_an_s3_instance_on_postgresql(
    fresh_pg_db: str, s3_prefix: str, s3: Any, tmp_path: Path
) -> None:
    ln.setup.init(storage=f"s3://{servers.S3_BUCKET}/{s3_prefix}", db=fresh_pg_db, name="team-ui")
    ln.Feature(name="temperature", dtype=float).save()
    frame = pd.DataFrame({"gene": ["CD4", "CD8A"], "count": [7, 9]})
    table = ln.Artifact.from_dataframe(frame, key="screens/counts.parquet").save()
    table.features.add_values({"temperature": 37.0})
    table.ulabels.add(ln.ULabel(name="<b>bold</b> study").save())
    notes = tmp_path / "notes.txt"
    notes.write_text("read from the bucket\n")
    text = ln.Artifact(notes, key="screens/notes.txt").save()
    assert str(text.path).startswith("s3://")

    client = TestClient(create_app(None))
    assert "screens/counts.parquet" in client.get("/").text
    listed = client.get(
        "/artifacts", params={"key": "screens/", "feature": "temperature", "value": "37"}
    ).text
    assert re.findall(r'<a href="/artifacts/([A-Za-z0-9]{20})">', listed) == [table.uid]
    page = client.get(f"/artifacts/{table.uid}").text
    # the first rows, streamed from the bucket (never the whole file), and the label as text
    assert "<td>CD4</td><td>7</td>" in page and "2 rows × 2 columns" in page
    assert "&lt;b&gt;bold&lt;/b&gt; study" in page and "<b>bold</b>" not in page
    assert "read from the bucket" in client.get(f"/artifacts/{text.uid}").text
    download = client.get(f"/artifacts/{text.uid}/download")
    assert download.status_code == 200 and download.content == b"read from the bucket\n"
    search = client.get("/search", params={"q": "bold study"}).text
    assert "/ulabels/" in search

    # a cached copy is read instead of the bucket: with the object gone, the page still shows it
    text.cache()
    s3.delete_object(Bucket=servers.S3_BUCKET, Key=str(text.path).split(f"{servers.S3_BUCKET}/", 1)[1])
    assert "read from the bucket" in client.get(f"/artifacts/{text.uid}").text
    assert client.get(f"/artifacts/{text.uid}/download").content == b"read from the bucket\n"
