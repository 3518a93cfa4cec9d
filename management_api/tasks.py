"""The delivery queue: Django's Tasks API (django-tasks), run by `python manage.py db_worker`."""

from datetime import datetime

from django_tasks import task

from management_api.models import Delivery


@task()
def attempt_delivery_task(delivery_id: str) -> str:
    from management_api.delivery import attempt_delivery

    return attempt_delivery(delivery_id)


def enqueue_attempt(delivery: Delivery, run_after: datetime | None = None) -> None:
    # Each environment has its own queue and worker: a hanging sandbox receiver never holds up production.
    attempt_delivery_task.using(queue_name=delivery.environment, run_after=run_after).enqueue(str(delivery.id))
