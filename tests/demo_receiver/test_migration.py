"""DemoReceipt moved from management_api to demo_receiver: receipts of an existing database stay.

(A fresh database takes the same path: the test database is built by running every migration.)
"""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from demo_receiver.models import DemoReceipt

STILL_IN_MANAGEMENT_API = ("management_api", "0002_demo_receipt")
BEFORE_THE_MOVE = [STILL_IN_MANAGEMENT_API, ("demo_receiver", None)]
AFTER_THE_MOVE = [("management_api", "0003_move_demo_receipt"), ("demo_receiver", "0001_initial")]


@pytest.mark.django_db(transaction=True)
def test_receipts_written_before_the_move_are_there_after_it():
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE_THE_MOVE)
        old_model = executor.loader.project_state(STILL_IN_MANAGEMENT_API).apps.get_model(
            "management_api", "DemoReceipt"
        )
        old_model.objects.create(environment="sandbox", delivery_id="d-before", event="test", verified=True)

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER_THE_MOVE)

        receipt = DemoReceipt.objects.only("delivery_id", "event", "verified").get()
        assert (receipt.delivery_id, receipt.event, receipt.verified) == ("d-before", "test", True)
        assert "management_api_demoreceipt" not in connection.introspection.table_names()
    finally:
        # Later migrations too: the tests after this one need the whole schema.
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
