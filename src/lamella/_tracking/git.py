"""`ln.settings.sync_git_repo`: a script's source as a file at a commit of a git repository.

`ln.track()` records `<repo>/blob/<commit>/<path>` as the transform's reference. The commit is:
1. the script checkout's `HEAD`, when the script lies in a clone of that repository (one of its
   remotes is the URL) and is committed there unchanged; no network access;
2. else the newest commit of the repository (a bare clone in the cache, fetched again on each
   use) that added or changed a file to the script's exact content, found by its git blob id.

Neither: `DoesNotExist`, before the run starts (commit and push the script, or unset the setting).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from lamella._logging import logger
from lamella._setup.settings import settings
from lamella.errors import DoesNotExist, InvalidArgument, StorageError

_TIMEOUT_SECONDS = 300


def blob_id(content: bytes) -> str:
    """The id git gives a file with these bytes (`git hash-object`)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def web_base(url: str) -> str:
    """The repository URL that file URLs extend: no trailing slash, no `.git`."""
    url = url.rstrip("/")
    return url[: -len(".git")] if url.endswith(".git") else url


def _same_repository(a: str, b: str) -> bool:
    def normal(url: str) -> str:
        url = web_base(url.strip())
        if url.startswith("git@") and ":" in url:  # git@github.com:org/repo -> github.com/org/repo
            url = url[len("git@") :].replace(":", "/", 1)
        for prefix in ("https://", "http://", "ssh://git@", "ssh://", "git://", "file://"):
            if url.startswith(prefix):
                url = url[len(prefix) :]
                break
        if url.startswith("/") or url.startswith("."):
            url = os.path.realpath(url)
        return url.lower()

    return normal(a) == normal(b)


def _git(*args: str, cwd: Path | None = None) -> str:
    """Run git; its output, or StorageError with what git said."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_SECONDS,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
    except FileNotFoundError as e:
        raise StorageError("ln.settings.sync_git_repo needs the git command; install git") from e
    except subprocess.TimeoutExpired as e:
        raise StorageError(f"git {' '.join(args[:2])} took longer than {_TIMEOUT_SECONDS} s") from e
    if done.returncode != 0:
        raise StorageError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def _from_checkout(script: Path, repo_url: str, blob: str) -> str | None:
    """`<commit>/<path>` when the script is committed unchanged at HEAD of a clone of `repo_url`."""
    try:
        root = Path(_git("rev-parse", "--show-toplevel", cwd=script.parent).strip())
        remotes = _git("remote", "-v", cwd=root).split()
        if not any(_same_repository(remote, repo_url) for remote in remotes[1::3]):
            return None
        path = script.resolve().relative_to(root.resolve()).as_posix()
        committed = _git("rev-parse", f"HEAD:{path}", cwd=root).strip()
        commit = _git("rev-parse", "HEAD", cwd=root).strip()
    except (StorageError, ValueError):
        return None  # not in a checkout, no HEAD yet, or not committed
    return f"{commit}/{path}" if committed == blob else None


def _mirror(repo_url: str) -> Path:
    """A bare clone of the repository in the cache, fetched now."""
    folder = settings.cache_dir / "git" / hashlib.md5(repo_url.encode()).hexdigest()[:16]
    if (folder / "HEAD").exists():
        _git(
            "fetch",
            "--quiet",
            "--force",
            repo_url,
            "+refs/heads/*:refs/heads/*",
            "+refs/tags/*:refs/tags/*",
            cwd=folder,
        )
    else:
        folder.parent.mkdir(parents=True, exist_ok=True)
        logger.info(f"cloning {repo_url} to find the script's commit (ln.settings.sync_git_repo)")
        _git("clone", "--quiet", "--bare", "--filter=blob:none", repo_url, str(folder))
    return folder


def _from_history(repo_url: str, blob: str) -> str | None:
    """`<commit>/<path>` of the newest commit that made a file the blob `blob`."""
    log = _git(
        "log",
        "--all",
        "--format=commit %H",
        "--raw",
        "--no-abbrev",
        f"--find-object={blob}",
        cwd=_mirror(repo_url),
    )
    commit = None
    for line in log.splitlines():
        if line.startswith("commit "):
            commit = line.split()[1]
        elif line.startswith(":") and commit is not None:
            meta, _, path = line.partition("\t")
            fields = meta.split()
            if len(fields) >= 5 and fields[3] == blob and not fields[4].startswith("D"):
                return f"{commit}/{path.split(chr(9))[-1]}"
    return None


def script_reference(script: Path, repo_url: str) -> str:
    """The URL of the script's exact content in `repo_url`: `<repo>/blob/<commit>/<path>`."""
    if not script.is_file():
        raise InvalidArgument(f"ln.settings.sync_git_repo: cannot read the script {script}")
    blob = blob_id(script.read_bytes())
    found = _from_checkout(script, repo_url, blob) or _from_history(repo_url, blob)
    if found is None:
        raise DoesNotExist(
            f"the current content of {script.name} is in no commit of {repo_url} "
            f"(ln.settings.sync_git_repo): commit and push it, or set ln.settings.sync_git_repo = None"
        )
    return f"{web_base(repo_url)}/blob/{found}"
