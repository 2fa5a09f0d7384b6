#!/usr/bin/env python3
"""Set up Roster on a fresh machine and run it, or its tests.

    python3 dev.py serve      # venv + deps + translations + migrate + groups + dev users + server and task
                              # worker (SQLite, GraphiQL, emails on the console)
    python3 dev.py test [ARGS] # venv + deps + translations + pytest (ARGS go to pytest)

Only Python 3.11+ is needed; everything else is installed into ./.venv from PyPI.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("ROSTER_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".roster-installed"


def run(*args: str | os.PathLike, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True, env=env)


def ensure_environment() -> None:
    if sys.version_info < (3, 11):
        sys.exit("Roster needs Python 3.11 or newer.")
    if not PYTHON.exists():
        print(f"Creating virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print("Installing dependencies")
    run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PYTHON, "-m", "pip", "install", "--quiet", "-e", ".[dev]")
    STAMP.write_text(wanted)


def serve(extra: list[str]) -> None:
    env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "1")}
    manage = [PYTHON, "manage.py"]
    run(*manage, "migrate", "--no-input", env=env)
    run(*manage, "setupgroups", env=env)
    run(*manage, "setupdevusers", env=env)
    address = extra[0] if extra else "127.0.0.1:8000"
    print(f"GraphiQL: http://{address}/api/user/graphql/  (user@example.com / string)")
    # The task worker runs beside the server: emails are sent (printed on this console)
    # by it. Its own session, so it is stopped here, with its reloader, and only here.
    # A SIGTERM (not only Ctrl+C) stops the server and the worker too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    worker = subprocess.Popen(
        [str(PYTHON), "manage.py", "db_worker"], cwd=ROOT, env=env, start_new_session=True
    )
    try:
        subprocess.run([str(PYTHON), "manage.py", "runserver", address], cwd=ROOT, env=env)
    except KeyboardInterrupt:
        pass
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)


def test(extra: list[str]) -> None:
    os.chdir(ROOT)
    # The whole suite runs on both cores by default; any argument goes to pytest as is.
    args = extra or ["-n", "auto"]
    os.execv(PYTHON, [str(PYTHON), "-m", "pytest", *args])


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in {"serve", "test"}:
        sys.exit(__doc__)
    ensure_environment()
    # The translation catalogs are compiled here (with Babel, no GNU gettext needed).
    run(PYTHON, "-m", "backend.translations")
    {"serve": serve, "test": test}[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
