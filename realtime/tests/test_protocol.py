"""Framing: the bytes realtime-js 1.0.0/2.0.0 clients send and expect."""

import json
import re

import pytest

from realtime.protocol.framing import SERIALIZERS, BroadcastPush, FrameError
from realtime.tests.socket_client import decode_user_broadcast, encode_user_broadcast_push

V1, V2 = SERIALIZERS["1.0.0"], SERIALIZERS["2.0.0"]


def test_vsn1_frames_are_json_objects_both_ways():
    frame = V1.decode_text('{"topic":"realtime:a","event":"phx_join","payload":{"config":{}},"ref":"1","join_ref":"1"}')
    assert (frame.topic, frame.event, frame.payload, frame.ref, frame.join_ref) == (
        "realtime:a",
        "phx_join",
        {"config": {}},
        "1",
        "1",
    )
    text = V1.encode(join_ref="1", ref="2", topic="realtime:a", event="phx_reply", payload_text='{"status":"ok"}')
    assert json.loads(text) == {
        "topic": "realtime:a",
        "event": "phx_reply",
        "payload": {"status": "ok"},
        "ref": "2",
        "join_ref": "1",
    }


def test_vsn2_frames_are_json_arrays_both_ways():
    frame = V2.decode_text('["1","2","realtime:a","broadcast",{"type":"broadcast","event":"e","payload":{}}]')
    assert (frame.join_ref, frame.ref, frame.topic, frame.event) == ("1", "2", "realtime:a", "broadcast")
    text = V2.encode(join_ref=None, ref="3", topic="phoenix", event="phx_reply", payload_text='{"status":"ok"}')
    assert json.loads(text) == [None, "3", "phoenix", "phx_reply", {"status": "ok"}]


def test_spliced_payload_text_is_kept_verbatim():
    data = '{"schema":"public","seq":7,"record":{"total":"9.50"}}'
    text = V2.encode(join_ref="1", ref=None, topic="realtime:a", event="postgres_changes", payload_text=data)
    assert text.endswith(',"postgres_changes",' + data + "]")


@pytest.mark.parametrize(
    ("serializer", "text", "complaint"),
    [
        (V1, "{not json", "not valid JSON"),
        (V1, '["1","1","realtime:a","phx_join",{}]', "JSON objects"),
        (V2, '{"topic":"realtime:a"}', "JSON arrays"),
        (V2, '["1","1","realtime:a","phx_join"]', "JSON arrays"),
        (V2, '["1","1","","phx_join",{}]', "topic"),
        (V2, '["1","1","realtime:a",5,{}]', "event"),
        (V2, '["1","1","realtime:a","phx_join",[1]]', "payload"),
        (V2, '["1",{"x":1},"realtime:a","phx_join",{}]', "ref"),
    ],
)
def test_malformed_frames_are_refused_with_the_rule_they_break(serializer, text, complaint):
    with pytest.raises(FrameError, match=complaint):
        serializer.decode_text(text)


def test_a_refused_frame_keeps_the_ref_it_could_read():
    with pytest.raises(FrameError) as caught:
        V2.decode_text('["4","5","realtime:a","phx_join",[1]]')
    assert (caught.value.ref, caught.value.join_ref, caught.value.topic) == ("5", "4", "realtime:a")


def test_binary_user_broadcast_push_with_a_json_payload():
    data = encode_user_broadcast_push(join_ref="1", ref="2", topic="realtime:room", event="cursor", payload={"x": 1})
    frame, broadcast = V2.decode_binary(data)
    assert (frame.join_ref, frame.ref, frame.topic, frame.event) == ("1", "2", "realtime:room", "broadcast")
    assert broadcast == BroadcastPush(event="cursor", payload_json='{"x":1}', payload_bytes=None, meta="")


def test_binary_user_broadcast_push_with_a_raw_payload_and_metadata():
    data = encode_user_broadcast_push(
        join_ref="1", ref="", topic="realtime:room", event="blob", payload=b"\x00\xff", binary=True, meta='{"id":"m1"}'
    )
    frame, broadcast = V2.decode_binary(data)
    assert frame.ref is None
    assert (broadcast.payload_bytes, broadcast.payload_json, broadcast.meta) == (b"\x00\xff", None, '{"id":"m1"}')


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        (b"", "user broadcast push"),
        (bytes([0, 1, 1, 1, 1]), "user broadcast push"),
        (bytes([3, 1, 1]), "shorter than its header"),
        (bytes([3, 9, 0, 0, 0, 0, 1]) + b"1", "shorter than the lengths"),
        (bytes([3, 0, 0, 0, 1, 0, 1]) + b"e" + b"{}", "topic"),
        (bytes([3, 0, 0, 1, 1, 0, 1]) + b"\xffe" + b"{}", "UTF-8"),
        (bytes([3, 0, 0, 11, 1, 0, 7]) + b"realtime:ae" + b"x", "unknown broadcast payload encoding"),
        (bytes([3, 0, 0, 11, 1, 0, 1]) + b"realtime:ae" + b"{oops", "not valid JSON"),
        (bytes([3, 0, 0, 11, 0, 0, 1]) + b"realtime:a" + b"{}", "event"),
    ],
)
def test_malformed_binary_frames_are_refused(data, complaint):
    with pytest.raises(FrameError, match=complaint):
        V2.decode_binary(data)


