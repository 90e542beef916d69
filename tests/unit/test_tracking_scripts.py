"""`ln.track()` / `ln.finish()`: scripts become versioned transforms, runs keep params, environment,
report and status, and a run's project collects what the run creates.

Scripts run as real scripts in a subprocess (the way users run them: the tee of stdout/stderr, the
exception hook and the exit handler only exist there); the run API itself (params, projects, explicit
transforms) is tested in-process with a transform of kind "pipeline", which installs no tee.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest

from lamella._tracking.transforms import source_hash
from lamella.errors import DoesNotExist, InvalidArgument, ValidationError

Script = Callable[..., subprocess.CompletedProcess[str]]

SCRIPT = """import lamella as ln

ln.track()
print("hello from the script")
ln.finish()
"""


def text_of(artifact: Any) -> str:
    return Path(str(artifact.cache())).read_text()


def pipeline(ln: ModuleType, key: str = "My pipeline") -> Any:
    return ln.Transform(key=key, kind="pipeline").save()


# ---- the script as a transform ----------------------------------------------------------------------


def test_a_script_becomes_a_transform_with_its_source_run_report_and_project(
    ln: ModuleType, run_script: Script
) -> None:
    source = """import sys
import warnings

import lamella as ln
import pandas as pd

print("before track() is not part of the run")
ln.track(params={"learning_rate": 0.01, "batch_size": 32}, project="Cancer Drug Screen 2025")
print("normalized 3 rows")
sys.stderr.write("a warning on stderr\\n")
warnings.warn("careful with batch 2")
for i in range(2000):
    print(f"line {i}")
ln.Artifact.from_dataframe(pd.DataFrame({"a": [1, 2]}), key="tables/t.parquet").save()
ln.finish()
"""
    result = run_script("analysis.py", source)
    assert "normalized 3 rows" in result.stdout  # the tee still writes to the terminal
    assert "a warning on stderr" in result.stderr

    transform = ln.Transform.get(key="analysis.py")
    assert transform.kind == "script"
    assert transform.source_code == source
    assert transform.hash == source_hash(source)
    assert len(transform.uid) == 16 and transform.uid.endswith("0000") and transform.is_latest
    run = transform.runs.one()
    assert run.transform == transform
    assert run.status == "completed"
    assert run.finished_at is not None and run.started_at <= run.finished_at
    assert run.created_by.handle == ln.setup.settings.user.handle
    assert ln.Run.filter(transform=transform, status="completed").one() == run
    assert run.params == {"learning_rate": 0.01, "batch_size": 32}
    assert ln.Run.filter(params__batch_size__gt=16).one() == run

    # what it printed, on stdout and stderr, is the run's report
    report = text_of(run.report)
    for expected in (
        "normalized 3 rows",
        "a warning on stderr",
        "careful with batch 2",
        "line 0",
        "line 1999",
    ):
        assert expected in report, expected
    assert "before track()" not in report

    # reports and environments are reachable from the run, hidden from artifact queries
    output = ln.Artifact.get(key="tables/t.parquet")
    assert output.run == run and output.transform == transform
    assert ln.Artifact.filter().count() == 1
    assert ln.Artifact.filter().to_list("key") == ["tables/t.parquet"]
    assert len(ln.Artifact.filter().to_dataframe()) == 1
    assert ln.Artifact.filter(run=run).one() == output
    assert ln.Artifact.filter(kind="__lamella_report__").one().id == run.report.id
    assert ln.Artifact.filter(kind="__lamella_env__").one().id == run.environment.id
    assert "pandas==" in text_of(run.environment)

    # the project collects the transform, the run and its outputs (not the hidden report)
    project = ln.Project.get(name="Cancer Drug Screen 2025")
    assert ln.Transform.filter(projects=project).one() == transform
    assert ln.Run.filter(projects=project).one() == run
    assert ln.Artifact.filter(projects=project).one() == output


def test_unchanged_source_reuses_the_transform_changed_source_makes_a_version(
    ln: ModuleType, run_script: Script
) -> None:
    run_script("preprocess.py", SCRIPT)
    run_script("preprocess.py", SCRIPT)
    (first,) = ln.Transform.filter(key="preprocess.py")
    assert first.runs.count() == 2  # same uid, a new run each time
    assert len({r.uid for r in first.runs.all()}) == 2

    edited = SCRIPT.replace("print(", "# normalize first\nprint(")
    run_script("preprocess.py", edited)
    old, new = ln.Transform.filter(key="preprocess.py").order_by("uid")
    assert old.uid == first.uid
    assert new.uid[:12] == old.uid[:12] and new.uid.endswith("0001"), (old.uid, new.uid)
    assert new.is_latest and not old.is_latest
    assert new.source_code == edited and old.source_code == SCRIPT
    assert old.runs.count() == 2 and new.runs.count() == 1

    # the same content under another file name: a transform of its own; the old family is untouched
    run_script("renamed.py", edited)
    renamed = ln.Transform.get(key="renamed.py")
    assert renamed.uid[:12] != new.uid[:12] and renamed.uid.endswith("0000") and renamed.is_latest
    assert renamed.kind == "script" and renamed.source_code == edited and renamed.runs.count() == 1
    assert ln.Transform.filter(key="preprocess.py").count() == 2
    assert ln.Transform.get(new.uid).is_latest and ln.Transform.get(new.uid).runs.count() == 1


def test_versions_count_up_from_the_latest(ln: ModuleType) -> None:
    from lamella._tracking.transforms import transform_for_source

    first, created = transform_for_source("step.py", "script", "print(1)\n")
    assert created
    again, created = transform_for_source("step.py", "script", "print(1)\n")
    assert not created and again.uid == first.uid
    second, _ = transform_for_source("step.py", "script", "print(2)\n")
    third, _ = transform_for_source("step.py", "script", "print(3)\n")
    assert [t.uid[12:] for t in (first, second, third)] == ["0000", "0001", "0002"]
    assert len({t.uid[:12] for t in (first, second, third)}) == 1
    assert ln.Transform.filter(key="step.py", is_latest=True).one().uid == third.uid
    assert ln.Transform.filter(key="step.py").count() == 3


def test_a_script_can_pass_its_transform_explicitly_or_by_uid(ln: ModuleType, run_script: Script) -> None:
    source = """import lamella as ln

