"""Phoenix Channels framing, as the Supabase Realtime clients speak it.

`vsn=1.0.0` frames are JSON objects `{topic, event, payload, ref, join_ref}`;
`vsn=2.0.0` frames are JSON arrays `[join_ref, ref, topic, event, payload]`
plus two binary frames for user broadcasts (laid out in realtime-js's
`lib/serializer.js`):

    kind 3, client -> server (user broadcast push):
        u8 kind, u8 join_ref_len, u8 ref_len, u8 topic_len, u8 event_len,
        u8 metadata_len, u8 encoding, join_ref, ref, topic, event, metadata, payload
    kind 4, server -> client (user broadcast):
        u8 kind, u8 topic_len, u8 event_len, u8 metadata_len, u8 encoding,
        topic, event, metadata, payload

`encoding` is 1 for a JSON payload and 0 for raw bytes. Outgoing payloads are
passed in as JSON text, so a change event's pre-encoded `data` is spliced into
each socket's frame instead of being encoded again per socket.

Incoming JSON is read strictly (`loads`, `check_portable`): what a client sends may be passed on
to other clients (broadcasts, presence metas) or stored (presence), so it must
be JSON that every client can parse back, and shallow enough that nothing
reading it later runs out of stack.
"""

import json
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from zora.json_input import unportable_part

VSN_1 = "1.0.0"
VSN_2 = "2.0.0"
SUPPORTED_VSNS = (VSN_1, VSN_2)

USER_BROADCAST_PUSH = 3
USER_BROADCAST = 4
BINARY_ENCODING = 0
JSON_ENCODING = 1
_PUSH_HEADER_LENGTH = 7
MAX_FIELD_BYTES = 255
# A frame's JSON (envelope included) may nest this deep; realtime-js frames need 6 levels.
MAX_JSON_DEPTH = 32
# Python's own limit on converting digits to an integer (sys.get_int_max_str_digits()).
MAX_INTEGER_DIGITS = 4300


class FrameError(ValueError):
    """A frame that cannot be decoded; `ref` and `topic` are set when they could be read."""

    def __init__(self, message: str, *, ref=None, join_ref=None, topic: str | None = None):
        super().__init__(message)
        self.ref = ref
        self.join_ref = join_ref
        self.topic = topic


@dataclass(frozen=True)
class ClientFrame:
    join_ref: str | None
    ref: str | None
    topic: str
    event: str
    payload: Any


@dataclass(frozen=True)
class BroadcastPush:
    """A user broadcast: `payload_json` is JSON text, or `payload_bytes` raw bytes (vsn 2.0.0 only)."""

    event: str
    payload_json: str | None
    payload_bytes: bytes | None = None
    meta: str = ""

    @classmethod
    def from_json_payload(cls, payload: dict) -> "BroadcastPush":
        """The broadcast inside a text frame's `{type: broadcast, event, payload}`."""
        event = payload.get("event")
        if not isinstance(event, str) or not event:
            raise FrameError("broadcast needs an `event` name (a non-empty string)")
        if len(event.encode()) > MAX_FIELD_BYTES:
            raise FrameError(f"broadcast `event` is longer than {MAX_FIELD_BYTES} bytes")
        return cls(event=event, payload_json=dumps(payload.get("payload", {})))

    def as_json_object_text(self) -> str:
        return '{"type":"broadcast","event":' + dumps(self.event) + ',"payload":' + self.payload_json + "}"


def dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"))


class _Unportable(ValueError):
    """Text that Python's json module reads but that is not JSON every client can read back."""


def _no_constant(name: str):
    raise _Unportable(f"holds {name}, which is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _Unportable(f"holds the number {text[:40]}, too large for a 64-bit float")
    return value


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise _Unportable(f"holds an integer of more than {MAX_INTEGER_DIGITS} digits")
    return int(text)


def loads(text: str, what: str, **where):
    """`text` decoded as JSON; refused with a FrameError (at `where`: ref, join_ref, topic) naming
    `what` and the rule when it is not JSON or holds NaN, an infinite number or an integer too long
    to convert. `check_portable` is the rest of the rules."""
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float, parse_int=_integer)
    except json.JSONDecodeError as error:
        raise FrameError(f"{what} is not valid JSON ({error.msg})", **where) from None
    except _Unportable as error:
        raise FrameError(f"{what} {error}", **where) from None
    except RecursionError:
        raise FrameError(f"{what} nests deeper than {MAX_JSON_DEPTH} levels", **where) from None


def check_portable(value, what: str, **where) -> None:
    """Refuses decoded JSON nested deeper than MAX_JSON_DEPTH or holding a lone surrogate: checked
    once the frame's refs and topic are read, so the error reply can carry them."""
    found = unportable_part(value, max_depth=MAX_JSON_DEPTH)
    if found:
        path, why = found
        raise FrameError(f"{what} {why}" + (f" (at {path})" if path else ""), **where)


def _ref(value, name: str):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise FrameError(f"`{name}` must be a string or null")


def _checked(join_ref, ref, topic, event, payload) -> ClientFrame:
    ref = _ref(ref, "ref")
    join_ref = _ref(join_ref, "join_ref")
    if not isinstance(topic, str) or not topic:
        raise FrameError("`topic` must be a non-empty string", ref=ref, join_ref=join_ref)
    if not isinstance(event, str) or not event:
        raise FrameError("`event` must be a non-empty string", ref=ref, join_ref=join_ref, topic=topic)
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise FrameError("`payload` must be a JSON object", ref=ref, join_ref=join_ref, topic=topic)
    return ClientFrame(join_ref=join_ref, ref=ref, topic=topic, event=event, payload=payload)


