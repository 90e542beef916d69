"""Secrets stay out of stored source code and params: values are replaced by "***", names are kept."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from lamella._tracking.redact import REDACTED, redact_params, redact_text
from lamella._tracking.transforms import source_hash

Script = Callable[..., subprocess.CompletedProcess[str]]

AWS_KEY = "AKIA" + "ABCDEFGHIJKLMNOP"  # "AKIA" + 16 characters, split so this file holds no key


# ---- source code -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('password = "hunter2hunter2"', 'password = "***"'),
        ("api_key = 'abc123secret'", "api_key = '***'"),
        ('API_KEY="abc123secret"', 'API_KEY="***"'),
        ('db_password = "s3cr3t-pass"', 'db_password = "***"'),
        ('AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG"', 'AWS_SECRET_ACCESS_KEY = "***"'),
        ('github_token = "abcdef123456"', 'github_token = "***"'),
        ('client_secret: "abcdef123456"', 'client_secret: "***"'),
        ('config = {"token": "abcdef123456"}', 'config = {"token": "***"}'),
        ('connect(user="me", password="hunter2hunter2")', 'connect(user="me", password="***")'),
        (
            f'session = boto3.Session(aws_access_key_id="{AWS_KEY}")',
            'session = boto3.Session(aws_access_key_id="***")',
        ),
        (f'key_id = "{AWS_KEY}"', 'key_id = "***"'),
        (f"# the key was {AWS_KEY}, rotate it", "# the key was ***, rotate it"),
        (
            'url = "postgresql://admin:pa55word@db.example.org:5432/lamella"',
            'url = "postgresql://***@db.example.org:5432/lamella"',
        ),
        ('gh = "ghp_' + "a1B2" * 9 + '"  # a GitHub token', 'gh = "***"  # a GitHub token'),
        ('headers = {"Authorization": "Bearer abcdef123456"}', 'headers = {"Authorization": "***"}'),
        ('slack = "xoxb-1234567890-abcdefghij"', 'slack = "***"'),
        ('openai = "sk-' + "A1b2" * 6 + '"', 'openai = "***"'),
    ],
)
def test_secrets_in_source_are_redacted(line: str, expected: str) -> None:
    assert redact_text(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        'password = os.environ["DB_PASSWORD"]',
        "api_key = getpass.getpass()",
        'password = ""',
        'token = "abc"',  # too short to be a secret
        'artifact = ln.Artifact.get(key="raw/batch1.csv")',
        'key = "processed/batch1.parquet"',
        'df = pd.read_csv("s3://bucket/data.csv")',
        'url = "https://example.org/path"',
        "ln.track(params={'learning_rate': 0.01})",
    ],
)
def test_ordinary_code_is_unchanged(line: str) -> None:
    assert redact_text(line) == line


def test_a_whole_script_keeps_its_shape() -> None:
    script = (
        "import lamella as ln\n\n"
        'password = "hunter2hunter2"\n'
        f'aws_key_id = "{AWS_KEY}"\n'
        "ln.track()\n"
        'print("connecting with", len(password))\n'
        "ln.finish()\n"
    )
    redacted = redact_text(script)
    assert "hunter2hunter2" not in redacted and AWS_KEY not in redacted
    assert redacted.splitlines()[2] == 'password = "***"'
    assert len(redacted.splitlines()) == len(script.splitlines())
    assert redact_text(redacted) == redacted  # idempotent
    compile(redacted, "script.py", "exec")


def test_ordinary_names_that_contain_secret_words_are_kept() -> None:
    code = 'tokenizer = "bert-base-uncased"\nauthor = "Jane Doe"\n'
    assert redact_text(code) == code


# ---- params -----------------------------------------------------------------------------------------


def test_params_with_secret_names_are_redacted() -> None:
    params = {
        "learning_rate": 0.01,
        "token": "abc123",
        "password": "hunter2hunter2",
        "API_KEY": "abc123secret",
        "database": {"host": "db.example.org", "db_password": "x" * 12},
        "urls": ["postgresql://admin:pa55word@db/lamella", "https://example.org"],
        "note": f"uses {AWS_KEY}",
        "secret": None,  # nothing to hide
    }
    assert redact_params(params) == {
        "learning_rate": 0.01,
        "token": REDACTED,
        "password": REDACTED,
        "API_KEY": REDACTED,
        "database": {"host": "db.example.org", "db_password": REDACTED},
        "urls": ["postgresql://***@db/lamella", "https://example.org"],
        "note": "uses ***",
        "secret": None,
    }
    assert params["token"] == "abc123"  # the caller's dict is not modified


def test_params_keep_numbers_and_booleans_under_secret_looking_names() -> None:
    params = {"max_tokens": 512, "n_passes": 3, "use_auth": True, "learning_rate": 0.01}
    assert redact_params(params) == params


def test_params_of_other_shapes() -> None:
    assert redact_params(None) is None
    assert redact_params([{"token": "abcdef"}, 3]) == [{"token": REDACTED}, 3]
    assert redact_params(f"{AWS_KEY}") == REDACTED
    assert redact_params(0.5) == 0.5


# ---- where redaction applies ------------------------------------------------------------------------


def test_a_script_with_secrets_is_stored_redacted(ln: ModuleType, run_script: Script) -> None:
    source = (
        "import lamella as ln\n\n"
        'password = "hunter2hunter2"\n'
        'api_key = "abc123secret"\n'
        f'aws_access_key_id = "{AWS_KEY}"\n'
        f'other_key_id = "{AWS_KEY}"\n'
        'ln.track(params={"token": "abcdef123456", "batch_size": 32})\n'
        'print("password length", len(password))\n'
        "ln.finish()\n"
    )
    result = run_script("secrets.py", source)
    assert "password length 14" in result.stdout  # the script itself ran with the real value
    transform = ln.Transform.get(key="secrets.py")
    stored = transform.source_code
    for secret in ("hunter2hunter2", "abc123secret", AWS_KEY, "abcdef123456"):
        assert secret not in stored, secret
    assert 'password = "***"' in stored and 'api_key = "***"' in stored
    assert 'other_key_id = "***"' in stored
    assert transform.hash == source_hash(stored)
    run = transform.runs.one()
    assert run.params == {"token": REDACTED, "batch_size": 32}
    assert ln.Run.filter(params__batch_size=32).one() == run


def test_track_params_are_redacted(ln: ModuleType) -> None:
    run = ln.track(
        ln.Transform(key="My pipeline", kind="pipeline"),
        params={"access_token": "abcdef123456", "password": "hunter2hunter2", "epochs": 3},
    )
    ln.finish()
    assert ln.Run.get(run.uid).params == {"access_token": REDACTED, "password": REDACTED, "epochs": 3}


def test_tracked_function_params_are_redacted(ln: ModuleType) -> None:
    @ln.tracked()
    def connect(host: str, password: str, **options: str) -> None:
        pass

    connect("db.example.org", "hunter2hunter2", api_key="abc123secret", region="eu")
    run = ln.Run.filter(transform__kind="function").one()
    assert run.params == {"host": "db.example.org", "password": REDACTED, "api_key": REDACTED, "region": "eu"}


def test_lamella_save_redacts(ln: ModuleType, tmp_path: Path) -> None:
    from lamella._tracking.transfer import save_source

    path = tmp_path / "upload.py"
    path.write_text(f'import boto3\nclient = boto3.client("s3", aws_access_key_id="{AWS_KEY}")\n')
    transform = save_source(path)
    assert AWS_KEY not in transform.source_code
    assert 'aws_access_key_id="***"' in ln.Transform.get(key="upload.py").source_code
