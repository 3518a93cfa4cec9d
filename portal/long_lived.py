"""What a long-running process does once it has loaded what it serves with: a web worker
(portal/wsgi.py) and a delivery worker (management_api/worker.py)."""

import gc


def freeze_what_is_loaded() -> None:
    """Have the garbage collector leave alone, for good, what is loaded by now.

    About 100,000 objects (modules, routes, schemas) live as long as the process, and every full
    collection walked them all: timed with gc.callbacks under load, 0.3 to 0.6 s in a web node,
    every request of the process waiting, and 60 to 160 ms in a delivery worker. Garbage is
    collected first, so that none is kept for good.
    """
    gc.collect()
    gc.freeze()
