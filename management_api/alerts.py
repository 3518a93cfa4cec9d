"""Data alerts: the events that make webhooks worth having (AutoQL's Data Alerts feature)."""

import secrets
import time
from typing import Any

from management_api.delivery import queue_event
from management_api.models import Delivery
from management_api.schemas import DataAlertPayload, QueryResult


def data_alert_payload(
    project_id: str, title: str, message: str = "", data: Any = None, users: list[str] | None = None, query: str = ""
) -> dict[str, Any]:
    """The payload of a triggered data alert, in the shape of the contract's example."""
    if isinstance(data, list):
        data = {"rows": data}
    payload = DataAlertPayload(
        notification_id=f"nt_{secrets.token_hex(6)}",
        data_alert_id=f"da_{secrets.token_hex(6)}",
        project_id=project_id,
        title=title,
        message=message,
        users=users or [],
        created_at=int(time.time()),
        data_return_query=query or title,
        query_result=QueryResult(data=data or {}),
    )
    return payload.model_dump()


def send_data_alert(
    environment: str,
    project_id: str,
    title: str,
    message: str = "",
    data: Any = None,
    users: list[str] | None = None,
    query: str = "",
) -> Delivery:
    """Queue a `data_alert.true` delivery to the environment's webhook; the worker sends it."""
    payload = data_alert_payload(project_id, title, message, data, users, query)
    return queue_event(environment, "data_alert.true", payload, project_id=project_id)
