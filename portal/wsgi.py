"""WSGI entry point, for gunicorn: `gunicorn portal.wsgi`."""

import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from portal.long_lived import freeze_what_is_loaded

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

application = get_wsgi_application()

# Every page's and API route's module is imported now, as the worker starts, rather than by the
# first request it answers: that took about 0.3 s of CPU, which the first callers of a freshly
# started node waited for (and under load, every caller queued behind them).
import_module(settings.ROOT_URLCONF)

freeze_what_is_loaded()
