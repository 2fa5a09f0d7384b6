"""A production server (gunicorn, two workers) as an operator runs it with LOG_FORMAT=json,
METRICS=1 and PROMETHEUS_MULTIPROC_DIR: every line it writes is JSON and holds no secret,
a scrape adds up both workers, and readiness follows the database going away and back."""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from tests.processes import (
    Browser,
    free_port,
    gunicorn_start,
    http_server_environment,
    process_stop,
    production_user,
    wait_until_up,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

TOKEN = secrets.token_urlsafe(32)
LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) { __typename ... on OperationInfo { messages { code } } }
}
"""


class TcpProxy:
    """127.0.0.1:port forwarded to the database, which the test can take away (every
    connection cut, new ones refused) and give back on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.connections: list[socket.socket] = []
        self.listener: socket.socket | None = None
        self.start()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        with contextlib.suppress(OSError):  # wakes the thread blocked in accept()
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for sock in self.connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def server(django_db_blocker, tmp_path):
    conf = connection.settings_dict
    proxy = TcpProxy((conf.get("HOST") or "127.0.0.1", int(conf.get("PORT") or 5432)))
    metrics_directory = tmp_path / "metrics"
    metrics_directory.mkdir()
    (metrics_directory / "counter_1.db").write_bytes(b"")  # a previous run's: removed
    env = http_server_environment(
        DATABASE_URL=f"postgres://{conf.get('USER') or 'postgres'}@127.0.0.1:{proxy.port}/"
        f"{conf['NAME']}",
        LOG_FORMAT="json",
        METRICS="1",
        METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_directory),
    )
    port = free_port()
    log = (tmp_path / "server.log").open("w+")
    process = gunicorn_start(env, port, workers=2, output=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        assert not (metrics_directory / "counter_1.db").exists()
        yield url, proxy, process, log
    finally:
        process_stop(process)
        proxy.stop()
        log.close()
        with django_db_blocker.unblock():
            connection.close()


def get(url: str, **headers) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_json_logs_metrics_of_both_workers_and_readiness(server):
    url, proxy, process, log = server
    user = production_user("ops@example.com")
    wrong = "not-the-Password-77"

    def login(password: str) -> str:
        result = Browser().graphql(
            url, LOGIN, {"input": {"email": user.email, "password": password}}
        )
        return result["data"]["login"]["__typename"]

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(login, [wrong] * 8))
    assert answers == ["OperationInfo"] * 8

    # A query string (an OAuth code, a token) is in no line: gunicorn's access log, which
    # would print the request line whole, stays off.
    assert get(f"{url}/api/user/health/?code=query-string-secret")[0] == 200

    # The scrape adds up both workers, whichever served each request.
    assert get(f"{url}/api/user/metrics/")[0] == 401
    status, body = get(f"{url}/api/user/metrics/", Authorization=f"Bearer {TOKEN}")
    assert status == 200
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }
    count = "roster_graphql_operation_duration_seconds_count"
    assert samples[(count, (("operation", "login"), ("type", "mutation")))] == 8
    assert samples[("roster_errors_total", (("code", "INVALID_CREDENTIALS"),))] == 8
    assert samples[("roster_logins_total", (("result", "failed"),))] == 8

    # Readiness: the database goes away (503), then comes back (200).
    assert get(f"{url}/api/user/ready/")[0] == 200
    proxy.stop()
    status, body = get(f"{url}/api/user/ready/")
    assert status == 503 and json.loads(body)["database"] is False
    # A scrape still answers, without what it reads from the database.
    status, body = get(f"{url}/api/user/metrics/", Authorization=f"Bearer {TOKEN}")
    assert status == 200 and "roster_graphql_operation_duration_seconds" in body.decode()
    assert "roster_emails{" not in body.decode()
    proxy.start()
    deadline = time.monotonic() + 10
    while (status := get(f"{url}/api/user/ready/")[0]) != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status == 200
    status, body = get(f"{url}/api/user/metrics/", Authorization=f"Bearer {TOKEN}")
    assert 'roster_backend_errors_total{backend="database"}' in body.decode()

    process_stop(process)
    log.seek(0)
    output = log.read()
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    requests = [line for line in lines if line["logger"] == "roster.request"]
    logins = [line for line in requests if line.get("operation_name") == "Login"]
    assert len(logins) == 8 and all(
        line["error_codes"] == ["INVALID_CREDENTIALS"] for line in logins
    )
    assert any(line["logger"] == "gunicorn.error" for line in lines)  # gunicorn's, as JSON
    for secret in (wrong, user.email, TOKEN, "query-string-secret"):
        assert secret not in output
