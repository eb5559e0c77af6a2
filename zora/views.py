import asyncio
import secrets

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from realtime import metrics
from realtime.selectors import relay_backlog
from zora.api import ApiView, error_responses

CHANNEL_LAYER_TIMEOUT_SECONDS = 2.0
DATABASE_TIMEOUT_SECONDS = 2.0


def landing(request):
    return render(request, "landing.html")


class ApiIndexView(ApiView):
    """`GET /api/v1/`: where a newcomer to the API goes next, instead of a 404."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="api_index",
        summary="Where the docs, the schema, sign-in and the realtime socket are",
        responses={200: OpenApiTypes.OBJECT, **error_responses(429)},
        auth=[],
    )
    def get(self, request):
        absolute = request.build_absolute_uri
        return Response(
            {
                "name": "Zora API",
                "version": "v1",
                "docs": absolute(reverse("api-docs")),
                "schema": absolute(reverse("api-schema")),
                "sign_in": absolute(reverse("auth-token")),
                "changes": absolute(reverse("changes")),
                "realtime_websocket": absolute("/realtime/v1/websocket").replace("http", "ws", 1),
            }
        )


def _check_database() -> dict:
    """SELECT 1, on a pooled connection taken within two seconds. While the server is down, the pool
    would keep a request waiting for one for DATABASE_POOL_TIMEOUT (30 s): far past a load balancer's
    patience, so the process looked hung instead of saying that its database is down."""
    pool = getattr(connection, "pool", None)
    if pool is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    else:
        pool.open()
        with pool.connection(timeout=DATABASE_TIMEOUT_SECONDS) as pooled:
            pooled.execute("SELECT 1")
    return {"status": "ok", "vendor": connection.vendor}


async def _channel_layer_round_trip() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    nonce = secrets.token_hex(8)
    await layer.send(channel, {"type": "health.ping", "nonce": nonce})
    reply = await layer.receive(channel)
    if reply.get("nonce") != nonce:
        raise RuntimeError("the channel layer returned a different message than was sent")


def _check_channel_layer() -> dict:
    """A message sent to a fresh channel and read back: proves the layer both accepts and delivers."""

    async def bounded():
        await asyncio.wait_for(_channel_layer_round_trip(), CHANNEL_LAYER_TIMEOUT_SECONDS)

    async_to_sync(bounded)()
    return {"status": "ok", "backend": type(get_channel_layer()).__name__}


def healthz(request):
    """Liveness plus the database's and the channel layer's state, for load balancers and operators."""
    checks = {}
    for name, check in (("database", _check_database), ("channel_layer", _check_channel_layer)):
        try:
            checks[name] = check()
        except Exception as exc:  # any driver or network failure means "down"
            checks[name] = {"status": "error", "error": str(exc) or type(exc).__name__}
    healthy = all(check["status"] == "ok" for check in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)


def _may_scrape(request) -> bool:
    """With METRICS_TOKEN set, only its bearer; without it, anyone in development and nobody in production
    (the figures map the deployment: how many sockets, how far behind the relay is)."""
    if not settings.METRICS_TOKEN:
        return settings.DEBUG
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(
        token.strip().encode(), settings.METRICS_TOKEN.encode()
    )


def prometheus_metrics(request):
    """This process's metrics in Prometheus text format; the relay backlog is read at scrape time."""
    if not _may_scrape(request):
        reason = "send Authorization: Bearer <METRICS_TOKEN>" if settings.METRICS_TOKEN else "set METRICS_TOKEN"
        response = HttpResponse(f"/metrics needs a token: {reason}.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    backlog = relay_backlog()
    metrics.RELAY_LAG_SEQ.set(backlog.events)
    metrics.RELAY_LAG_SECONDS.set(backlog.oldest_age_seconds)
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
