"""Secrets stay out of stored source code, params and run reports: values are replaced by "***",
names are kept."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from lamella._tracking.redact import REDACTED, is_secret_name, redact_params, redact_source, redact_text
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
    assert redact_source(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        'password = os.environ["DB_PASSWORD"]',
        "api_key = getpass.getpass()",
        'password = ""',
        'artifact = ln.Artifact.get(key="raw/batch1.csv")',
        'key = "processed/batch1.parquet"',
        'df = pd.read_csv("s3://bucket/data.csv")',
        'url = "https://example.org/path"',
        "ln.track(params={'learning_rate': 0.01})",
    ],
)
def test_ordinary_code_is_unchanged(line: str) -> None:
    assert redact_source(line) == line


def test_a_whole_script_keeps_its_shape() -> None:
    script = (
        "import lamella as ln\n\n"
        'password = "hunter2hunter2"\n'
        f'aws_key_id = "{AWS_KEY}"\n'
        "ln.track()\n"
        'print("connecting with", len(password))\n'
        "ln.finish()\n"
    )
    redacted = redact_source(script)
    assert "hunter2hunter2" not in redacted and AWS_KEY not in redacted
    assert redacted.splitlines()[2] == 'password = "***"'
    assert len(redacted.splitlines()) == len(script.splitlines())
    assert redact_source(redacted) == redacted  # idempotent
    compile(redacted, "script.py", "exec")


def test_ordinary_names_that_contain_secret_words_are_kept() -> None:
    code = 'tokenizer = "bert-base-uncased"\nauthor = "Jane Doe"\n'
    assert redact_source(code) == code


PEM_BODY = "MIIEowIBAAKCAQEAq7VxPemBodyLine1xyz0123456789abcdefABCDEF"
PEM = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\nK7vqPemBodyLine2ZZZ0123456789\n-----END RSA PRIVATE KEY-----"

# each case plants one secret value in one of the forms the issue found stored
PLANTED = {
    "annotated": ('DB_PASSWORD: str = "k7Vq01annot"', "k7Vq01annot"),
    "annotated optional": ("api_token: Optional[str] = 'k7Vq02opt'", "k7Vq02opt"),
    "triple-quoted": ('password = """k7Vq03triple"""', "k7Vq03triple"),
    "triple-quoted multi-line": ("token = '''\nk7Vq04multi\n'''", "k7Vq04multi"),
    "f-string": ('token = f"k7Vq05fstr{suffix}"', "k7Vq05fstr"),
    "quote inside": ('api_key = "k7Vq06\'quote"', "k7Vq06"),
    "escaped quote inside": ("password = 'k7Vq07\\'esc'", "k7Vq07"),
    "os.environ subscript": ('os.environ["SERVICE_TOKEN"] = "k7Vq08environ"', "k7Vq08environ"),
    "PGPASSWORD": ('PGPASSWORD = "k7Vq09pg"', "k7Vq09pg"),
    "db_pw": ('db_pw = "k7Vq10dbpw"', "k7Vq10dbpw"),
    "PEM block": (f'pem = """{PEM}"""', PEM_BODY),
    "PEM block, escaped newlines": ("pem = " + repr(PEM), PEM_BODY),
    "concatenation": ('password = "k7Vq11a" + "k7Vq11b"', "k7Vq11b"),
    "implicit multi-line concatenation": ('token = (\n    "k7Vq12a"\n    "k7Vq12b"\n)', "k7Vq12b"),
    "keyword argument": (
        'db = connect(host="db.example.org", password="k7Vq13kwarg", port=5432)',
        "k7Vq13kwarg",
    ),
    "dict literal": ('config = {"api_key": "k7Vq14dict", "host": "db.example.org"}', "k7Vq14dict"),
    "nested subscript": ('config["db"]["db_password"] = "k7Vq15sub"', "k7Vq15sub"),
    "augmented": ('token += "k7Vq16aug"', "k7Vq16aug"),
    "number": ("secret = 918273645", "918273645"),
    "walrus": ('if (token := "k7Vq17walrus"):\n    pass', "k7Vq17walrus"),
    "default of an annotated parameter": (
        'def connect(host: str, password: str = "k7Vq18default") -> None:\n    pass',
        "k7Vq18default",
    ),
    "getenv default": ('pw = os.getenv("DB_PASSWORD", "k7Vq19fallback")', "k7Vq19fallback"),
    "setdefault": ('os.environ.setdefault("HF_TOKEN", "k7Vq20setdefault")', "k7Vq20setdefault"),
    "camelCase": ('clientSecret = "k7Vq21camel"', "k7Vq21camel"),
    "DSN password": ('dsn = "host=db user=me password=k7Vq22dsn dbname=x"', "k7Vq22dsn"),
    "ODBC PWD": ('conn_str = "Driver={x};Server=db;UID=me;PWD=k7Vq23odbc;"', "k7Vq23odbc"),
    "URL password": ('url = "postgresql://admin:k7Vq24url@db.example.org/lamella"', "k7Vq24url"),
    "tuple under a secret name": ('credentials = ("admin", "k7Vq25tuple")', "k7Vq25tuple"),
    "multi-line list under a secret name": ('secrets = [\n    "k7Vq26list",\n]', "k7Vq26list"),
    "comment": ("# token: k7Vq27comment", "k7Vq27comment"),
    "bytes": ('secret_key = b"k7Vq28bytes"', "k7Vq28bytes"),
    "raw string": ('apikey = r"k7Vq29raw"', "k7Vq29raw"),
    "attribute": ('self.access_token = "k7Vq30attr"', "k7Vq30attr"),
    "bearer header": ('headers = {"Authorization": "Bearer k7Vq31bearer"}', "k7Vq31bearer"),
    "environment update": ('os.environ.update(MYSQL_PWD="k7Vq32mysql")', "k7Vq32mysql"),
    "passphrase": ('passphrase = "k7Vq33phrase"', "k7Vq33phrase"),
    "AWS key under any name": (f'key_id = "{AWS_KEY}"', AWS_KEY),
    "negative number": ("pin_secret = -4242", "4242"),
}


@pytest.mark.parametrize(("code", "secret"), PLANTED.values(), ids=PLANTED.keys())
def test_planted_secrets_are_redacted_from_source(code: str, secret: str) -> None:
    redacted = redact_source(code)
    assert secret not in redacted, redacted
    assert REDACTED in redacted
    compile(redacted, "script.py", "exec")  # still Python, names kept
    assert redact_source(redacted) == redacted


def test_planted_secrets_are_redacted_from_one_script() -> None:
    script = "import os\n\n" + "\n".join(code for code, _ in PLANTED.values()) + "\nprint(token)\n"
    redacted = redact_source(script)
    for name, (_, secret) in PLANTED.items():
        assert secret not in redacted, name
    assert 'DB_PASSWORD: str = "***"' in redacted
    assert 'os.environ["SERVICE_TOKEN"] = "***"' in redacted
    assert 'password = "***" + "***"' in redacted
    assert 'config = {"api_key": "***", "host": "db.example.org"}' in redacted
    assert 'connect(host="db.example.org", password="***", port=5432)' in redacted
    assert 'pw = os.getenv("DB_PASSWORD", "***")' in redacted
    assert 'secret = "***"' in redacted
    assert "-----BEGIN RSA PRIVATE KEY-----\n***\n-----END RSA PRIVATE KEY-----" in redacted
    compile(redacted, "script.py", "exec")


NOT_SECRETS = [
    'tokenizer = "bert-base-uncased"',
    "max_tokens = 5",
    "n_tokens = 10",
    'author = "Jane Doe"',
    'keyword = "apoptosis"',
    "password_length = 16",
    'token_type = "bearer"',
    'pad_token = "<pad>"',
    "eos_token_id = 2",
    'tokens = ["ACGT", "TTGA"]',
    'secret_name = "prod/database"',
    'auth_method = "oauth"',
    'private_key_path = "~/.ssh/id_ed25519"',
    'pw_genes = ["TP53", "BRCA1"]',  # pw: pathway
    "pwd = os.getcwd()",
    "use_auth = True",
    "token = None",
    "first_token = tokens[0]",
    "token = tokens[0]",
    'password = os.getenv("DB_PASSWORD")',
    'password = config["db"]["password"]',
    'parser.add_argument("--password", help="the database password")',
    'print("password length", len(password))',
    'if password:\n    status = "connected"',
    "for token in tokens:\n    counts[token] += 1",
    'if token == expected:\n    print("ok")',
    'def connect(password: str, retries: int = 3, host: str = "db.example.org") -> None:\n    pass',
    'login(user="me", password=password, timeout=30)',
    'artifact = ln.Artifact("s3://bucket/raw.csv", key="raw/batch1.csv").save()',
]


@pytest.mark.parametrize("code", NOT_SECRETS)
def test_non_secrets_are_untouched(code: str) -> None:
    assert redact_source(code) == code


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        *[
            (n, True)
            for n in ("PGPASSWORD", "db_pw", "pw", "passphrase", "SERVICE_TOKEN", "apikey", "APIKey")
        ],
        *[(n, True) for n in ("private_key", "secret_access_key", "session_token", "MYSQL_PWD", "db_pwd")],
        *[(n, True) for n in ("x-api-key", "clientSecret", "password2", "GITHUBTOKEN", "aws_access_key_id")],
        *[
            (n, False)
            for n in ("tokenizer", "author", "max_tokens", "n_tokens", "keyword", "password_length")
        ],
        *[(n, False) for n in ("pwd", "PWD", "pad_token", "token_type", "pw_genes", "dsn", "key", "passes")],
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_a_notebook_cell_that_does_not_tokenize_is_still_redacted() -> None:
    notebook = (
        "# %%\n"
        "%env PGPASSWORD=k7Vq40magic\n"
        "!pip install psycopg\n"
        'password = "k7Vq41cell"\n\n'
        "# %%\n"
        'token: str = "k7Vq42other"\n'
        'os.environ["SERVICE_TOKEN"] = "k7Vq43env"\n'
        'x = connect("host=db password=k7Vq44dsn")\n'
        'tokenizer = "bert"\n\n'
        "# %%\n"
        "obj?\n"
        'api_key: str = "k7Vq45" + "k7Vq46"\n'
    )
    redacted = redact_source(notebook)
    for secret in ("k7Vq40magic", "k7Vq41cell", "k7Vq42other", "k7Vq43env", "k7Vq44dsn", "k7Vq45", "k7Vq46"):
        assert secret not in redacted, secret
    assert 'tokenizer = "bert"' in redacted
    assert 'api_key: str = "***" + "***"' in redacted
    assert len(redacted.splitlines()) == len(notebook.splitlines())


# ---- free text: reports ------------------------------------------------------------------------------

REPORT = f"""connecting with password=k7Vq50printed
token: k7Vq51printed
config {{'api_key': 'k7Vq52repr', 'token': 918273645, 'credentials': ['admin', 'k7Vq53list']}}
Authorization: Bearer k7Vq54bearer
export PGPASSWORD='k7Vq55export'
using {AWS_KEY} and postgresql://admin:k7Vq56url@db/lamella
dsn: host=db user=me password=k7Vq57dsn
{PEM}
Traceback (most recent call last):
  File "/tmp/run/secrets.py", line 12, in <module>
    db = connect(host="db.example.org", password="k7Vq58traceback")
  File "/tmp/run/secrets.py", line 4, in connect
    os.environ["SERVICE_TOKEN"] = "k7Vq59traceback"
    ^^^^^^^^^^^^^^^^^^^^^^^^^^^
