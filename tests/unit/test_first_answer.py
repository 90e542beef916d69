"""What a fresh process does on its way to the first answer: which registries it defines, when the
garbage collector runs, and what it leaves for the exit. Each check runs in a new interpreter."""

from __future__ import annotations

import json
from typing import Any

import pytest


@pytest.fixture
def instance(run_python: Any) -> Any:
    created = run_python("import lamella as ln\nln.setup.init(storage='./data')\n")
    assert created.returncode == 0, created.stderr
    return run_python


def _last_json(result: Any) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_plain_query_defines_no_link_table(instance: Any) -> None:
    code = (
        "import json, sys, lamella as ln\n"
        "from lamella._query.relations import MODELS\n"
        "ln.Artifact.filter(key__startswith='x/').count()\n"
        "print(json.dumps(['ArtifactULabel' in MODELS, 'lamella.models.core.links' in sys.modules]))\n"
    )
    assert _last_json(instance(code)) == [False, False]


def test_following_a_to_many_relation_defines_the_link_tables(instance: Any) -> None:
    code = (
        "import json, lamella as ln\n"
        "from lamella._query.relations import MODELS\n"
        "label = ln.ULabel(name='a').save()\n"
        "artifact = ln.Artifact.from_dataframe(__import__('pandas').DataFrame({'x': [1]}), key='a.parquet').save()\n"
        "artifact.ulabels.add(label)\n"
        "print(json.dumps([ln.Artifact.filter(ulabels__name='a').count(), 'CollectionArtifact' in MODELS]))\n"
    )
    assert _last_json(instance(code)) == [1, True]


def test_every_table_is_there_for_creating_a_schema(instance: Any) -> None:
    code = (
        "import json\nfrom lamella.models import all_tables\nprint(json.dumps(sorted(all_tables().tables)))\n"
    )
    tables = _last_json(instance(code))
    assert {"artifact", "artifact_ulabel", "collection_artifact", "run_input_artifact"} <= set(tables)


def test_a_link_registry_asked_for_by_name_is_defined_then(instance: Any) -> None:
    code = (
        "import json\n"
        "import lamella.models\n"
        "from lamella._query.relations import find_model, model\n"
        "print(json.dumps([model('ArtifactULabel').__tablename__, find_model('NoSuchRegistry')]))\n"
    )
    assert _last_json(instance(code)) == ["artifact_ulabel", None]


def test_loading_the_registries_sets_off_no_garbage_collection(instance: Any) -> None:
    code = (
        "import gc, json\n"
        "import lamella as ln\n"
        "before = [s['collections'] for s in gc.get_stats()]\n"
        "ln.Artifact\n"
        "garbage = [[i] for i in range(10)]\n"  # allocations that would set off the postponed collection
        "after = [s['collections'] for s in gc.get_stats()]\n"
        "print(json.dumps([before[2] == after[2], gc.isenabled(), gc.get_freeze_count() > 10_000]))\n"
    )
    assert _last_json(instance(code)) == [True, True, True]


def test_a_disabled_collector_stays_disabled(instance: Any) -> None:
    code = "import gc, json\ngc.disable()\nimport lamella as ln\nln.Artifact\nprint(json.dumps(gc.isenabled()))\n"
    assert _last_json(instance(code)) is False


def test_the_exit_leaves_the_heap_to_the_operating_system(instance: Any) -> None:
    code = (
        "import atexit, gc, json\n"
        "import lamella as ln\n"
        "ln.Artifact.filter().count()\n"
        "young = [[i] for i in range(1000)]\n"
        "frozen_before = gc.get_freeze_count()\n"
        "atexit._run_exitfuncs()\n"
        "print(json.dumps(gc.get_freeze_count() >= frozen_before + 1000))\n"
    )
    assert _last_json(instance(code)) is True


def test_importing_lamella_registers_nothing_at_exit(instance: Any) -> None:
    code = (
        "import atexit, gc, json\n"
        "import lamella\n"
        "atexit._run_exitfuncs()\n"
        "print(json.dumps(gc.get_freeze_count()))\n"
    )
    assert _last_json(instance(code)) == 0


def test_a_thread_asking_while_the_link_tables_are_defined_waits_for_them(instance: Any) -> None:
    code = (
        "import json, threading, time\n"
        "import lamella.models\n"
        "from lamella._query import relations\n"
        "define = relations._DEFERRED.pop()\n"
        "relations._DEFERRED.append(lambda: (time.sleep(0.3), define()))  # slow: the list is empty meanwhile\n"
        "found = {}\n"
        "def ask(name):\n"
        "    found[name] = relations.model(name).__tablename__\n"
        "first = threading.Thread(target=ask, args=('ArtifactULabel',))\n"
        "first.start()\n"
        "time.sleep(0.1)\n"
        "ask('CollectionArtifact')  # while the first thread defines them\n"
        "first.join()\n"
        "print(json.dumps(found, sort_keys=True))\n"
    )
    assert _last_json(instance(code)) == {
        "ArtifactULabel": "artifact_ulabel",
        "CollectionArtifact": "collection_artifact",
    }
