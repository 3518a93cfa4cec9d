"""A webhook receiver as an integrator would write one, for tests to run on 127.0.0.1."""

import json
import time

from werkzeug import Request, Response

from management_api.signing import verify


class VerifyingReceiver:
    """Checks AutoQL-Signature with the secret it is given; keeps every request it received."""

    def __init__(self, secret: str = "", status: int = 200, delay: float = 0) -> None:
        self.secret = secret
        self.status = status
        self.delay = delay
        self.received: list[dict] = []

    def __call__(self, request: Request) -> Response:
        body = request.get_data()
        problem = verify(
            self.secret, request.headers.get("AutoQL-Timestamp", ""), request.headers.get("AutoQL-Signature", ""), body
        )
        self.received.append({"headers": dict(request.headers), "body": body, "problem": problem})
        if self.delay:
            time.sleep(self.delay)
        if problem:
            return Response(json.dumps({"error": problem}), status=401, content_type="application/json")
        return Response(json.dumps({"message": "ok"}), status=self.status, content_type="application/json")
