"""How an environment's deliveries are doing: the stats the health panel shows."""

from ninja import Query, Router

from management_api import schemas, stats
from management_api.api.base import (
    ERRORS,
    KEY,
    AuthenticatedRequest,
    ok,
)

router = Router()


@router.get(
    "/webhooks/{environment}/stats",
    response={200: schemas.StatsEnvelope, **ERRORS},
    summary="Attempts, successes, failures and durations over the last 24 hours, 7 days or 30 days",
)
def delivery_stats(request: AuthenticatedRequest, environment: str, query: Query[schemas.StatsQuery], key: str = KEY):
    return ok(stats.delivery_stats(request.auth, query.window))
