"""A run's branch and space on SQLite and on a real PostgreSQL: the raw name lookup (its parameter
markers differ per driver), bulk saves, new branch and space ids (PostgreSQL's sequence of `space`
starts behind the base row), and flows with their steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lamella as ln


def test_a_run_on_a_branch_and_in_a_space(tmp_path: Path, db_url: str | None) -> None:
    ln.setup.init(storage=tmp_path / "data", name="branches", db=db_url)
    branch = ln.Branch(name="experiment").save()
    space = ln.Space(name="restricted").save()
    assert (branch.id, space.id) == (2, 2)
    shared = ln.ULabel(name="shared").save()
    run = ln.track(ln.Transform(key="p", kind="pipeline"), branch="experiment", space="restricted")
    assert ln.ULabel(name="shared") == shared  # main's record, found by name during the run
    labels = ln.save([ln.ULabel(name=f"batch {i}") for i in range(3)])
    assert {(r.branch_id, r.space_id) for r in labels} == {(2, 2)}
    assert ln.ULabel(name="batch 1") == labels[1]  # the branch's record, found by name during the run
    assert ln.ULabel.filter().count() == 4
    ln.finish()
    assert ln.ULabel.filter().count() == 1
    assert ln.ULabel.filter(branch_id=branch.id).count() == 3
    assert ln.Run.get(run.uid).branch_id == 1


def test_a_flow_and_its_steps(tmp_path: Path, db_url: str | None) -> None:
    ln.setup.init(storage=tmp_path / "data", name="flows", db=db_url)

    @ln.step()
    def count(n: int) -> int:
        ln.ULabel(name=f"counted {n}").save()
        return n

    @ln.flow()
    def pipeline(n: int) -> Any:
        count(n)
        return ln.context.run

    flow_run = pipeline(3)
    assert flow_run.transform.kind == "pipeline" and ln.context.run is None
    step_run = ln.ULabel.get(name="counted 3").run
    assert step_run.initiated_by_run == flow_run and step_run.params == {"n": 3}
    revised = ln.Transform(revises=flow_run.transform).save()
    assert revised.uid == flow_run.transform.stem_uid + "0001" and revised.is_latest