class Serializer(ABC):
    vsn: str

    def decode_text(self, text: str) -> ClientFrame:
        message = loads(text, "the frame")
        frame = self._decode_message(message)
        check_portable(message, "the frame", ref=frame.ref, join_ref=frame.join_ref, topic=frame.topic)
        return frame

    @abstractmethod
    def _decode_message(self, message) -> ClientFrame: ...

    def decode_binary(self, data: bytes) -> tuple[ClientFrame, BroadcastPush]:
        raise FrameError(f"binary frames need vsn={VSN_2}")

    @abstractmethod
    def encode(self, *, join_ref, ref, topic: str, event: str, payload_text: str) -> str: ...

    @abstractmethod
    def encode_broadcast(self, *, join_ref, topic: str, broadcast: BroadcastPush) -> str | bytes | None:
        """The frame carrying a user broadcast, or None when this version cannot carry it."""


class JsonObjectSerializer(Serializer):
    vsn = VSN_1

    def _decode_message(self, message) -> ClientFrame:
        if not isinstance(message, dict):
            raise FrameError(f"vsn {VSN_1} frames are JSON objects {{topic, event, payload, ref, join_ref}}")
        return _checked(
            message.get("join_ref"),
            message.get("ref"),
            message.get("topic"),
            message.get("event"),
            message.get("payload"),
        )

    def encode(self, *, join_ref, ref, topic, event, payload_text):
        return (
            '{"topic":'
            + dumps(topic)
            + ',"event":'
            + dumps(event)
            + ',"payload":'
            + payload_text
            + ',"ref":'
            + dumps(ref)
            + ',"join_ref":'
            + dumps(join_ref)
            + "}"
        )

    def encode_broadcast(self, *, join_ref, topic, broadcast):
        if broadcast.payload_json is None:
            return None
        return self.encode(
            join_ref=join_ref, ref=None, topic=topic, event="broadcast", payload_text=broadcast.as_json_object_text()
        )


class JsonArraySerializer(Serializer):
    vsn = VSN_2

    def _decode_message(self, message) -> ClientFrame:
        if not isinstance(message, list) or len(message) != 5:
            raise FrameError(f"vsn {VSN_2} frames are JSON arrays [join_ref, ref, topic, event, payload]")
        return _checked(*message)

    def encode(self, *, join_ref, ref, topic, event, payload_text):
        return (
            "["
            + dumps(join_ref)
            + ","
            + dumps(ref)
            + ","
            + dumps(topic)
            + ","
            + dumps(event)
            + ","
            + payload_text
            + "]"
        )

    def decode_binary(self, data: bytes) -> tuple[ClientFrame, BroadcastPush]:
        if not data or data[0] != USER_BROADCAST_PUSH:
            raise FrameError(
                f"the only binary frame a client may send is a user broadcast push (kind {USER_BROADCAST_PUSH})"
            )
        if len(data) < _PUSH_HEADER_LENGTH:
            raise FrameError("the binary frame is shorter than its header")
        lengths = data[1:6]
        encoding = data[6]
        end = _PUSH_HEADER_LENGTH + sum(lengths)
        if len(data) < end:
            raise FrameError("the binary frame is shorter than the lengths in its header")
        fields, offset = [], _PUSH_HEADER_LENGTH
        for length in lengths:
            try:
                fields.append(data[offset : offset + length].decode())
            except UnicodeDecodeError:
                raise FrameError("the binary frame's header fields are not UTF-8") from None
            offset += length
        join_ref, ref, topic, event, meta = fields
        frame = _checked(join_ref or None, ref or None, topic, "broadcast", {})
        if not event:
            raise FrameError("broadcast needs an `event` name", ref=frame.ref, join_ref=frame.join_ref, topic=topic)
        body = data[end:]
        where = {"ref": frame.ref, "join_ref": frame.join_ref, "topic": topic}
        if meta:
            check_portable(loads(meta, "broadcast metadata", **where), "broadcast metadata", **where)
        if encoding == JSON_ENCODING:
            try:
                text = body.decode()
            except UnicodeDecodeError:
                raise FrameError("broadcast payload marked JSON is not UTF-8", **where) from None
            payload = loads(text, "broadcast payload marked JSON", **where)
            check_portable(payload, "broadcast payload marked JSON", **where)
            return frame, BroadcastPush(event=event, payload_json=dumps(payload), meta=meta)
        if encoding == BINARY_ENCODING:
            return frame, BroadcastPush(event=event, payload_json=None, payload_bytes=bytes(body), meta=meta)
        raise FrameError(f"unknown broadcast payload encoding {encoding}", **where)

    def encode_broadcast(self, *, join_ref, topic, broadcast):
        # Joins refuse topics over 255 bytes and pushes check event and metadata, so the lengths fit a byte.
        topic_bytes, event_bytes, meta_bytes = topic.encode(), broadcast.event.encode(), broadcast.meta.encode()
        if broadcast.payload_bytes is not None:
            encoding, body = BINARY_ENCODING, broadcast.payload_bytes
        else:
            encoding, body = JSON_ENCODING, broadcast.payload_json.encode()
        header = bytes((USER_BROADCAST, len(topic_bytes), len(event_bytes), len(meta_bytes), encoding))
        return header + topic_bytes + event_bytes + meta_bytes + body


SERIALIZERS: dict[str, Serializer] = {VSN_1: JsonObjectSerializer(), VSN_2: JsonArraySerializer()}
