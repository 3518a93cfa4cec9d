from django.http import HttpRequest, HttpResponse, JsonResponse

API_PREFIX = "/autoql/management/api/"

SENTENCES = {
    404: "There is no such API path; check it against the documentation.",
    405: "This path does not take that HTTP method.",
}


class JsonErrorsMiddleware:
    """Gives the API's one error shape to the answers Django makes before the API sees a request.

    An unknown path (404) or a wrong method (405) would otherwise be an HTML page or an empty body.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        status = response.status_code
        message = SENTENCES.get(status, "The request could not be handled.")
        replacement = JsonResponse({"message": message, "reference_id": f"1.1.{status}"}, status=status)
        if response.has_header("Allow"):
            replacement["Allow"] = response["Allow"]
        return replacement
