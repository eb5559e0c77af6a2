"""Hostile frames and paths against a real daphne: every bad frame gets an error reply that names what
was wrong, or a documented close code, and never an error inside the server.

Frames come in both JSON framings (vsn 1.0.0 objects, 2.0.0 arrays) and as 2.0.0 binary broadcast
pushes: joins with random configs and postgres_changes filters, access tokens, presence, broadcasts,
heartbeats, envelopes of the wrong shape, and texts that are not quite JSON (see fuzzing.py). Each
example opens its own socket, so a failure replays alone. After its frames the socket must answer a
heartbeat: an error reply never costs a client its socket.

The server's log is read after each example: a traceback there fails the example even when the
client saw nothing wrong.
"""

import json
import struct
from contextlib import ExitStack
from urllib.parse import parse_qs, quote, urlencode

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from catalog.models import Product
from realtime.protocol.filters import OPERATORS
from realtime.publication import TABLES
from tests.reliability.fuzzing import dumps, fuzz, hostile_json, hostile_numbers, hostile_strings, not_quite_json

pytest_plugins = ["tests.live.plugin"]
pytestmark = [pytest.mark.reliability, pytest.mark.live, pytest.mark.django_db(transaction=True)]

REPLY_TIMEOUT = 10.0
MAX_FRAME_BYTES = 64 * 1024
# docs/realtime.md, "Refusals and limits": what a client may be closed with for what it sent.
CLOSE_BAD_APIKEY = 4001
CLOSE_TOO_BIG = 4009
CLOSE_NO_ENDPOINT = 4004
CLOSE_BAD_VSN = 4000
HEARTBEAT_REF = "heartbeat-after"


def _strict_json(text: str):
    """What the server sends must be JSON any client parses: no NaN or Infinity literals."""

    def refuse(name):
        raise AssertionError(f"the server sent the non-JSON literal {name}: {text[:300]}")

    return json.loads(text, parse_constant=refuse)


class Session:
    """One socket's frames, read until the heartbeat after them is answered or the socket closes."""

    def __init__(self, url: str, vsn: str):
        self.vsn = vsn
        self._exit_stack = ExitStack()
        self.connection = self._exit_stack.enter_context(connect(url, open_timeout=REPLY_TIMEOUT, max_size=None))
        self.replies: list[dict] = []
        self.close_code: int | None = None

    def send(self, frame: str | bytes) -> None:
        try:
            self.connection.send(frame)
        except ConnectionClosed:
            pass  # read_until_heartbeat reports the close

    def envelope(self, topic, event, payload, *, ref, join_ref=None) -> str:
        if self.vsn == "1.0.0":
            return dumps({"topic": topic, "event": event, "payload": payload, "ref": ref, "join_ref": join_ref})
        return dumps([join_ref, ref, topic, event, payload])

    def next_message(self) -> dict | None:
        """The next frame as {topic, event, payload, ref, join_ref}; None for a broadcast's binary frame."""
        frame = self.connection.recv(timeout=REPLY_TIMEOUT)
        if isinstance(frame, bytes):
            assert self.vsn == "2.0.0" and frame[0] == 4, f"unexpected binary frame {frame[:40]!r}"
            topic_size, event_size, meta_size, encoding = struct.unpack("4B", frame[1:5])
            body = frame[5 + topic_size + event_size + meta_size :]
            if encoding == 1:
                _strict_json(body.decode())
            return None
        decoded = _strict_json(frame)
        if self.vsn == "1.0.0":
            return decoded
        join_ref, ref, topic, event, payload = decoded
        return {"join_ref": join_ref, "ref": ref, "topic": topic, "event": event, "payload": payload}

    def read_until_heartbeat(self) -> bool:
        """Sends a heartbeat and reads up to its reply; False when the socket closed first."""
        self.send(self.envelope("phoenix", "heartbeat", {}, ref=HEARTBEAT_REF))
        try:
            while True:
                message = self.next_message()
                if message is None or message["event"] != "phx_reply":
                    continue
                self.replies.append(message)
                if message["ref"] == HEARTBEAT_REF and message["topic"] == "phoenix":
                    assert message["payload"] == {"status": "ok", "response": {}}, message
                    return True
        except ConnectionClosed as closed:
            self.close_code = closed.rcvd.code if closed.rcvd else None
            return False

    def close(self):
        self._exit_stack.close()


