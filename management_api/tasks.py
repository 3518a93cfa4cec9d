"""The delivery queue: Django's Tasks API (django-tasks), run by `python manage.py db_worker`."""

from datetime import datetime

from django_tasks import task

from management_api.models import Delivery


@task()
def attempt_delivery_task(delivery_id: str) -> str:
    from management_api.delivery import attempt_delivery

    return attempt_delivery(delivery_id)


def enqueue_attempt(delivery: Delivery, run_after: datetime | None = None) -> None:
    task_ = attempt_delivery_task.using(run_after=run_after) if run_after else attempt_delivery_task
    task_.enqueue(str(delivery.id))
