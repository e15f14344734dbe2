"""``bash scripts/demo`` installs only when pyproject.toml changed: a restart takes seconds.

Runs the real script in a copy of the tree whose ``python3`` and ``.venv`` are stand-ins
that record what they were asked to do (no server starts, nothing is installed)."""
import hashlib
import shutil
import subprocess

from scheduler.config import ROOT

RECORDER = '#!/bin/sh\necho "$(basename "$0") $*" >> "$CALLS"\n'


def tree(tmp_path):
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "demo", tmp_path / "scripts" / "demo")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for path in (tmp_path / "bin" / "python3", tmp_path / ".venv" / "bin" / "python",
                 tmp_path / ".venv" / "bin" / "flask"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(RECORDER)
        path.chmod(0o755)
    return tmp_path


def run(root):
    calls = root / "calls"
    calls.write_text("")
    env = {"PATH": f"{root / 'bin'}:/usr/bin:/bin", "CALLS": str(calls)}
    subprocess.run(["bash", str(root / "scripts" / "demo"), "--port", "8080"], env=env, check=True, timeout=60)
    return calls.read_text().splitlines()


def test_an_unchanged_pyproject_skips_the_installation(tmp_path):
    root = tree(tmp_path)
    digest = hashlib.sha256((root / "pyproject.toml").read_bytes()).hexdigest()
    (root / ".venv" / ".installed-pyproject").write_text(digest + "\n")
    assert run(root) == ["flask --app wsgi demo --port 8080"]


def test_a_changed_pyproject_installs_again_and_remembers_it(tmp_path):
    root = tree(tmp_path)
    (root / ".venv" / ".installed-pyproject").write_text("an older hash\n")
    calls = run(root)
    assert calls[0] == "python3 -m venv .venv"
    assert calls[1].startswith("python -m pip install") and calls[-1] == "flask --app wsgi demo --port 8080"
    assert run(root) == ["flask --app wsgi demo --port 8080"]
