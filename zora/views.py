from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render


def landing(request):
    return render(request, "landing.html")


def healthz(request):
    """Liveness plus the database's state, for load balancers and operators."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"status": "ok", "vendor": connection.vendor}
    except Exception as exc:  # any driver failure means "down"
        checks["database"] = {"status": "error", "error": str(exc)}
    healthy = all(check["status"] == "ok" for check in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)