def assert_errors_name_what_was_wrong(session: Session) -> None:
    for reply in session.replies:
        payload = reply["payload"]
        assert payload["status"] in ("ok", "error"), reply
        if payload["status"] == "error":
            reason = payload["response"]["reason"]
            assert isinstance(reason, str) and reason.strip(), reply
            # The consumer's last resort when handling a frame raised: a traceback in the log, no rule named.
            assert reason != "internal error", reply


def assert_no_traceback(server, since: int) -> None:
    log = server.log(since=since)
    assert "Traceback" not in log, log[-5000:]


# ------------------------------------------------------------------ frames

TOPIC = "realtime:fuzz"
topics = st.one_of(
    st.sampled_from(
        [TOPIC, TOPIC, "phoenix", "realtime:", "realtime:announcements", "realtime:online", "realtime:dashboard:x"]
    ),
    hostile_strings.map(lambda name: "realtime:" + name),
    hostile_strings,
)
maybe_hostile = st.booleans().flatmap(lambda hostile: hostile_json if hostile else st.booleans())


# Values that are almost of a column's type: what a filter's value is compared as (realtime/protocol/filters.py).
_NUMBERS = st.sampled_from(
    ["NaN", "-NaN", "sNaN", "nan", "Infinity", "-inf", "1e999999999", "-0", "1_0", "0x10", "3.20"]
)
_TYPED_VALUES = {
    **dict.fromkeys(("int2", "int4", "int8", "numeric", "float4", "float8"), _NUMBERS | hostile_numbers.map(str)),
    "bool": st.sampled_from(["true", "f", "TRUE", "yes", "1", ""]),
    "timestamptz": st.sampled_from(
        [
            "2025-01-01T00:00:00Z",
            "2025-01-01",
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+23:59",
            "2025-13-45T99:99",
        ]
    ),
}


@st.composite
def filter_strings(draw, table: str | None, *, well_formed: bool = False):
    """`column=op.value`; `well_formed`: a real column and operator, so only the value is hostile."""
    columns = TABLES[table].columns if table in TABLES else {"id": "int8", "name": "varchar"}
    names, operators = st.sampled_from(sorted(columns)), st.sampled_from(OPERATORS)
    column = draw(names if well_formed else names | hostile_strings)
    value = _TYPED_VALUES.get(columns.get(column), hostile_strings) | hostile_strings
    operator = draw(operators if well_formed else operators | hostile_strings)
    if operator == "in" and draw(st.booleans()):
        return f"{column}=in.(" + ",".join(draw(st.lists(value, min_size=1, max_size=4))) + ")"
    return f"{column}={operator}.{draw(value)}"


# Bindings a join accepts unless the filter's value is refused: what reaches matching against live events.
live_bindings = st.fixed_dictionaries(
    {
        "event": st.sampled_from(["*", "INSERT", "UPDATE", "update"]),
        "schema": st.just("public"),
        "table": st.just("products"),
        "filter": filter_strings("products", well_formed=True),
    }
)

table_names = st.sampled_from(sorted(TABLES)) | st.none() | hostile_strings


@st.composite
def bindings(draw, tables=table_names):
    table = draw(tables)
    binding = {
        "event": draw(st.sampled_from(["*", "INSERT", "update", "DELETE"]) | hostile_strings),
        "schema": draw(st.sampled_from(["public", "public", "auth"]) | hostile_strings),
    }
    if table is not None:
        binding["table"] = table
    if draw(st.booleans()):
        binding["filter"] = draw(filter_strings(table) | filter_strings(table) | hostile_json)
    return binding


@st.composite
def join_configs(draw):
    config = {}
    if draw(st.booleans()):
        config["broadcast"] = {"self": draw(maybe_hostile), "ack": draw(maybe_hostile)}
    if draw(st.booleans()):
        config["presence"] = {"key": draw(hostile_strings | hostile_json), "enabled": draw(maybe_hostile)}
    if draw(st.booleans()):
        config["postgres_changes"] = draw(st.lists(bindings(), max_size=3) | hostile_json)
    if draw(st.booleans()):
        config["private"] = draw(maybe_hostile)
    if draw(st.booleans()):
        config["since"] = draw(hostile_numbers | hostile_json)
    return draw(st.just(config) | hostile_json)


