"""The access log leaves out the logs' live checks (one per open tab every 5 s), but not their failures."""

import logging

import requests

from portal.access_log import LiveCheckFilter
from tests.instances import running_instance


def access_record(path: str, status: str) -> logging.LogRecord:
    # As gunicorn logs a request: its format, and the request's atoms as the one mapping argument.
    atoms = {"h": "127.0.0.1", "m": "GET", "U": path, "H": "HTTP/1.1", "s": status}
    message = '%(h)s "%(m)s %(U)s %(H)s" %(s)s'
    return logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, message, (atoms,), None)


def test_it_keeps_a_live_check_that_failed_and_every_other_request():
    shown = LiveCheckFilter().filter
    assert not shown(access_record("/webhooks/sandbox/logs/new", "200"))
    assert not shown(access_record("/webhooks/production/logs/new", "204"))
    assert shown(access_record("/webhooks/sandbox/logs/new", "500"))
    assert shown(access_record("/webhooks/sandbox/logs/12", "200"))
    assert shown(access_record("/logs", "200"))


def test_gunicorn_as_make_run_serves_leaves_the_live_checks_out(tmp_path):
    log = tmp_path / "gunicorn.log"
    with running_instance(tmp_path, log_file=log) as (url, _env):
        # Not signed in: both answer with the way to the sign-in page; only the page is logged.
        for path in ("/webhooks/sandbox/logs/new?newest=3", "/logs?env=sandbox"):
            assert requests.get(url + path, timeout=10, allow_redirects=False).status_code == 302
    text = log.read_text()
    assert "GET /logs HTTP/1.1" in text
    assert "/logs/new" not in text


def test_access_log_live_checks_true_logs_them_again(tmp_path):
    log = tmp_path / "gunicorn.log"
    with running_instance(tmp_path, log_file=log, ACCESS_LOG_LIVE_CHECKS="true") as (url, _env):
        requests.get(f"{url}/webhooks/sandbox/logs/new", timeout=10, allow_redirects=False)
    assert "GET /webhooks/sandbox/logs/new HTTP/1.1" in log.read_text()
