"""How fast the logs endpoint pages, first page against last, side by side in one run.

    .venv/bin/python scripts/benchmark_logs.py [--rows 200000] [--repeat 30]

Fills a throw-away database (a temporary SQLite file, or DATABASE_URL if set: use an empty one)
with log rows, then times GET .../logs through the real API at offset 0 and at the last page,
and the same pages read the naive way (COUNT(*) plus ORDER BY ... OFFSET), and prints the ratios.
A ratio near 1.0 for "last / first" is the goal: paging must not slow down with depth.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    scratch = tempfile.TemporaryDirectory()
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{Path(scratch.name) / 'bench.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.update(SECURE_SSL_REDIRECT="false", LOG_LEVEL="ERROR", ALLOWED_HOSTS="testserver")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction
    from django.test import Client

    from management_api.models import LogSequence, WebhookLog

    call_command("migrate", verbosity=0)
    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, rows: {args.rows:,}")
    started = time.perf_counter()
    batch = 5000
    with transaction.atomic():
        last = LogSequence.take_next("sandbox", args.rows)
        first_seq = last - args.rows + 1
        for start in range(0, args.rows, batch):
            WebhookLog.objects.bulk_create(
                [
                    WebhookLog(
                        environment="sandbox",
                        seq=first_seq + i,
                        type="data_alert",
                        event="data_alert.true",
                        status="success",
                        code=200,
                        url="https://hooks.example.com/",
                        project_id=f"p{i % 50}",
                        response={"message": "ok"},
                    )
                    for i in range(start, min(start + batch, args.rows))
                ]
            )
    print(f"filled in {time.perf_counter() - started:.1f} s")

    client = Client()
    path = "/autoql/management/api/v1/notifications/webhooks/sandbox/logs"
    auth = {"Authorization": f"Bearer {settings.AUTOQL_TOKEN}"}
    limit = 10
    last_offset = (args.rows - 1) // limit * limit

    def api_page(offset: int) -> None:
        response = client.get(
            path, {"key": settings.AUTOQL_SANDBOX_API_KEY, "offset": offset, "limit": limit}, headers=auth
        )
        assert response.status_code == 200 and response.json()["data"]["items"], response.content[:200]

    def naive_page(offset: int) -> None:
        rows = WebhookLog.objects.filter(environment="sandbox").order_by("-created_at", "-id")
        total = rows.count()
        assert total == args.rows and list(rows[offset : offset + limit])

    def median_ms(fn, offset: int) -> float:
        fn(offset)  # warm up
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            fn(offset)
            times.append((time.perf_counter() - t) * 1000)
        return statistics.median(times)

    # Interleaved in one run, so machine noise falls on every figure alike.
    api_first, api_last = median_ms(api_page, 0), median_ms(api_page, last_offset)
    naive_first, naive_last = median_ms(naive_page, 0), median_ms(naive_page, last_offset)
    print(
        f"API   first page {api_first:8.2f} ms   last page {api_last:8.2f} ms   last/first {api_last / api_first:6.2f}"
    )
    print(
        f"naive first page {naive_first:8.2f} ms   last page {naive_last:8.2f} ms   "
        f"last/first {naive_last / naive_first:6.2f}"
    )
    print(f"last page: naive / API = {naive_last / api_last:.1f}x")
    scratch.cleanup()


if __name__ == "__main__":
    main()
