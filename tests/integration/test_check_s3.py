"""`lamella check` on an instance whose storage is an S3 prefix (moto's server speaks the S3 protocol)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import lamella as ln

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("lamella_home")]

BUCKET = "lamella-test"


@pytest.fixture
def prefix(s3_prefix: str) -> str:
    ln.setup.init(storage=f"s3://{BUCKET}/{s3_prefix}", name="cloudcheck")
    return s3_prefix


def test_check_repair_and_reindex_in_s3(s3: Any, prefix: str, forget_connection: Any) -> None:
    kept = ln.Artifact.from_dataframe(pd.DataFrame({"a": [1, 2]}), key="kept.parquet").save()
    lost = ln.Artifact.from_dataframe(pd.DataFrame({"b": [3]}), key="lost.parquet").save()
    assert ln.setup.check().ok
    s3.delete_object(Bucket=BUCKET, Key=f"{prefix}/.lamella/{lost.uid}.parquet")
    orphan_key = f"{prefix}/.lamella/ABCDEFGHIJKLMNOP0000.txt"
    s3.put_object(Bucket=BUCKET, Key=orphan_key, Body=b"orphan")

    report = ln.setup.check(repair=True)
    assert sorted((p.kind, p.repaired) for p in report.problems) == [("missing", False), ("orphan", True)]
    moved = s3.get_object(Bucket=BUCKET, Key=f"{prefix}/.lamella/_orphaned/ABCDEFGHIJKLMNOP0000.txt")
    assert moved["Body"].read() == b"orphan"

    ln.Artifact.get(lost.uid).delete(permanent=True, storage=False)
    config = ln.setup.settings.instance
    assert config.dialect == "sqlite"
    forget_connection()
    from lamella._instance import config as cfg

    instance_config = cfg.InstanceConfig.load("cloudcheck")
    assert instance_config is not None
    for suffix in ("", "-wal", "-shm"):  # the embedded database of a cloud instance lives in LAMELLA_HOME
        path = instance_config.sqlite_path()
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    report = ln.setup.check(reindex=True)
    assert report.ok and sorted(report.reindexed) == sorted([kept.uid, "ABCDEFGHIJKLMNOP0000"])
    ln.setup.connect("cloudcheck")
    assert ln.Artifact.get(kept.uid).load()["a"].tolist() == [1, 2]
    assert ln.Artifact.get("ABCDEFGHIJKLMNOP0000").cache().read_bytes() == b"orphan"