transform = ln.Transform(key="My pipeline", kind="pipeline")
ln.track(transform)
ln.finish()
ln.track(transform.uid, params={"again": True})
ln.finish()
"""
    run_script("explicit.py", source)
    transform = ln.Transform.get(key="My pipeline")
    assert transform.kind == "pipeline"
    assert ln.Transform.filter(key="explicit.py").count() == 0  # the script itself is not a transform here
    runs = transform.runs.order_by("started_at").to_list()
    assert [r.status for r in runs] == ["completed", "completed"]
    assert runs[0].params is None and runs[1].params == {"again": True}


def test_concurrent_runs_of_one_script_share_its_transform(
    ln: ModuleType, home: Path, tmp_path: Path
) -> None:
    (tmp_path / "parallel.py").write_text(SCRIPT)
    env = {**os.environ, "LAMELLA_HOME": str(home)}
    processes = [
        subprocess.Popen(
            [sys.executable, "parallel.py"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, (out, err)
    transform = ln.Transform.filter(key="parallel.py").one()
    assert transform.runs.filter(status="completed").count() == 2


def test_track_needs_a_file_when_the_code_has_none(ln: ModuleType, run_python: Script) -> None:
    result = run_python("import lamella as ln\nln.track()\n")
    assert result.returncode != 0
    assert "pass a transform" in result.stderr
    assert ln.Transform.filter().count() == 0


# ---- the API of track() and finish() ----------------------------------------------------------------


def test_track_an_unsaved_transform_saves_it(ln: ModuleType) -> None:
    run = ln.track(ln.Transform(key="My pipeline", kind="pipeline"))
    transform = ln.Transform.get(key="My pipeline")
    assert run.transform == transform and transform.kind == "pipeline"
    assert ln.context.transform == transform and ln.context.run == run
    assert run.status == "started" and run.finished_at is None
    assert ln.Run.get(run.uid).status == "started"  # stored as started before finish()
    ln.finish()
    stored = ln.Run.get(run.uid)
    assert stored.status == "completed" and stored.finished_at is not None


def test_track_by_uid_and_by_saved_transform(ln: ModuleType) -> None:
    transform = pipeline(ln)
    first = ln.track(transform.uid)
    ln.finish()
    second = ln.track(transform)
    ln.finish()
    assert first.transform == second.transform == transform
    assert first.uid != second.uid
    assert transform.runs.count() == 2
    assert ln.Transform.filter(key="My pipeline").count() == 1


def test_track_rejects_what_it_cannot_use(ln: ModuleType) -> None:
    with pytest.raises(DoesNotExist):
        ln.track("0000000000000000")
    with pytest.raises(InvalidArgument):
        ln.track(42)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="params"):
        ln.track(pipeline(ln), params=[("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="project"):
        ln.track(pipeline(ln), project=42)  # type: ignore[arg-type]
    assert ln.Run.filter().count() == 0


def test_finish_without_a_run_and_finish_twice(ln: ModuleType) -> None:
    with pytest.raises(InvalidArgument, match=r"ln\.track\(\)"):
        ln.finish()
    run = ln.track(pipeline(ln))
    ln.finish()
    finished_at = ln.Run.get(run.uid).finished_at
    ln.finish()  # a second finish() changes nothing
    assert ln.Run.get(run.uid).finished_at == finished_at


def test_records_link_to_the_run_until_finish(ln: ModuleType) -> None:
    run = ln.track(pipeline(ln))
    during = ln.ULabel(name="during").save()
    ln.finish()
    after = ln.ULabel(name="after").save()
    assert during.run == run
    assert after.run is None
    assert ln.ULabel.filter(run=run).one() == during


def test_a_second_track_starts_a_new_run(ln: ModuleType) -> None:
    first = ln.track(pipeline(ln, "step 1"))
    second = ln.track(pipeline(ln, "step 2"))
    label = ln.ULabel(name="made by step 2").save()
    ln.finish()
    assert first.uid != second.uid
    assert label.run == second
    assert ln.Run.get(second.uid).status == "completed"


# ---- params -----------------------------------------------------------------------------------------


PARAMS = {
    "learning_rate": 0.01,
    "batch_size": 32,
    "epochs": 100,
    "downsample": True,
    "optimizer": "adam",
    "model": {"name": "mlp", "layers": [64, 32], "dropout": 0.1},
}


def test_params_are_stored_as_json(ln: ModuleType) -> None:
    run = ln.track(pipeline(ln), params=PARAMS)
    ln.finish()
    stored = ln.Run.get(run.uid).params
    assert stored == PARAMS
    assert stored["downsample"] is True and isinstance(stored["batch_size"], int)


def test_params_are_queryable(ln: ModuleType) -> None:
    transform = pipeline(ln)
    run = ln.track(transform, params=PARAMS)
    ln.finish()
    other = ln.track(
        transform,
        params={
            "learning_rate": 0.1,
            "batch_size": 8,
            "downsample": False,
            "optimizer": "sgd",
            "model": {"name": "cnn"},
        },
    )
    ln.finish()
    ln.track(transform)  # a run without params matches no params filter
    ln.finish()

    assert ln.Run.filter(params__learning_rate=0.01).one() == run
    assert ln.Run.filter(params__batch_size__gt=16).one() == run
    assert ln.Run.filter(params__batch_size__lte=16).one() == other
    assert ln.Run.filter(params__downsample=True).one() == run
    assert ln.Run.filter(params__downsample=False).one() == other
    assert ln.Run.filter(params__optimizer="sgd").one() == other
    assert ln.Run.filter(params__model__name="mlp").one() == run
    assert ln.Run.filter(params__model__dropout__lt=0.5).one() == run
    assert ln.Run.filter(params__learning_rate=0.5).count() == 0
    assert ln.Run.filter(transform=transform).count() == 3


def test_params_that_are_not_json_are_stored_readably(ln: ModuleType, tmp_path: Path) -> None:
    import datetime

    artifact = ln.Artifact(_write(tmp_path / "in.txt", "x"), key="in.txt").save()
    params = {
        "path": tmp_path / "in.txt",
        "day": datetime.date(2025, 1, 31),
        "genes": ("CD8A", "CD4"),
        "artifact": artifact,
        "nan": float("nan"),
    }
    run = ln.track(pipeline(ln), params=params)
    ln.finish()
    stored = ln.Run.get(run.uid).params
    assert stored["path"] == str(tmp_path / "in.txt")
    assert stored["day"] == "2025-01-31"
    assert stored["genes"] == ["CD8A", "CD4"]
    assert artifact.uid in stored["artifact"]
    assert stored["nan"] == "nan"


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# ---- environment ------------------------------------------------------------------------------------


def test_the_environment_is_stored_once_and_shared(ln: ModuleType) -> None:
    transform = pipeline(ln)
    first = ln.track(transform)
    ln.finish()
    second = ln.track(transform)
    ln.finish()
    first, second = ln.Run.get(first.uid), ln.Run.get(second.uid)
    assert first.environment is not None
    assert first.environment.id == second.environment.id  # identical environments are stored once
    text = text_of(first.environment)
    assert "pandas==" in text and "lamella==" in text
    assert platform.python_version() in text
    assert ln.Artifact.filter().count() == 0  # the environment is not user data
    assert ln.Artifact.filter(kind="__lamella_env__").one().id == first.environment.id


# ---- what a script prints ---------------------------------------------------------------------------


def test_a_failing_script_is_errored_and_keeps_its_output(ln: ModuleType, run_script: Script) -> None:
    source = (
        'import lamella as ln\nln.track()\nprint("about to fail")\nraise RuntimeError("boom: empty input")\n'
    )
    result = run_script("fails.py", source, check=False)
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "RuntimeError: boom: empty input" in result.stderr
    run = ln.Transform.get(key="fails.py").runs.one()
    assert run.status == "errored"
    assert run.finished_at is not None
    assert ln.Run.filter(status="errored").one() == run
    report = text_of(run.report)
    assert "about to fail" in report
    assert "Traceback" in report and "RuntimeError: boom: empty input" in report
    assert run.environment is not None


def test_keyboard_interrupt_marks_the_run_aborted(ln: ModuleType, run_script: Script) -> None:
    source = 'import lamella as ln\nln.track()\nprint("working")\nraise KeyboardInterrupt\n'
    result = run_script("interrupted.py", source, check=False)
    assert result.returncode != 0
    assert "KeyboardInterrupt" in result.stderr
    run = ln.Transform.get(key="interrupted.py").runs.one()
    assert run.status == "aborted"
    assert "working" in text_of(run.report)


def test_a_script_without_finish_keeps_its_report_and_stays_started(
    ln: ModuleType, run_script: Script
) -> None:
    source = 'import lamella as ln\nln.track()\nprint("forgot to finish")\n'
    run_script("no_finish.py", source)
    transform = ln.Transform.get(key="no_finish.py")
    assert transform.source_code == source and transform.hash == source_hash(source)  # stored at track()
    run = transform.runs.one()
    assert run.status == "started"
    assert run.finished_at is None
    assert "forgot to finish" in text_of(run.report)


# ---- projects ---------------------------------------------------------------------------------------


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame({"gene": ["CD8A", "CD4"], "count": [1, 2]})


def test_a_project_collects_the_transform_the_run_and_what_the_run_creates(
    ln: ModuleType, table: pd.DataFrame
) -> None:
    transform = pipeline(ln)
    unrelated = ln.Artifact.from_dataframe(table, key="before.parquet").save()
    run = ln.track(transform, project="Cancer Drug Screen 2025")
    project = ln.Project.get(name="Cancer Drug Screen 2025")
    assert ln.context.project == project
    artifact = ln.Artifact.from_dataframe(table.assign(count=[3, 4]), key="processed.parquet").save()
    label = ln.ULabel(name="treated").save()
    record = ln.Record(name="sample 1").save()
    many = ln.save([ln.ULabel(name=f"batch {i}") for i in range(200)])  # bulk saves join too
    ln.finish()
    ln.ULabel(name="after finish").save()
    ln.Artifact.from_dataframe(table.assign(count=[5, 6]), key="after.parquet").save()

    assert ln.Artifact.filter(projects=project).one() == artifact
    assert ln.Run.filter(projects=project).one() == run
    assert ln.Run.filter(project=project).one() == run  # LaminDB's singular spelling
    assert ln.Transform.filter(projects=project).one() == transform
    assert ln.Record.filter(projects=project).one() == record
    names = set(ln.ULabel.filter(projects=project).to_list("name"))
    assert names == {"treated", *(m.name for m in many)}
    assert label in project.ulabels.all()
    assert unrelated not in ln.Artifact.filter(projects=project).to_list()


def test_track_with_a_project_object_and_an_existing_name(ln: ModuleType, table: pd.DataFrame) -> None:
    project = ln.Project(name="Atlas").save()
    run = ln.track(pipeline(ln), project=project)
    ln.finish()
    unsaved = ln.Project(name="Atlas v2")
    second = ln.track(pipeline(ln, "second"), project=unsaved)
    ln.finish()
    third = ln.track(pipeline(ln, "third"), project="Atlas")  # the name of an existing project
    ln.finish()
    assert ln.Project.filter(name="Atlas").count() == 1
    assert set(ln.Run.filter(projects=project).to_list("uid")) == {run.uid, third.uid}
    assert ln.Run.filter(projects=ln.Project.get(name="Atlas v2")).one() == second


def test_a_project_only_collects_records_of_its_own_run(ln: ModuleType) -> None:
    ln.track(pipeline(ln), project="Screen")
    ln.finish()
    ln.track(pipeline(ln, "other"))  # a later run without a project
    ln.ULabel(name="not in the project").save()
    ln.finish()
    project = ln.Project.get(name="Screen")
    assert ln.ULabel.filter(projects=project).count() == 0


def test_a_tracked_function_called_after_finish_does_not_join_the_project(ln: ModuleType) -> None:
    @ln.tracked()
    def make_label(name: str) -> Any:
        return ln.ULabel(name=name).save()

    ln.track(pipeline(ln), project="Screen")
    make_label("during the run")
    ln.finish()
    make_label("after finish")
    project = ln.Project.get(name="Screen")
    assert ln.ULabel.filter(projects=project).to_list("name") == ["during the run"]


# ---- branch, space, features ------------------------------------------------------------------------


def test_a_run_on_a_branch_saves_its_records_there(ln: ModuleType, table: pd.DataFrame) -> None:
    branch = ln.Branch(name="experiment").save()
    assert branch.id > 1 and ln.Branch.get(name="experiment") == branch
    existing = ln.ULabel(name="shared").save()
    transform = pipeline(ln)
    run = ln.track(transform, branch="experiment")
    assert ln.context.branch == branch
    artifact = ln.Artifact.from_dataframe(table, key="branch/table.parquet").save()
    label = ln.ULabel(name="made on the branch").save()
    labels = ln.save([ln.ULabel(name=f"bulk {i}") for i in range(3)])
    assert ln.ULabel(name="shared") == existing  # main's records are found by name on the branch
    assert ln.Artifact.get(key="branch/table.parquet") == artifact  # the run sees its branch
    ln.finish()

    assert artifact.branch_id == label.branch_id == branch.id
    assert {r.branch_id for r in labels} == {branch.id}
    assert artifact.run == run and label.run == run
    assert run.branch_id == 1 and ln.Run.filter(transform=transform).one() == run  # lineage stays on main
    assert ln.Artifact.filter(key="branch/table.parquet").count() == 0  # main does not see the branch
    assert ln.Artifact.filter(branch_id=branch.id).one() == artifact
    assert ln.ULabel.filter(branch_id=branch.id).count() == 4
    assert ln.Artifact.filter(kind="__lamella_env__").count() == 1  # lineage artifacts stay on main
    after = ln.ULabel(name="after finish").save()
    assert after.branch_id == 1


def test_branch_and_space_by_record_or_name(ln: ModuleType) -> None:
    space = ln.Space(name="restricted").save()
    branch = ln.Branch(name="Review")
    run = ln.track(pipeline(ln), branch=branch, space="restricted")  # an unsaved branch is saved
    label = ln.ULabel(name="private").save()
    ln.finish()
    assert branch.id is not None and label.branch_id == branch.id and label.space_id == space.id
    assert run.space_id == 1
    ln.track(pipeline(ln), branch="main", space=ln.Space.get(1))  # main and "all" are the defaults
    assert ln.ULabel(name="public").save().branch_id == 1
    ln.finish()
    with pytest.raises(DoesNotExist, match=r"ln\.Branch\(name='nope'\)\.save\(\)"):
        ln.track(pipeline(ln), branch="nope")
    with pytest.raises(DoesNotExist, match=r"ln\.Space\(name='nope'\)"):
        ln.track(pipeline(ln), space="nope")
    with pytest.raises(InvalidArgument, match="trash"):
        ln.track(pipeline(ln), branch="trash")
    with pytest.raises(InvalidArgument, match="branch="):
        ln.track(pipeline(ln), branch=2)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="exists already"):
        ln.Branch(name="review").save()  # names are unique, ignoring case
    assert ln.Run.filter().count() == 2


def test_features_are_annotated_on_the_run(ln: ModuleType) -> None:
    ln.Feature(name="temperature", dtype=float).save()
    ln.Feature(name="instrument", dtype=str).save()
    run = ln.track(pipeline(ln), features={"temperature": 21.5, "instrument": "FACS"}, params={"n": 3})
    ln.finish()
    assert run.features.get_values() == {"temperature": 21.5, "instrument": "FACS"}
    assert ln.Run.filter(temperature__gt=20).one() == run
    assert run.params == {"n": 3}
    with pytest.raises(ValidationError, match="not registered"):
        ln.track(pipeline(ln), features={"humidity": 0.4})
    with pytest.raises(InvalidArgument, match="features"):
        ln.track(pipeline(ln), features=[("temperature", 1.0)])  # type: ignore[arg-type]
    assert ln.Run.filter().count() == 1  # a bad feature value starts no run


# ---- the transform's identity: a stem uid, LaminDB 0.x's settings -----------------------------------


def test_track_with_a_stem_uid_names_the_scripts_family(
    ln: ModuleType, run_script: Script, run_python: Script
) -> None:
    source = 'import lamella as ln\n\nln.track("FPnfDtJz8qbE")\nln.finish()\n'
    run_script("first_name.py", source)
    transform = ln.Transform.get(key="first_name.py")
    assert transform.uid == "FPnfDtJz8qbE0000" and transform.kind == "script"
    run_script("renamed.py", source)  # a rename keeps the family: the same source, the same transform
    assert transform.runs.count() == 2 and ln.Transform.filter(key="renamed.py").count() == 0
    edited = source.replace("ln.finish()", "print('edited')\nln.finish()")
    run_script("renamed.py", edited)
    new = ln.Transform.get("FPnfDtJz8qbE")
    assert new.uid == "FPnfDtJz8qbE0001" and new.key == "renamed.py" and new.is_latest
    assert not ln.Transform.get(transform.uid).is_latest
    # a stem of a pipeline made by hand is that pipeline's latest version, as before
    pipeline_transform = pipeline(ln)
    assert ln.track(pipeline_transform.stem_uid).transform == pipeline_transform
    ln.finish()
    result = run_python('import lamella as ln\nln.track("NoSuchStem00")\n')  # no file to make it from
    assert result.returncode != 0 and "no Transform with uid stem 'NoSuchStem00'" in result.stderr


def test_old_transform_settings_set_the_scripts_identity(ln: ModuleType, run_script: Script) -> None:
    source = """import warnings