def test_vsn1_sockets_cannot_send_binary_frames():
    with pytest.raises(FrameError, match="vsn=2.0.0"):
        V1.decode_binary(encode_user_broadcast_push(join_ref="1", ref="2", topic="realtime:a", event="e", payload={}))


def test_server_user_broadcast_is_the_layout_realtime_js_decodes():
    broadcast = BroadcastPush(event="cursor", payload_json='{"x":1}', meta='{"id":"m"}')
    frame = V2.encode_broadcast(join_ref="1", topic="realtime:room", broadcast=broadcast)
    assert frame[:5] == bytes([4, len("realtime:room"), len("cursor"), len('{"id":"m"}'), 1])
    decoded = decode_user_broadcast(frame)
    assert decoded.topic == "realtime:room"
    assert decoded.payload == {"type": "broadcast", "event": "cursor", "payload": {"x": 1}, "meta": {"id": "m"}}


def test_raw_broadcasts_reach_vsn2_as_binary_and_are_not_sent_to_vsn1():
    broadcast = BroadcastPush(event="blob", payload_json=None, payload_bytes=b"\x01\x02")
    frame = V2.encode_broadcast(join_ref="1", topic="realtime:room", broadcast=broadcast)
    assert frame[4] == 0 and frame.endswith(b"\x01\x02")
    assert V1.encode_broadcast(join_ref="1", topic="realtime:room", broadcast=broadcast) is None


def test_vsn1_broadcasts_are_text_frames_with_the_broadcast_envelope():
    broadcast = BroadcastPush.from_json_payload({"type": "broadcast", "event": "cursor", "payload": {"x": 1}})
    frame = json.loads(V1.encode_broadcast(join_ref="7", topic="realtime:room", broadcast=broadcast))
    assert frame == {
        "topic": "realtime:room",
        "event": "broadcast",
        "ref": None,
        "join_ref": "7",
        "payload": {"type": "broadcast", "event": "cursor", "payload": {"x": 1}},
    }


@pytest.mark.parametrize("payload", [{"type": "broadcast"}, {"type": "broadcast", "event": ""}, {"event": "x" * 256}])
def test_a_broadcast_needs_a_short_event_name(payload):
    with pytest.raises(FrameError, match="event"):
        BroadcastPush.from_json_payload(payload)


# JSON that Python's decoder reads but that must not reach other clients, Redis or the stack: each was a
# 4011 close with a traceback (deep nesting, long integers) or was passed on as invalid JSON (NaN).
HOSTILE_JSON = [
    ("[" * 5000 + "]" * 5000, "nests deeper than 32 levels"),
    ('{"a":' * 40 + "1" + "}" * 40, "nests deeper than 32 levels"),
    ('{"n":' + "9" * 5000 + "}", "integer of more than 4300 digits"),
    ('{"n":NaN}', "NaN, which is not a JSON number"),
    ('{"n":-Infinity}', "-Infinity, which is not a JSON number"),
    ('{"n":1e999}', "too large for a 64-bit float"),
    ('{"s":"\\ud800"}', "lone UTF-16 surrogate (U+D800)"),
    ('{"\\udfff":1}', "lone UTF-16 surrogate (U+DFFF)"),
]


@pytest.mark.parametrize(("payload", "complaint"), HOSTILE_JSON)
@pytest.mark.parametrize("serializer", [V1, V2])
def test_unportable_json_in_a_text_frame_is_refused_with_the_rule(serializer, payload, complaint):
    envelope = (
        '{"topic":"realtime:a","event":"broadcast","ref":"1","payload":%s}'
        if serializer is V1
        else '["1","1","realtime:a","broadcast",%s]'
    )
    with pytest.raises(FrameError, match=re.escape(complaint)):
        serializer.decode_text(envelope % payload)


@pytest.mark.parametrize(("payload", "complaint"), HOSTILE_JSON)
def test_unportable_json_in_a_binary_broadcast_is_refused_with_the_rule(payload, complaint):
    data = bytes([3, 1, 1, 10, 1, 0, 1]) + b"12realtime:ae" + payload.encode()
    with pytest.raises(FrameError, match=re.escape(complaint)) as caught:
        V2.decode_binary(data)
    assert (caught.value.ref, caught.value.join_ref, caught.value.topic) == ("2", "1", "realtime:a")


def test_surrogate_pairs_and_moderate_nesting_are_fine():
    nested = "[" * 25 + "]" * 25
    frame = V1.decode_text('{"topic":"realtime:a","event":"e","payload":{"s":"\\ud83d\\ude00","n":' + nested + "}}")
    assert frame.payload["s"] == "\N{GRINNING FACE}"


def test_a_frame_refused_for_its_payload_keeps_its_ref():
    """So realtime-js pairs the refusal with its push instead of waiting for its timeout."""
    with pytest.raises(FrameError, match="lone UTF-16 surrogate") as caught:
        V1.decode_text('{"topic":"realtime:a","event":"phx_join","ref":"7","join_ref":"6","payload":{"k":"\\ud800"}}')
    assert (caught.value.ref, caught.value.join_ref, caught.value.topic) == ("7", "6", "realtime:a")
