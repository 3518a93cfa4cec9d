"""WSGI entry point, for gunicorn: `gunicorn portal.wsgi`."""

import gc
import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

application = get_wsgi_application()

# Every page's and API route's module is imported now, as the worker starts, rather than by the
# first request it answers: that took about 0.3 s of CPU, which the first callers of a freshly
# started node waited for (and under load, every caller queued behind them).
import_module(settings.ROOT_URLCONF)

# All that is loaded by now (about 100,000 objects: modules, routes, schemas) lives as long as the
# process, so the garbage collector stops walking it. Each full collection walked it all: 0.3 to
# 0.6 s under load in a web node, every request of the process waiting (gc.callbacks, timed).
# Garbage is collected first, so that none is kept for good.
gc.collect()
gc.freeze()