def _payloads(tokens):
    access_tokens = st.sampled_from(tokens) | hostile_strings | hostile_json
    return {
        "phx_join": st.fixed_dictionaries({"config": join_configs()}, optional={"access_token": access_tokens}),
        "broadcast": st.fixed_dictionaries(
            {"type": st.just("broadcast") | hostile_strings, "event": hostile_strings, "payload": hostile_json}
        ),
        "presence": st.fixed_dictionaries(
            {
                "type": st.just("presence"),
                "event": st.sampled_from(["track", "untrack"]) | hostile_strings,
                "payload": hostile_json,
            }
        ),
        "access_token": st.fixed_dictionaries({"access_token": access_tokens}),
        "heartbeat": hostile_json,
        "phx_leave": hostile_json,
    }


@st.composite
def text_frames(draw, session_vsn: str, tokens):
    """A frame in (or against) the socket's framing."""
    kind = draw(st.sampled_from(["protocol", "protocol", "protocol", "envelope", "not quite json"]))
    if kind == "not quite json":
        return draw(not_quite_json)
    payloads = _payloads(tokens)
    event = draw(st.sampled_from(sorted(payloads)) | hostile_strings)
    payload = draw(payloads.get(event, hostile_json))
    ref = draw(st.text(max_size=5) | hostile_json)
    if kind == "envelope":
        # Any field of any type, and vsn 2.0.0 arrays of any length.
        return dumps(draw(st.lists(hostile_json, max_size=6) | st.dictionaries(hostile_strings, hostile_json)))
    topic = draw(topics)
    if session_vsn == "1.0.0":
        return dumps({"topic": topic, "event": event, "payload": payload, "ref": ref, "join_ref": ref})
    return dumps([ref, ref, topic, event, payload])


@st.composite
def binary_frames(draw):
    """A vsn 2.0.0 user broadcast push, its header's lengths true or not, its payload JSON or not."""
    fields = [draw(st.text(max_size=4)), draw(st.text(max_size=4)), draw(st.just(TOPIC) | hostile_strings)]
    fields += [draw(hostile_strings), draw(st.just("") | hostile_strings)]
    encoded = [field.encode("utf-8", "surrogatepass")[:255] for field in fields]
    lengths = [len(field) for field in encoded]
    if draw(st.booleans()):
        lengths = draw(st.lists(st.integers(0, 255), min_size=5, max_size=5))
    encoding = draw(st.sampled_from([0, 1, 1]) | st.integers(0, 255))
    payload = draw(not_quite_json.map(str.encode) | hostile_json.map(lambda value: dumps(value).encode()) | st.binary())
    kind = draw(st.sampled_from([3, 3, 3]) | st.integers(0, 255))
    return bytes([kind, *lengths, encoding]) + b"".join(encoded) + payload


def _open(server, vsn: str, apikey: str) -> Session:
    return Session(f"{server.websocket_url}?{urlencode({'vsn': vsn, 'apikey': apikey})}", vsn)


def _join_ok(session: Session, *, ref: str = "join", topic: str = TOPIC, config: dict | None = None) -> dict:
    session.send(session.envelope(topic, "phx_join", {"config": config or {}}, ref=ref, join_ref=ref))
    while True:
        message = session.next_message()
        if message is not None and message["event"] == "phx_reply" and message["ref"] in (ref, None):
            # A frame refused before its ref could be read is answered on `phoenix` without one.
            return message["payload"]


@fuzz(150, 3000)
@given(data=st.data())
def test_hostile_frames_get_error_replies_and_the_socket_stays_usable(daphne_server, cast, data):
    vsn = data.draw(st.sampled_from(["1.0.0", "2.0.0"]), label="vsn")
    tokens = [actor.apikey for actor in cast.actors]
    apikey = data.draw(st.sampled_from(tokens), label="apikey")
    log_start = daphne_server.log_size()
    session = _open(daphne_server, vsn, apikey)
    try:
        if data.draw(st.booleans(), label="joined first"):
            config = {"broadcast": {"self": True, "ack": True}, "presence": {"key": "", "enabled": True}}
            assert _join_ok(session, config=config)["status"] == "ok"
        # Binary frames on a vsn 1.0.0 socket too: they are refused there with a reply naming vsn 2.0.0.
        frames = st.one_of(text_frames(vsn, tokens), text_frames(vsn, tokens), binary_frames())
        sent = data.draw(st.lists(frames, min_size=1, max_size=3), label="frames")
        for frame in sent:
            session.send(frame)
        oversized = any(len(frame if isinstance(frame, bytes) else frame.encode()) > MAX_FRAME_BYTES for frame in sent)
        if session.read_until_heartbeat():
            assert not oversized, "a frame over 64 KiB must close the socket"
        else:
            assert oversized and session.close_code == CLOSE_TOO_BIG, session.close_code
        assert_errors_name_what_was_wrong(session)
    finally:
        session.close()
    assert_no_traceback(daphne_server, log_start)


