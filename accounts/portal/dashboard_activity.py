"""The admin activity log: every admin action from the dashboard, the API and Django admin, read-only.

Filters by admin, category, entity and dates; the CSV export streams exactly
the filtered entries, so an auditor gets what the page showed, however many.
"""

import csv
import json
from itertools import chain

from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from accounts.models import AdminActivityLog
from accounts.portal.access import platform_admin_view
from accounts.selectors import activity_log_search
from zora.pages import filtered_page

from .dashboard_forms import ActivityFilterForm

PAGE = "dashboard/activity/list.html"
ENTRIES_PER_PAGE = 50
EXPORT_CHUNK = 500
CSV_HEADER = (
    "id",
    "created_at",
    "admin_id",
    "admin_email",
    "admin_name",
    "admin_role",
    "action",
    "category",
    "entity_type",
    "entity_id",
    "details",
    "ip_address",
    "user_agent",
)
# A cell starting with one of these is run as a formula by spreadsheets (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _page_context(request) -> dict:
    filters = ActivityFilterForm(request.GET)
    entries = activity_log_search(**filters.filters()) if filters.is_valid() else AdminActivityLog.objects.none()
    return {
        "filters": filters,
        **filtered_page(request, entries, per_page=ENTRIES_PER_PAGE),
        "filtering": any(value for key, value in request.GET.items() if key != "page"),
    }


@platform_admin_view
@require_safe
def activity_page(request):
    return render(request, PAGE, _page_context(request))


@platform_admin_view
@require_safe
def activity_entries(request):
    return render(request, f"{PAGE}#entries", _page_context(request))


class _Echo:
    """csv.writer writes a row to this and the generator hands the line straight to the response."""

    def write(self, value):
        return value


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_row(entry: AdminActivityLog) -> list[str]:
    return [
        str(entry.pk),
        entry.created_at.isoformat(),
        str(entry.admin_id),
        _cell(entry.admin.email),
        _cell(entry.admin_name_shown),
        _cell(entry.admin_role_shown),
        _cell(entry.action),
        entry.category,
        _cell(entry.entity_type),
        _cell(entry.entity_id),
        _cell(json.dumps(entry.details, sort_keys=True) if entry.details else ""),
        _cell(entry.ip_address),
        _cell(entry.user_agent),
    ]


@platform_admin_view
@require_safe
def activity_export(request):
    filters = ActivityFilterForm(request.GET)
    if not filters.is_valid():
        problems = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in filters.errors.items())
        return HttpResponseBadRequest(f"The filters are not valid, so nothing was exported. {problems}")
    entries = activity_log_search(**filters.filters()).iterator(chunk_size=EXPORT_CHUNK)
    writer = csv.writer(_Echo())
    lines = (writer.writerow(row) for row in chain([CSV_HEADER], map(_csv_row, entries)))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    filename = f"zora-activity-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
