"""A socket's joined channels: the join config, checked, and the state kept per channel."""

import hashlib
import uuid
from dataclasses import dataclass, field

from realtime.protocol.filters import Binding, BindingError, parse_bindings
from realtime.protocol.framing import MAX_FIELD_BYTES
from realtime.socket.identity import Identity
from zora.collisions import DASHBOARD_TOPIC_PREFIX

TOPIC_PREFIX = "realtime:"
ANNOUNCEMENTS = "realtime:announcements"
ONLINE = "realtime:online"


class JoinRefused(ValueError):
    """A join the server refuses; the message is the reply's `reason`."""


def topic_group(topic: str) -> str:
    """The channel-layer group of a topic's broadcasts and presence diffs (group names allow
    only a few ASCII characters, topics any text)."""
    return "rt-topic." + hashlib.sha256(topic.encode()).hexdigest()[:40]


def check_topic(topic: str) -> None:
    if not topic.startswith(TOPIC_PREFIX) or topic == TOPIC_PREFIX:
        raise JoinRefused(f"unknown topic {topic!r}: channel topics are realtime:<name>")
    if len(topic.encode()) > MAX_FIELD_BYTES:
        raise JoinRefused(f"topic is longer than {MAX_FIELD_BYTES} bytes")


def refusal_for(topic: str, *, private: bool, identity: Identity) -> str | None:
    """Why `identity` may not be on the channel, or None when it may."""
    if topic == ONLINE and not identity.is_admin:
        return f"{ONLINE} shows who is connected and is open to platform admins only"
    if topic.startswith(DASHBOARD_TOPIC_PREFIX) and not identity.is_admin:
        return f"{DASHBOARD_TOPIC_PREFIX}* topics show which admin is on which page: platform admins only"
    if private and not identity.is_authenticated:
        return "private channels need a signed-in user: connect with an API token or pass access_token"
    return None


def _flag(section: dict, name: str, where: str) -> bool:
    value = section.get(name, False)
    if not isinstance(value, bool):
        raise JoinRefused(f"config.{where}.{name} must be true or false")
    return value


def _section(config: dict, name: str) -> dict:
    section = config.get(name)
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise JoinRefused(f"config.{name} must be an object")
    return section


@dataclass
class JoinedChannel:
    topic: str
    join_ref: str | None
    bindings: list[Binding]
    broadcast_self: bool
    broadcast_ack: bool
    presence_key: str
    presence_enabled: bool
    private: bool
    since: int | None
    # The user the channel was authorized for (None: anonymous).
    joined_as: object | None = None
    # Live events up to this seq are not the channel's: they came before its join, or through its replay.
    live_after: int = 0
    tracked: bool = field(default=False)

    @property
    def name(self) -> str:
        return self.topic.removeprefix(TOPIC_PREFIX)

    @property
    def tables(self) -> list[str] | None:
        """The tables the bindings read, None when one of them reads every table."""
        tables = {binding.table for binding in self.bindings}
        return None if None in tables else sorted(tables)


def parse_join(topic: str, join_ref, payload: dict, *, next_binding_id) -> JoinedChannel:
    check_topic(topic)
    config = payload.get("config") or {}
    if not isinstance(config, dict):
        raise JoinRefused("config must be an object")
    broadcast = _section(config, "broadcast")
    presence = _section(config, "presence")
    presence_key = presence.get("key") or str(uuid.uuid4())
    if not isinstance(presence_key, str):
        raise JoinRefused("config.presence.key must be a string")
    private = config.get("private", False)
    if not isinstance(private, bool):
        raise JoinRefused("config.private must be true or false")
    since = config.get("since")
    if since is not None and (isinstance(since, bool) or not isinstance(since, int) or since < 0):
        raise JoinRefused("config.since must be the last seq the client saw (an integer, 0 or more)")
    try:
        bindings = parse_bindings(config.get("postgres_changes"), next_id=next_binding_id)
    except BindingError as error:
        raise JoinRefused(str(error)) from None
    return JoinedChannel(
        topic=topic,
        join_ref=join_ref,
        bindings=bindings,
        broadcast_self=_flag(broadcast, "self", "broadcast"),
        broadcast_ack=_flag(broadcast, "ack", "broadcast"),
        presence_key=presence_key,
        presence_enabled=_flag(presence, "enabled", "presence"),
        private=private,
        since=since,
    )