RuntimeError: could not connect
"""


def test_secrets_in_a_report_are_redacted() -> None:
    redacted = redact_text(REPORT)
    for secret in [f"k7Vq5{i}" for i in range(10)] + ["918273645", AWS_KEY, PEM_BODY]:
        assert secret not in redacted, secret
    assert "connecting with password=***" in redacted
    assert 'db = connect(host="db.example.org", password="***")' in redacted
    assert "RuntimeError: could not connect" in redacted
    assert redact_text(redacted) == redacted


def test_ordinary_report_lines_are_kept() -> None:
    report = (
        "normalized 3 rows\n"
        "max_tokens: 512, tokenizer: bert-base-uncased\n"
        "password = os.environ['DB_PASSWORD']\n"
        "token: None\n"
        "learning_rate=0.01 batch_size=32\n"
        '  File "/tmp/run/secrets.py", line 4, in connect\n'
    )
    assert redact_text(report) == report


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


def test_params_hide_any_value_under_a_secret_name() -> None:
    params = {
        "token": 918273645,
        "credentials": ["admin", "k7Vq60"],
        "aws": {"secret_access_key": {"value": "k7Vq61"}, "region": "eu-central-1"},
        "PGPASSWORD": 3.5,
        "dsn": "host=db user=me password=k7Vq62 dbname=lamella",
        "jdbc": "jdbc:sqlserver://db;user=me;password=k7Vq63;",
        "steps": [{"name": "load", "api_key": ["k7Vq64"]}],
        "note": "token: k7Vq65",
        "use_auth": True,
        "max_tokens": 512,
    }
    assert redact_params(params) == {
        "token": REDACTED,
        "credentials": REDACTED,
        "aws": {"secret_access_key": REDACTED, "region": "eu-central-1"},
        "PGPASSWORD": REDACTED,
        "dsn": "host=db user=me password=*** dbname=lamella",
        "jdbc": "jdbc:sqlserver://db;user=me;password=***;",
        "steps": [{"name": "load", "api_key": REDACTED}],
        "note": "token: ***",
        "use_auth": True,
        "max_tokens": 512,
    }


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


def test_a_crashing_script_keeps_its_secrets_out_of_source_params_and_report(
    ln: ModuleType, run_script: Script
) -> None:
    source = (
        "import os\n"
        "import lamella as ln\n\n"
        'DB_PASSWORD: str = "k7Vq70annot"\n'
        'os.environ["SERVICE_TOKEN"] = "k7Vq71environ"\n'
        'settings = {"api_key": "k7Vq72dict", "host": "db.example.org"}\n'
        "ln.track(params={\n"
        '    "token": 918273645,\n'
        '    "credentials": ["admin", "k7Vq73param"],\n'
        '    "dsn": "host=db user=me password=k7Vq74dsn",\n'
        '    "batch_size": 32,\n'
        "})\n\n\n"
        "def connect(host: str, password: str) -> None:\n"
        '    raise RuntimeError(f"could not connect to {host}")\n\n\n'
        'print(f"connecting with password={DB_PASSWORD}")\n'
        'print("token:", os.environ["SERVICE_TOKEN"])\n'
        'connect(host="db.example.org", password="k7Vq75traceback")\n'
    )
    secrets = ["k7Vq70annot", "k7Vq71environ", "k7Vq72dict", "k7Vq73param", "k7Vq74dsn", "k7Vq75traceback"]
    result = run_script("crashing.py", source, check=False)
    assert result.returncode != 0
    printed = result.stdout + result.stderr  # the script itself ran, printed and crashed with the real values
    assert "password=k7Vq70annot" in printed and 'password="k7Vq75traceback"' in printed

    transform = ln.Transform.get(key="crashing.py")
    run = transform.runs.one()
    report = Path(str(run.report.cache())).read_text()
    stored = {"source": transform.source_code, "params": repr(run.params), "report": report}
    for where, text in stored.items():
        for secret in [*secrets, "918273645"]:
            assert secret not in text, (where, secret)
    assert run.status == "errored"
    assert run.params["batch_size"] == 32 and run.params["token"] == REDACTED
    assert 'DB_PASSWORD: str = "***"' in transform.source_code
    assert "connecting with password=***" in report
    assert 'connect(host="db.example.org", password="***")' in report
    assert "RuntimeError: could not connect to db.example.org" in report


def test_a_notebook_report_is_made_from_redacted_cells_and_outputs(tmp_path: Path) -> None:
    from lamella._tracking.notebook import html_report, redacted_notebook

    notebook = {
        "cells": [
            {
                "id": "a1b2c3d4",
                "cell_type": "code",
                "metadata": {},
                "execution_count": 1,
                "source": ['api_key = "k7Vq80cell"\n', 'print(f"token={api_key}")'],
                "outputs": [
                    {"output_type": "stream", "name": "stdout", "text": ["token=k7Vq81printed\n"]},
                    {
                        "output_type": "error",
                        "ename": "RuntimeError",
                        "evalue": "boom",
                        # IPython colours the quoted line
                        "traceback": [
                            '\x1b[0;32m----> 1\x1b[0m password \x1b[38;5;241m=\x1b[39m \x1b[38;5;124m"k7Vq82tb"\x1b[39m'
                        ],
                    },
                ],
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    redacted = redacted_notebook(notebook)
    assert "k7Vq8" not in repr(redacted)
    assert "k7Vq80cell" in repr(notebook)  # the caller's notebook is not modified
    path = tmp_path / "analysis.ipynb"
    path.write_text(json.dumps(notebook))
    html = html_report(path, tmp_path / "report.html")
    assert html is not None and "k7Vq8" not in html.read_text()
