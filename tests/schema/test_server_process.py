"""The production server's settings (gunicorn.conf.py): the master loads the application
once and freezes it right before forking; each worker collects garbage again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.processes import free_port, process_stop

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "gunicorn.conf.py"

# Runs the hooks in the order gunicorn does: read the config file, preload the
# application, then pre_fork in the master and post_fork in the worker.
PROBE = """
import gc, json, runpy, sys
config = runpy.run_path(sys.argv[1])
collects_while_loading = gc.isenabled()
from django.utils.module_loading import import_string
import_string(config["wsgi_app"].replace(":", "."))
config["pre_fork"](None, None)
from schema.schema import schema
state = {
    "preload_app": config["preload_app"],
    "collects_while_loading": collects_while_loading,
    "frozen": gc.get_freeze_count(),
    "schema_frozen": gc.is_tracked(schema) and schema not in gc.get_objects(),
}
config["post_fork"](None, None)
state["collects_in_worker"] = gc.isenabled()
print(json.dumps(state))
"""


def _environment(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "ROSTER_TESTING"}
    env.update(DJANGO_SETTINGS_MODULE="backend.settings", DEBUG="1", **extra)
    return env


def test_the_master_freezes_the_loaded_application_before_forking():
    output = subprocess.run(
        [sys.executable, "-c", PROBE, str(CONFIG)],
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    state = json.loads(output.strip().splitlines()[-1])
    assert state["preload_app"] is True
    assert not state["collects_while_loading"]
    assert state["frozen"] > 10_000
    # The schema was built before the freeze, so a worker's collector never walks it.
    assert state["schema_frozen"]
    assert state["collects_in_worker"]


def test_gunicorn_serves_the_application_with_the_config_file(tmp_path):
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-c", str(CONFIG)]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--no-control-socket"]
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        env=_environment(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.stderr.read().decode()
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/user/health/", timeout=5
                ) as response:
                    assert response.status == 200
                    assert json.load(response)["status"] == "ok"
                    assert "csrftoken=" in response.headers["Set-Cookie"]
                    break
            except urllib.error.HTTPError:
                raise
            except OSError:  # refused while the worker boots
                assert time.monotonic() < deadline, "gunicorn did not answer within 30 s"
                time.sleep(0.2)
    finally:
        process_stop(server)


def test_metrics_with_several_workers_need_their_shared_directory(tmp_path):
    """Without PROMETHEUS_MULTIPROC_DIR each scrape would answer the one worker it
    reached: the server refuses to start."""
    command = [sys.executable, "-m", "gunicorn", "-c", str(CONFIG)]
    command += ["--bind", f"127.0.0.1:{free_port()}", "--workers", "2", "--no-control-socket"]
    env = _environment(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        METRICS="1",
        METRICS_TOKEN="t" * 40,
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "METRICS=1 with several workers needs PROMETHEUS_MULTIPROC_DIR" in done.stderr
