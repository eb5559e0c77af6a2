"""Announcements: the page, the service, and the broadcast every connected portal page receives."""

import pytest

from accounts import services
from accounts.models import AdminActivityLog, Announcement
from accounts.portal import dashboard_announcements
from realtime.tests.socket_client import (  # noqa: F401 (fixtures)
    anyio_backend,
    connected,
    in_db,
    session_cookie,
    socket_test_environment,
)
from tests import factories
from zora.errors import InvalidInput, NotFound

HTMX = {"HTTP_HX_REQUEST": "true"}
URL = "/dashboard/announcements/"
GOOD = {"title": "Maintenance", "message": "Payments pause at 02:00 for ten minutes.", "level": "warning"}


@pytest.fixture
def no_broadcasts(monkeypatch):
    """View tests check the page; the broadcast itself is proven over a real socket below."""
    sent = []
    monkeypatch.setattr(services, "broadcast_send", lambda **message: sent.append(message))
    return sent


@pytest.mark.django_db
def test_only_platform_admins_get_the_announcements_page(client, customer, vendor, admin_user, no_broadcasts):
    for method, url in (("get", URL), ("post", URL), ("get", "/dashboard/announcements/sent/")):
        assert getattr(client, method)(url)["Location"].startswith("/accounts/login/?next=")
        for someone in (customer, vendor.owner):
            client.force_login(someone)
            response = getattr(client, method)(url, GOOD) if method == "post" else client.get(url)
            assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        client.logout()
    assert not Announcement.objects.exists() and not no_broadcasts
    client.force_login(admin_user)
    assert client.get(URL).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_sending_lists_it_logs_it_and_broadcasts_it_on_commit(client, admin_user, no_broadcasts):
    client.force_login(admin_user)
    response = client.post(URL, GOOD)
    assert response.status_code == 302 and response["Location"] == URL
    announcement = Announcement.objects.get()
    assert (announcement.author, announcement.title, announcement.level) == (admin_user, "Maintenance", "warning")
    assert no_broadcasts == [
        {
            "topic": "realtime:announcements",
            "event": "announcement",
            "payload": {"title": "Maintenance", "message": GOOD["message"], "level": "warning"},
        }
    ]
    entry = AdminActivityLog.objects.get(action="announcement.sent")
    assert entry.entity_id == str(announcement.pk) and entry.details == {"title": "Maintenance", "level": "warning"}
    assert "Payments pause at 02:00" in client.get(URL).content.decode()

    response = client.post(URL, {**GOOD, "title": "Second"}, **HTMX)
    page = response.content.decode()
    assert response.status_code == 200
    assert "“Second” was sent" in page and 'hx-swap-oob="innerHTML"' in page and "Maintenance" in page
    assert len(no_broadcasts) == 2
    assert "Second" in client.get("/dashboard/announcements/sent/").content.decode()


@pytest.mark.django_db
def test_an_invalid_announcement_shows_the_fields_error(client, admin_user, no_broadcasts):
    client.force_login(admin_user)
    response = client.post(URL, {**GOOD, "message": "", "level": "shouting"}, **HTMX)
    page = response.content.decode()
    assert response.status_code == 422
    assert "This field is required." in page and "Select a valid choice." in page
    assert client.post(URL, {**GOOD, "title": ""}).status_code == 200
    assert not Announcement.objects.exists() and not no_broadcasts


@pytest.mark.django_db
def test_the_services_refusal_is_shown_on_its_field(client, admin_user, monkeypatch):
    def refuse(**kwargs):
        raise InvalidInput("title must be at most 120 characters.", field="title")

    monkeypatch.setattr(dashboard_announcements, "announcement_send", refuse)
    client.force_login(admin_user)
    response = client.post(URL, GOOD, **HTMX)
    assert response.status_code == 422 and "title must be at most 120 characters." in response.content.decode()


@pytest.mark.django_db
def test_the_service_refuses_non_admins_and_bad_input(customer, admin_user, no_broadcasts, nothing_written):
    with nothing_written():
        with pytest.raises(NotFound):
            services.announcement_send(actor=customer, **GOOD)
        with pytest.raises(InvalidInput) as refusal:
            services.announcement_send(actor=admin_user, **{**GOOD, "level": "panic"})
        assert refusal.value.field == "level"
        with pytest.raises(InvalidInput) as refusal:
            services.announcement_send(actor=admin_user, **{**GOOD, "message": "   "})
        assert refusal.value.field == "message"
    assert not no_broadcasts


@pytest.mark.anyio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("socket_test_environment")
async def test_a_sent_announcement_reaches_every_socket_on_the_announcements_channel():
    admin = await in_db(factories.AdminFactory)()
    vendor_staff = await in_db(lambda: factories.VendorFactory().owner)()
    cookie = await in_db(session_cookie)(vendor_staff)
    portal = await connected(
        apikey=False, headers=[(b"origin", b"http://testserver"), (b"cookie", cookie)], portal="vendor"
    )
    anonymous = await connected()
    for client in (portal, anonymous):
        assert (await client.join("realtime:announcements"))["status"] == "ok"
    await in_db(services.announcement_send)(actor=admin, title="Heads up", message="Rain: expect delays.", level="info")
    for client in (portal, anonymous):
        broadcast = await client.expect("broadcast", topic="realtime:announcements")
        assert broadcast.payload == {
            "type": "broadcast",
            "event": "announcement",
            "payload": {"title": "Heads up", "message": "Rain: expect delays.", "level": "info"},
        }
        await client.disconnect()
