"""Serving with gunicorn as `make run` does: the access log never holds an API key, and a worker
has every route imported before its first request."""

import os
import subprocess
import sys

import requests

from tests.instances import running_instance


def test_the_access_log_leaves_out_the_query_string(tmp_path):
    log = tmp_path / "gunicorn.log"
    with running_instance(tmp_path, log_file=log) as (url, env):
        key = env["AUTOQL_SANDBOX_API_KEY"]
        response = requests.get(
            f"{url}/autoql/management/api/v1/notifications/webhooks",
            params={"key": key},
            headers={"Authorization": f"Bearer {env['AUTOQL_TOKEN']}"},
            timeout=10,
        )
        assert response.status_code == 200
        static = requests.get(f"{url}/static/portal/portal.css", timeout=10)
        assert static.status_code == 200 and "text/css" in static.headers["Content-Type"]
    text = log.read_text()
    assert "GET /autoql/management/api/v1/notifications/webhooks HTTP/1.1" in text
    assert key not in text and env["AUTOQL_TOKEN"] not in text


def test_favicon_ico_leads_to_the_icon(client):
    response = client.get("/favicon.ico", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[0][0] == "/static/portal/favicon.svg"


def test_the_wsgi_module_imports_every_route_and_freezes_them_before_any_request():
    # gunicorn imports portal.wsgi in each worker before it accepts a connection.
    imported = subprocess.run(
        [
            sys.executable,
            "-c",
            "import gc, sys, portal.wsgi; "
            "print(sorted({'portal.urls', 'management_api.api'} & set(sys.modules)), gc.get_freeze_count() > 0)",
        ],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert imported.returncode == 0, imported.stderr
    # ... and has the garbage collector leave alone what it loaded, for as long as it lives.
    assert imported.stdout.strip() == "['management_api.api', 'portal.urls'] True"
