"""Two web nodes behind a real nginx, on one PostgreSQL and one Redis (README, "Several machines").

Everything is started from the shipped files: deploy/nginx/portal.conf, the systemd units'
ExecStart with an environment file made from deploy/env/*.env (tests/systemd.py). The portal must
behave as one whichever node answers: the nginx log names the node of every request, and each
step below is sent until it lands on the node it names.

PostgreSQL always, whatever DATABASE_URL says: the test makes its own database on the server at
NODES_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/postgres) and drops it; its Redis keys have
a prefix of their own, removed at the end, so parallel runs never meet.
"""

import collections
import functools
import os
import re
import secrets
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import redis
import requests
from werkzeug import Request, Response

from management_api.alerts import data_alert_payload
from portal.credentials import new_credential
from tests.instances import accepts_connections
from tests.nginx import Proxy, client_from, nginx_in_front
from tests.ports import free_port
from tests.shared_redis import REDIS, own_cache_prefix
from tests.systemd import ENV_EXAMPLES, ROOT, UNITS, read_environment_file, service, stop, write_environment_file
from tests.workers import wait_for

SERVER = os.environ.get("NODES_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
WEB_UNIT = UNITS / "webhooks-portal-web.service"
WORKER_UNIT = UNITS / "webhooks-portal-worker@.service"
API = "/autoql/management/api/v1/notifications"
PASSWORD = "correct-horse-battery-1"


@dataclass
class Portal:
    proxy: Proxy
    nodes: list[int]
    processes: dict[int, subprocess.Popen]
    database_url: str
    cache: redis.Redis
    prefix: str
    credentials: dict[str, str]

    def api(self, session: requests.Session, method: str, path: str, body: dict | None = None) -> requests.Response:
        return session.request(
            method,
            f"{self.proxy.url}{API}{path}",
            params={"key": self.credentials["AUTOQL_SANDBOX_API_KEY"]},
            headers={"Authorization": f"Bearer {self.credentials['AUTOQL_TOKEN']}"},
            json=body,
            timeout=30,
        )

    def sql(self, query: str) -> list[tuple]:
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            return connection.execute(query).fetchall()


@contextmanager
def own_database() -> Iterator[str]:
    name = f"nodes_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(SERVER, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield re.sub(r"/[^/]*$", f"/{name}", SERVER)
    finally:
        with psycopg.connect(SERVER, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def two_nodes_behind_nginx(folder: Path, receiver: Callable[[Request], Response], httpserver, **node_settings: str):
    """README, "Several machines", on this machine: a database, migrate, the web units on two
    ports, a worker unit, nginx in front of both; yields the Portal."""
    credentials = {name: new_credential(name) for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS")}
    credentials |= {name: secrets.token_urlsafe(24) for name in ("AUTOQL_SANDBOX_API_KEY", "AUTOQL_PRODUCTION_API_KEY")}
    credentials["AUTOQL_TOKEN"] = secrets.token_urlsafe(24)
    httpserver.expect_request("/hook", method="POST").respond_with_handler(receiver)
    with ExitStack() as stack:
        database_url = stack.enter_context(own_database())
        cache, prefix = stack.enter_context(own_cache_prefix("nodes-test"))
        shared = {
            **credentials,
            "DATABASE_URL": database_url,
            # Receivers on 127.0.0.1 (the URL is checked when saved, and when connected to).
            "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
            "LOG_LEVEL": "WARNING",
        }
        ports = [free_port(), free_port()]
        web_env = {
            **shared,
            "CACHE_URL": f"{REDIS}?key_prefix={prefix}",
            "ALLOWED_HOSTS": "127.0.0.1",
            "BEHIND_TLS_PROXY": "true",
            "TRUSTED_PROXIES": "127.0.0.1/32",
            "PORTAL_URL": "https://127.0.0.1",
            "WEB_CONCURRENCY": "1",
            **node_settings,
        }
        env_files = {
            port: write_environment_file(
                folder / f"web-{port}.env", ENV_EXAMPLES / "web.env", **web_env, PORTAL_BIND=f"127.0.0.1:{port}"
            )
            for port in ports
        }
        worker_env = write_environment_file(
            folder / "worker.env", ENV_EXAMPLES / "worker.env", **shared, WEBHOOK_DELIVERY_DEADLINE="5"
        )
        # Once per release, from any node (README): the schema and the first manager.
        env = {"PATH": os.environ["PATH"], **read_environment_file(env_files[ports[0]])}
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run(
            [*manage, "createsuperuser", "--noinput", "--username", "alice", "--email", "alice@example.com"],
            cwd=ROOT,
            env={**env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
            check=True,
            capture_output=True,
        )
        processes = {
            port: stack.enter_context(service(WEB_UNIT, env_files[port], folder / f"web-{port}.log")) for port in ports
        }
        stack.enter_context(service(WORKER_UNIT, worker_env, folder / "worker-1.log", instance="1"))
        for port in ports:
            wait_for(lambda port=port: accepts_connections(port), 30, message=f"the web node on {port} to start")
        proxy = stack.enter_context(nginx_in_front(folder / "nginx", ports))
        portal = Portal(proxy, ports, processes, database_url, cache, prefix, credentials)
        created = portal.api(
            client_from("127.0.0.2", proxy), "PUT", "/webhooks/sandbox", {"url": httpserver.url_for("/hook")}
        )
        assert created.status_code == 201, created.text
        yield portal


def answered_by(portal: Portal, path: str, count_before: int) -> int:
    """The node that answered the request for `path`, the last one sent, once nginx has logged it."""

    def logged() -> list | None:
        entries = portal.proxy.answered()
        return entries if len(entries) > count_before and entries[-1][1] == path else None

    entries = wait_for(logged, 10, message=f"nginx to log {path}")
    return entries[-1][3][-1]


def on(portal: Portal, node: int, send: Callable[[], requests.Response]) -> requests.Response:
    """`send`, answered by `node`: nginx takes the nodes in turn, so health checks move it on until
    the last request went to the other node."""
    health = client_from("127.0.0.1", portal.proxy)
    for _ in range(3):
        before = len(portal.proxy.answered())
        health.get(f"{portal.proxy.url}/healthz", timeout=10)
        if answered_by(portal, "/healthz", before) != node:
            break
    else:
        raise AssertionError(f"nginx sent three requests in a row to {node}: not the nodes in turn")
    before = len(portal.proxy.answered())
    response = send()
    assert answered_by(portal, urlsplit(response.url).path, before) == node
    return response


def login_form(session: requests.Session, portal: Portal) -> requests.Response:
    return session.get(f"{portal.proxy.url}/accounts/login/", timeout=30)


def form_token(page: requests.Response) -> str:
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, page.text[:500]
    return token.group(1)


def post_login(session: requests.Session, portal: Portal, token: str, password: str) -> requests.Response:
    login = f"{portal.proxy.url}/accounts/login/"
    return session.post(
        login,
        data={"csrfmiddlewaretoken": token, "username": "alice", "password": password},
        headers={"Referer": login},
        allow_redirects=False,
        timeout=30,
    )


class Receiver:
    """The webhook's receiver: the delivery id of every request it got."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self.lock:
            self.ids.append(request.headers["AutoQL-Delivery-Id"])
        return Response("ok")


def alert(title: str) -> dict:
    return {"event": "data_alert.true", "payload": data_alert_payload("p1", title)}


def test_sessions_lockouts_rate_limits_the_health_panel_and_the_live_check_are_one_portal(tmp_path, httpserver):
    receiver = Receiver()
    # Per hour, so that no window of the counters can end during the test.
    node_settings = {
        "API_UNAUTHENTICATED_RATE_LIMIT": "6/h",
        "HEALTH_PANEL_CACHE_SECONDS": "600",
        "AXES_FAILURE_LIMIT": "4",
    }
    with two_nodes_behind_nginx(tmp_path, receiver, httpserver, **node_settings) as portal:
        a, b = portal.nodes
        guesser, alice = client_from("127.0.0.3", portal.proxy), client_from("127.0.0.4", portal.proxy)

        # Lockout counts: four wrong passwords from one address, on alternate nodes, lock it out on both.
        for node in (a, b, a):
            token = form_token(on(portal, b if node == a else a, lambda: login_form(guesser, portal)))
            refused = on(portal, node, functools.partial(post_login, guesser, portal, token, "wrong-password"))
            assert refused.status_code == 200 and "Please enter a correct username and password" in refused.text
        token = form_token(on(portal, a, lambda: login_form(guesser, portal)))
        assert on(portal, b, lambda: post_login(guesser, portal, token, "wrong-password")).status_code == 429
        assert on(portal, a, lambda: post_login(guesser, portal, token, PASSWORD)).status_code == 429

        # Sessions: signed in through A, the tab through B and A; signed out through B, refused by A.
        token = form_token(on(portal, b, lambda: login_form(alice, portal)))
        signed_in = on(portal, a, lambda: post_login(alice, portal, token, PASSWORD))
        assert signed_in.status_code == 302 and signed_in.headers["location"] == "/"
        for node in (b, a):
            tab = on(portal, node, lambda: alice.get(f"{portal.proxy.url}/", allow_redirects=False, timeout=30))
            assert tab.status_code == 200 and "Webhooks" in tab.text

        # The health panel is computed once for both: B shows what A computed.
        health = f"{portal.proxy.url}/webhooks/sandbox/health"
        before = on(portal, a, lambda: alice.get(health, timeout=30))
        assert before.status_code == 200
        assert any(b":logs-health:" in key for key in portal.cache.scan_iter(f"{portal.prefix}:*"))
        assert on(portal, b, lambda: alice.get(health, timeout=30)).text == before.text

        # The live check: the newest row as A shows it, then a delivery, then B says to refresh.
        poll = f"{portal.proxy.url}/webhooks/sandbox/logs/new?page=1&size=25&newest="
        quiet = on(portal, b, lambda: alice.get(poll, timeout=30))
        assert quiet.status_code == 200 and "HX-Trigger" not in quiet.headers
        queued = on(portal, a, lambda: portal.api(alice, "POST", "/webhooks/sandbox/events", alert("High Sales")))
        assert queued.status_code == 202, queued.text
        wait_for(lambda: receiver.ids, 30, message="the delivery to arrive")
        wait_for(
            lambda: portal.sql("SELECT count(*) FROM management_api_webhooklog")[0][0] == 1, 10, message="its log row"
        )
        fresh = on(portal, b, lambda: alice.get(poll, timeout=30))
        assert fresh.status_code == 204 and "logs:refresh" in fresh.headers["HX-Trigger"]
        # Once B has seen the new row, the panel kept by either node is computed afresh, once,
        # for both: A shows what B computed (issue 19: the panel follows new deliveries).
        after = on(portal, b, lambda: alice.get(health, timeout=30))
        assert after.status_code == 200 and after.text != before.text
        assert on(portal, a, lambda: alice.get(health, timeout=30)).text == after.text
        # The export, through nginx's location for long streams, has the row of that delivery.
        export = on(portal, b, lambda: alice.get(f"{portal.proxy.url}/webhooks/sandbox/logs/export", timeout=30))
        assert export.status_code == 200 and export.headers["Content-Type"].startswith("text/csv")
        assert queued.json()["data"]["delivery_id"] in export.text

        # Rate limits: six calls with a wrong key from one address, on alternate nodes, and the seventh is refused.
        stranger = client_from("127.0.0.5", portal.proxy)
        wrong = f"{portal.proxy.url}{API}/webhooks"
        for node in (a, b, a, b, a, b):
            guess = on(portal, node, lambda: stranger.get(wrong, params={"key": "wrong"}, timeout=30))
            assert guess.status_code == 401
        refused = on(portal, a, lambda: stranger.get(wrong, params={"key": "wrong"}, timeout=30))
        assert refused.status_code == 429 and "Retry-After" in refused.headers

        # Signed out through B: A no longer knows the session either.
        out = on(
            portal,
            b,
            lambda: alice.post(
                f"{portal.proxy.url}/accounts/logout/",
                data={"csrfmiddlewaretoken": form_token(tab)},
                headers={"Referer": f"{portal.proxy.url}/"},
                allow_redirects=False,
                timeout=30,
            ),
        )
        assert out.status_code == 302
        gone = on(portal, a, lambda: alice.get(f"{portal.proxy.url}/", allow_redirects=False, timeout=30))
        assert gone.status_code == 302 and gone.headers["location"].startswith("/accounts/login/")


@pytest.mark.parametrize("drained", [False, True], ids=["stopped", "drained-then-stopped"])
def test_stopping_a_node_during_a_load_run_loses_no_request_and_no_data(tmp_path, httpserver, drained):
    receiver = Receiver()
    with two_nodes_behind_nginx(tmp_path, receiver, httpserver, API_RATE_LIMIT="100000/h") as portal:
        stopped, kept = portal.nodes
        clients, rounds = 4, 30
        done = 0
        results: list[tuple[str, int, str]] = []  # (method, status, delivery id or text)
        lock = threading.Lock()
        half_way = threading.Event()
        after_the_stop = threading.Event()

        def client(index: int) -> None:
            nonlocal done
            try:
                session = client_from(f"127.0.0.{10 + index}", portal.proxy)
                for round_ in range(rounds):
                    if round_ == rounds // 2:
                        # The second half of every client's run starts once the node is stopped.
                        after_the_stop.wait(60)
                    page = session.get(f"{portal.proxy.url}/accounts/login/", timeout=30)
                    sent = portal.api(session, "POST", "/webhooks/sandbox/events", alert(f"alert {index}-{round_}"))
                    with lock:
                        results.append(("GET", page.status_code, ""))
                        results.append(
                            (
                                "POST",
                                sent.status_code,
                                sent.json()["data"]["delivery_id"] if sent.status_code == 202 else sent.text,
                            )
                        )
                        done += 1
                        if done >= clients * rounds // 4:
                            half_way.set()

            except Exception as error:  # recorded, so that the test fails on it instead of waiting
                with lock:
                    results.append(("ERROR", 0, repr(error)))
                half_way.set()

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for thread in threads:
            thread.start()
        assert half_way.wait(120)
        if drained:
            portal.proxy.drain(stopped)
        stop(WEB_UNIT, portal.processes[stopped])  # as `systemctl stop` on that machine would
        log_at_stop = len(portal.proxy.answered())
        after_the_stop.set()
        for thread in threads:
            thread.join(180)
            assert not thread.is_alive()

        # nginx retries whatever a stopping node refused or reset before it was sent, and every GET.
        # A POST the node reset after nginx had sent it cannot be retried (nginx cannot know that it
        # was never read): 502, and, checked below, nothing of it stored.
        failed = [r for r in results if r[1] not in (200, 202)]
        assert all(r[0] == "POST" and r[1] == 502 for r in failed), failed
        assert len(results) == 2 * clients * rounds and len(failed) <= (0 if drained else clients)
        accepted = [r[2] for r in results if r[0] == "POST" and r[1] == 202]
        answered = portal.proxy.answered()
        assert {entry[3][-1] for entry in answered[:log_at_stop] if entry[3]} == {stopped, kept}
        # Once the node has stopped, only the other answers (past the few requests each client
        # may have had under way, logged when they ended).
        assert {entry[3][-1] for entry in answered[log_at_stop + clients :] if entry[3]} == {kept}
        # Every accepted alert is stored once and delivered exactly once.
        wait_for(lambda: len(receiver.ids) >= len(accepted), 120, message="every accepted alert to be delivered")
        assert collections.Counter(receiver.ids) == collections.Counter(accepted)
        assert portal.sql("SELECT count(*) FROM management_api_delivery")[0][0] == len(accepted)
        assert len(set(accepted)) == len(accepted) == clients * rounds - len(failed)
        # Stopped at once, nginx met the stopped node: it moved a request on to the other one, or
        # answered 502 for a POST the node reset (after which it leaves the node alone for its
        # fail_timeout, which may outlast the run). Drained first, it sent it nothing more.
        met = [entry for entry in answered if len(entry[3]) > 1 or (entry[2] == 502 and entry[3] == [stopped])]
        assert bool(met) is not drained, met