import lamella as ln

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    ln.settings.transform.stem_uid = "OldStemUid12"
    ln.settings.transform.version = "1"
    ln.settings.transform.name = "My analysis"
print("WARNINGS", len(caught), caught[0].category.__name__)
ln.track()
ln.finish()
"""
    result = run_script("legacy.py", source)
    assert "WARNINGS 3 LegacyAPIWarning" in result.stdout
    first = ln.Transform.get(key="legacy.py")
    assert first.uid == "OldStemUid120000" and first.version == "1" and first.description == "My analysis"
    run_script("legacy.py", source)  # the same version and source: the same transform
    assert first.runs.count() == 2
    changed = source.replace("ln.finish()", "print('changed')\nln.finish()")
    failed = run_script("legacy.py", changed, check=False)  # a changed source under the same version
    assert failed.returncode != 0 and "new version" in failed.stderr
    run_script("legacy.py", changed.replace('version = "1"', 'version = "2"'))
    second = ln.Transform.get("OldStemUid12")
    assert second.uid == "OldStemUid120001" and second.version == "2" and second.runs.count() == 1


# ---- ln.settings.sync_git_repo ----------------------------------------------------------------------


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        [
            "git",
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.org",
            "-c",
            "init.defaultBranch=main",
            *args,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    """A bare repository with one commit of `analysis.py` (SCRIPT), and a clone of it in `work/`."""
    bare = tmp_path / "origin.git"
    git("init", "--quiet", "--bare", str(bare), cwd=tmp_path)
    git("clone", "--quiet", str(bare), "work", cwd=tmp_path)
    work = tmp_path / "work"
    (work / "scripts").mkdir()
    (work / "scripts" / "analysis.py").write_text(SCRIPT)
    git("add", ".", cwd=work)
    git("commit", "--quiet", "-m", "analysis", cwd=work)
    git("push", "--quiet", "origin", "HEAD:main", cwd=work)
    return bare


def run_in(folder: Path, name: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "LAMELLA_HOME": str(home), **env}
    environment.pop("LAMELLA_CACHE_DIR", None)
    return subprocess.run(
        [sys.executable, name], capture_output=True, text=True, env=environment, cwd=folder, timeout=120
    )


def test_sync_git_repo_references_the_committed_script(ln: ModuleType, origin: Path, home: Path) -> None:
    work = origin.parent / "work"
    commit = git("rev-parse", "HEAD", cwd=work)
    result = run_in(work / "scripts", "analysis.py", home, LAMELLA_SYNC_GIT_REPO=str(origin))
    assert result.returncode == 0, result.stderr
    transform = ln.Transform.get(key="analysis.py")
    base = str(origin)[: -len(".git")]
    assert transform.reference == f"{base}/blob/{commit}/scripts/analysis.py"
    assert transform.reference_type == "url"
    assert transform.source_code == SCRIPT and transform.runs.one().status == "completed"


def test_sync_git_repo_finds_the_content_in_the_repositorys_history(
    ln: ModuleType, origin: Path, home: Path, tmp_path: Path
) -> None:
    work = origin.parent / "work"
    first = git("rev-parse", "HEAD", cwd=work)
    (work / "scripts" / "analysis.py").write_text(SCRIPT.replace("hello", "hello again"))
    git("commit", "--quiet", "-am", "edit", cwd=work)
    git("push", "--quiet", "origin", "HEAD:main", cwd=work)
    elsewhere = tmp_path / "elsewhere"  # a copy outside any checkout, with the first commit's content
    elsewhere.mkdir()
    (elsewhere / "reanalysis.py").write_text(
        SCRIPT.replace("ln.track()", f"ln.settings.sync_git_repo = {str(origin)!r}\nln.track()")
    )
    (work / "scripts" / "reanalysis.py").write_text((elsewhere / "reanalysis.py").read_text())
    git("add", ".", cwd=work)
    git("commit", "--quiet", "-m", "copy", cwd=work)
    git("push", "--quiet", "origin", "HEAD:main", cwd=work)
    copy_commit = git("rev-parse", "HEAD", cwd=work)
    result = run_in(elsewhere, "reanalysis.py", home)
    assert result.returncode == 0, result.stderr
    base = str(origin)[: -len(".git")]
    assert (
        ln.Transform.get(key="reanalysis.py").reference == f"{base}/blob/{copy_commit}/scripts/reanalysis.py"
    )
    assert first != copy_commit

    # a change that is in no commit: an error before the run starts
    (elsewhere / "reanalysis.py").write_text((elsewhere / "reanalysis.py").read_text() + "# not committed\n")
    failed = run_in(elsewhere, "reanalysis.py", home)
    assert failed.returncode != 0 and "is in no commit of" in failed.stderr
    assert ln.Transform.filter(key="reanalysis.py").count() == 1  # checked before anything is written
    assert ln.Run.filter().count() == 1


def test_an_uncommitted_change_in_the_checkout_is_refused(ln: ModuleType, origin: Path, home: Path) -> None:
    work = origin.parent / "work"
    (work / "scripts" / "analysis.py").write_text(SCRIPT + "# edited\n")
    failed = run_in(work / "scripts", "analysis.py", home, LAMELLA_SYNC_GIT_REPO=str(origin))
    assert failed.returncode != 0 and "commit and push it" in failed.stderr
    assert ln.Run.filter().count() == 0