# ------------------------------------------------------------------ filters against live events


@fuzz(60, 1500)
@given(data=st.data())
def test_random_filters_are_refused_at_join_or_survive_matching_live_events(daphne_server, cast, data):
    """Each accepted filter meets a real change: a catch-all binding beside it makes sure the event is
    matched against every binding of the channel before the heartbeat is answered."""
    vsn = data.draw(st.sampled_from(["1.0.0", "2.0.0"]), label="vsn")
    fuzzed = data.draw(st.lists(live_bindings, min_size=1, max_size=2), label="bindings")
    log_start = daphne_server.log_size()
    session = _open(daphne_server, vsn, cast.anonymous.apikey)
    try:
        catch_all = {"event": "*", "schema": "public", "table": "products"}
        reply = _join_ok(session, config={"postgres_changes": [catch_all, *fuzzed]})
        event(f"join {reply['status']}")
        session.replies.append({"payload": reply})
        if reply["status"] == "ok":
            product = Product.objects.get(pk=cast.product_a.pk)
            product.stock += 1
            product.save()
            while True:
                message = session.next_message()
                if message is not None and message["event"] == "postgres_changes":
                    if message["payload"]["data"]["record"]["stock"] == product.stock:
                        break
        assert session.read_until_heartbeat(), f"closed with {session.close_code}"
        assert_errors_name_what_was_wrong(session)
    finally:
        session.close()
    assert_no_traceback(daphne_server, log_start)


# ------------------------------------------------------------------ paths


path_texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
paths = st.one_of(
    st.sampled_from(
        [
            "/",
            "/realtime",
            "/realtime/v1",
            "/realtime/v1/websocket",
            "/realtime/v1/websocket/",
            "/realtime/v1/websocket/x",
            "/realtime/v1//websocket",
            "/realtime/v2/websocket",
            "/api/v1/products",
            "/admin/",
            "//",
        ]
    ),
    path_texts.map(lambda text: "/realtime/" + text),
    path_texts.map(lambda text: "/" + text),
)
query_parameters = st.lists(
    st.tuples(
        st.sampled_from(["vsn", "apikey", "portal"]) | path_texts, path_texts | st.sampled_from(["1.0.0", "2.0.0"])
    ),
    max_size=4,
)


@fuzz(60, 1500)
@given(path=paths, query=query_parameters, with_public_key=st.booleans())
def test_any_path_gets_a_documented_answer(daphne_server, cast, path, query, with_public_key):
    """The endpoint answers or closes with 4000/4001; any other path closes with 4004; nothing is a 500."""
    if with_public_key:
        query = [*query, ("apikey", cast.anonymous.apikey)]
    url = daphne_server.base_url.replace("http", "ws", 1) + quote(path, safe="/") + "?" + urlencode(query)
    log_start = daphne_server.log_size()
    try:
        # The framing the server reads the query as using (the last vsn given, 1.0.0 when none is).
        session = Session(url, parse_qs(urlencode(query)).get("vsn", ["1.0.0"])[-1])
    except InvalidStatus as refused:
        assert refused.response.status_code < 500, refused
    else:
        try:
            answered = session.read_until_heartbeat()
        finally:
            session.close()
        endpoint = quote(path, safe="/") == "/realtime/v1/websocket"
        if not endpoint:
            assert session.close_code == CLOSE_NO_ENDPOINT, session.close_code
        elif not answered:
            assert session.close_code in (CLOSE_BAD_VSN, CLOSE_BAD_APIKEY), session.close_code
    assert_no_traceback(daphne_server, log_start)
