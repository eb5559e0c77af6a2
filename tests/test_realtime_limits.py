"""The socket's limits, through the real server: each refusal reaches the client as a close code it
can act on, and none of them is an error inside the server. (daphne sends no close reasons; uvicorn
does, so the reason is checked where it arrives.)"""

import pytest

pytest_plugins = ["tests.live.plugin"]
pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def _heartbeat_burst(socket, count: int) -> None:
    for _ in range(count):
        socket.push("phoenix", "heartbeat", {})


@pytest.mark.parametrize(
    ("abuse", "expected_code", "reason_names"),
    [
        (lambda socket: socket.push("phoenix", "heartbeat", {"padding": "x" * 70_000}), 4009, "65536 bytes"),
        (lambda socket: _heartbeat_burst(socket, 400), 4008, "frames a second"),
    ],
    ids=["oversized frame", "flood"],
)
def test_an_abusive_client_is_closed_with_a_code_and_reason_and_the_server_logs_no_error(
    daphne_server, phoenix_sockets, cast, abuse, expected_code, reason_names
):
    log_start = daphne_server.log_size()
    socket = phoenix_sockets.open("abuser", websocket_url=daphne_server.websocket_url, apikey=cast.customer_a.apikey)
    abuse(socket)
    code, reason = socket.close_frame(timeout=10)
    assert code == expected_code
    assert reason_names in reason or reason == ""
    log = daphne_server.log(since=log_start)
    assert "Traceback" not in log, log
