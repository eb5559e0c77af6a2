"""The activity log page and its CSV export: who gets in, the filters, the snapshot of who acted."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import AdminActivityLog
from accounts.selectors import activity_url_for
from accounts.services import activity_log_record
from tests import factories

pytestmark = pytest.mark.django_db


def _entry(admin, *, action="vendor.suspended", category="vendor", entity=None, days_ago=0, **fields):
    """An entry as it would be written, at a chosen time (insert only: the log refuses updates)."""
    created_at = timezone.now() - timedelta(days=days_ago)
    if entity is not None:
        fields.update(entity_type=entity._meta.label_lower, entity_id=str(entity.pk))
    return AdminActivityLog.objects.create(
        admin=admin,
        admin_name=admin.get_full_name(),
        admin_role="admin",
        action=action,
        category=category,
        created_at=created_at,
        **fields,
    )


def _csv(client, query=""):
    response = client.get(f"/dashboard/activity/export.csv{query}")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.streaming
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_only_platform_admins_get_the_log(client, customer, vendor, admin_user):
    for url in ("/dashboard/activity/", "/dashboard/activity/export.csv"):
        assert client.get(url)["Location"].startswith("/accounts/login/?next=")
        for someone in (customer, vendor.owner):
            client.force_login(someone)
            response = client.get(url)
            assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        client.logout()
    client.force_login(admin_user)
    assert client.get("/dashboard/activity/").status_code == 200


def test_the_log_is_read_only(client, admin_user):
    _entry(admin_user)
    client.force_login(admin_user)
    page = client.get("/dashboard/activity/").content.decode()
    # The only form that posts is the shell's sign-out.
    assert re.findall(r'<form method="post" action="([^"]+)"', page) == ["/accounts/logout/"]
    assert client.post("/dashboard/activity/").status_code == 405
    assert AdminActivityLog.objects.count() == 1


def test_entries_keep_the_admins_name_and_role_as_they_were(client, admin_user, customer):
    admin_user.full_name = "Ada Lovell"
    admin_user.save()
    entry = activity_log_record(admin=admin_user, action="user.suspended", category="user", entity=customer)
    assert (entry.admin_name, entry.admin_role) == ("Ada Lovell", "superuser")
    plain_admin = factories.AdminFactory(is_superuser=False, full_name="Bo Admin")
    assert activity_log_record(admin=plain_admin, action="x", category="other").admin_role == "admin"

    admin_user.full_name = "Ada King"
    admin_user.is_superuser = False
    admin_user.save()
    client.force_login(plain_admin)
    page = client.get(f"/dashboard/activity/?admin={admin_user.pk}").content.decode()
    rows = page[page.index("<tbody>") : page.index("</tbody>")]
    assert "Ada Lovell" in rows and "Ada King" not in rows and "superuser" in rows
    rows = _csv(client)
    assert rows[-1][4:6] == ["Ada Lovell", "superuser"]


def test_entries_from_before_the_snapshot_show_todays_name(client, admin_user):
    AdminActivityLog.objects.create(admin=admin_user, action="old.thing", category="other")
    client.force_login(admin_user)
    page = client.get("/dashboard/activity/").content.decode()
    assert admin_user.get_full_name() in page and "superuser (today)" in page


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers are PostgreSQL's")
def test_the_database_still_refuses_to_change_an_entry(admin_user):
    from django.db import DatabaseError, transaction

    entry = activity_log_record(admin=admin_user, action="x", category="other")
    with pytest.raises(DatabaseError), transaction.atomic():
        AdminActivityLog.objects.filter(pk=entry.pk).update(admin_name="someone else")


def test_filters_and_the_csv_export_have_exactly_the_same_rows(client, admin_user):
    other_admin = factories.AdminFactory(full_name="Other Admin")
    application = factories.VendorApplicationFactory()
    vendor = factories.VendorFactory()
    wanted = [
        _entry(admin_user, action="application.approved", entity=application, days_ago=1),
        _entry(admin_user, action="application.started_review", entity=application, days_ago=3),
    ]
    _entry(other_admin, action="application.rejected", entity=application, days_ago=1)  # another admin
    _entry(admin_user, action="vendor.suspended", entity=vendor, days_ago=1)  # another entity
    _entry(admin_user, action="application.approved", entity=application, days_ago=10)  # too old
    _entry(admin_user, action="order.cancelled", category="order", entity=application, days_ago=1)  # category
    client.force_login(admin_user)
    start = (timezone.localdate() - timedelta(days=5)).isoformat()
    query = (
        f"?admin={admin_user.pk}&category=vendor&entity_type=vendors.vendorapplication"
        f"&entity_id={application.pk}&date_from={start}&date_to={timezone.localdate().isoformat()}"
    )
    page = client.get(f"/dashboard/activity/{query}")
    assert [entry.pk for entry in page.context["page"].object_list] == [entry.pk for entry in wanted]
    assert f"/dashboard/activity/export.csv{query.replace('&', '&amp;')}" in page.content.decode()

    rows = _csv(client, query)
    assert rows[0] == [
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
    ]
    assert [int(row[0]) for row in rows[1:]] == [entry.pk for entry in wanted]
    assert rows[1][1] == wanted[0].created_at.isoformat()
    assert timezone.datetime.fromisoformat(rows[1][1]) == wanted[0].created_at
    assert len(_csv(client)) == 1 + AdminActivityLog.objects.count()


def test_invalid_filters_show_the_error_and_export_nothing(client, admin_user):
    _entry(admin_user)
    client.force_login(admin_user)
    response = client.get("/dashboard/activity/?date_from=2026-05-02&date_to=2026-05-01")
    page = response.content.decode()
    assert "The end date must be on or after the start date." in page and "Fix the filters" in page
    assert not response.context["page"].object_list
    assert client.get("/dashboard/activity/?category=nonsense").context["filters"].errors["category"]
    export = client.get("/dashboard/activity/export.csv?date_from=not-a-date")
    assert export.status_code == 400 and b"nothing was exported" in export.content


def test_the_export_defuses_spreadsheet_formulas(client, admin_user):
    _entry(admin_user, user_agent="=HYPERLINK(1)")
    client.force_login(admin_user)
    assert _csv(client)[1][12] == "'=HYPERLINK(1)"


def test_the_log_is_paginated(client, admin_user):
    for _ in range(51):
        _entry(admin_user)
    client.force_login(admin_user)
    page = client.get("/dashboard/activity/?category=vendor")
    assert len(page.context["page"].object_list) == 50
    assert "category=vendor&amp;page=2" in page.content.decode()
    assert len(client.get("/dashboard/activity/?category=vendor&page=2").context["page"].object_list) == 1


def test_each_objects_page_links_to_its_entries(client, admin_user):
    application = factories.VendorApplicationFactory()
    url = activity_url_for(application)
    assert url == f"/dashboard/activity/?entity_type=vendors.vendorapplication&entity_id={application.pk}"
    mine = _entry(admin_user, entity=application)
    _entry(admin_user, entity=factories.VendorFactory())
    client.force_login(admin_user)
    assert [entry.pk for entry in client.get(url).context["page"].object_list] == [mine.pk]
