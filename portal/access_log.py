"""gunicorn's access log without the logs' live checks: every open Webhooks tab asks for new
deliveries every 5 seconds, and those lines buried the requests worth reading (gunicorn.conf.py
adds this filter unless ACCESS_LOG_LIVE_CHECKS=true). A live check that fails is still logged."""

import logging
import re
from collections.abc import Mapping

# webhooks_app/urls.py, "new_deliveries".
LIVE_CHECK_PATH = re.compile(r"/webhooks/[^/]+/logs/new")


class LiveCheckFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # gunicorn logs each request with its atoms as the one mapping argument: U is the path
        # without the query, s the status (https://docs.gunicorn.org/en/stable/settings.html#access-log-format).
        atoms = record.args
        if not isinstance(atoms, Mapping):
            return True
        path, status = str(atoms.get("U", "")), str(atoms.get("s", ""))
        return not (LIVE_CHECK_PATH.fullmatch(path) and status[:1] in ("2", "3"))
