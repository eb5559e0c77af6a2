from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

from realtime.selectors import high_water_seq
from zora.api import DATABASE_RETRY_AFTER, error_body

SEQ_HEADER = "X-Realtime-Seq"


class RealtimeSeqMiddleware:
    """Stamps API responses and HTML pages with the stream's high-water seq.

    The seq is read before the view reads its data, so the page shows at
    least every change up to it: a client that subscribes from it misses
    nothing (it may see a change it already shows again, which is harmless).
    Views and templates find it as `request.realtime_seq`.
    """

    # Probes and files that never carry state a client subscribes from.
    EXEMPT_PREFIXES = ("/healthz", "/metrics", settings.STATIC_URL, settings.MEDIA_URL)

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD") or request.path.startswith(self.EXEMPT_PREFIXES):
            return self.get_response(request)
        try:
            request.realtime_seq = high_water_seq()
        except (OperationalError, InterfaceError):
            # The database went away (the view could not have answered either): a 503 to retry,
            # as the API answers a request the database fails, rather than Django's 500 page.
            return _database_unavailable(request)
        response = self.get_response(request)
        if request.path.startswith("/api/") or response.get("Content-Type", "").startswith("text/html"):
            response[SEQ_HEADER] = str(request.realtime_seq)
        return response


def _database_unavailable(request):
    message = "The service is briefly unavailable; retry shortly."
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body("unavailable", message), status=503)
    else:
        response = HttpResponse(message, status=503, content_type="text/plain")
    response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response
