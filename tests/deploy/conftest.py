"""The two-node run belongs to the PostgreSQL pass (`DATABASE_URL=postgres://... make test`).

A plain `make test` must pass on a machine with SQLite alone, and the two nodes need a PostgreSQL
server and Redis: on SQLite those tests are deselected (reported as such), never skipped.
"""

import os

import pytest

TWO_NODES = "tests/deploy/test_two_nodes.py"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return
    deselected = [item for item in items if item.nodeid.startswith(TWO_NODES)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.nodeid.startswith(TWO_NODES)]
