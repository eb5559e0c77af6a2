"""Only this site's pages (and those REALTIME_ALLOWED_ORIGINS lists) may open a socket that signs in
with the visitor's session cookie, whatever ALLOWED_HOSTS says: with `ALLOWED_HOSTS=*` the origin
check once let any site's page ride a signed-in user's cookie. Native clients send no Origin and
sign in with a token. A real daphne, real sockets with the headers a browser sends.
"""

import pytest
from django.test import Client
from websockets.exceptions import InvalidStatus

from accounts.services import notification_create
from tests import factories

pytest_plugins = ["tests.live.plugin"]
pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

PARTNER = "https://partner.example"
NOTIFICATIONS = [{"event": "INSERT", "schema": "public", "table": "notifications"}]
TIMEOUT = 10


@pytest.fixture
def server(daphne_servers):
    return daphne_servers.start("daphne answering any host", ALLOWED_HOSTS="*", REALTIME_ALLOWED_ORIGINS=PARTNER)


@pytest.fixture
def signed_in():
    """A user and the Cookie header of a portal page they are signed in to."""
    user = factories.UserFactory(password=None)
    browser = Client()
    browser.force_login(user)
    return user, f"sessionid={browser.cookies['sessionid'].value}"


def browser_socket(phoenix_sockets, server, *, origin: str, cookie: str):
    return phoenix_sockets.open(
        f"page on {origin}",
        websocket_url=server.websocket_url,
        apikey=None,
        headers={"Origin": origin, "Cookie": cookie},
    )


def assert_reads_own_notifications(socket, user):
    socket.join("inbox", postgres_changes=NOTIFICATIONS)
    notification_create(user=user, type="system", title="Only for you")
    [change] = socket.changes(1, TIMEOUT)
    assert (change["record"]["user_id"], change["record"]["title"]) == (user.pk, "Only for you")


FOREIGN_ORIGINS = [
    "https://evil.example",
    "http://127.0.0.1:1",  # this host, another port: another origin
    "null",  # sandboxed frames and local files
    "https://partner.example.evil.example",
    "http://partner.example",  # the listed site's host over another scheme
]


def test_a_page_of_another_site_cannot_open_a_socket_with_the_visitors_cookie(server, phoenix_sockets, signed_in):
    _, cookie = signed_in
    answers = {}
    for origin in FOREIGN_ORIGINS:
        try:
            browser_socket(phoenix_sockets, server, origin=origin, cookie=cookie)
        except InvalidStatus as refused:
            answers[origin] = refused.response.status_code
        else:
            answers[origin] = "opened"

    assert answers == dict.fromkeys(FOREIGN_ORIGINS, 403)


def test_a_page_of_this_site_reads_its_users_rows_over_the_cookie(server, phoenix_sockets, signed_in):
    user, cookie = signed_in
    # The origin of the page the server itself served: the Host the socket is opened to.
    socket = browser_socket(phoenix_sockets, server, origin=server.base_url, cookie=cookie)

    assert_reads_own_notifications(socket, user)


def test_a_listed_site_may_use_the_cookie(server, phoenix_sockets, signed_in):
    user, cookie = signed_in
    socket = browser_socket(phoenix_sockets, server, origin=PARTNER, cookie=cookie)

    assert_reads_own_notifications(socket, user)


def test_a_native_client_sends_no_origin_and_signs_in_with_a_token(server, phoenix_sockets, cast):
    socket = phoenix_sockets.open("phone", websocket_url=server.websocket_url, apikey=cast.customer_a.apikey)

    assert_reads_own_notifications(socket, cast.customer_a.user)
