"""gunicorn settings, read from the working directory by `gunicorn portal.wsgi`.

The management API takes its API key in the query string (AutoQL's convention), so the access log
writes the path without the query: keys must never land in a log file.

The live checks of the logs (every 5 s from each open tab) are left out of the access log unless
ACCESS_LOG_LIVE_CHECKS=true (portal/access_log.py).
"""

import logging
import os

accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'

# Test connections wait on receivers (at most TEST_CONNECTION_CONCURRENCY of them per process at
# once); enough threads stay free for the pages and the API meanwhile.
threads = 16

# Behind nginx (deploy/nginx/portal.conf) connections are kept open between requests; a node keeps
# an idle one longer than nginx does (30 s), so nginx never sends a request down a connection the
# node is closing at that moment.
keepalive = 75


def on_starting(server) -> None:
    """gunicorn's hook before the workers start (they inherit the filter)."""
    if os.environ.get("ACCESS_LOG_LIVE_CHECKS", "").strip().lower() not in ("1", "true", "yes", "on"):
        from portal.access_log import LiveCheckFilter

        logging.getLogger("gunicorn.access").addFilter(LiveCheckFilter())
