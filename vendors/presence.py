"""Which shops have a vendor portal tab connected, from the socket layer's presence.

Every signed-in socket is tracked on `realtime:online` under its user id,
with the portal it was opened from (`?portal=vendor`). Presence answers
"who is here now", not "since when was nobody here": the heartbeat sweep
(timed.py) asks this once a minute and keeps the answer per shop in
VendorPortalPresence.
"""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from realtime.socket.channels import ONLINE, topic_group
from realtime.socket.presence import PresenceEntry, as_diff, presence_store

from .models import VendorStaff

VENDOR_PORTAL = "vendor"


async def _online_entries() -> list[PresenceEntry]:
    live, lapsed = await presence_store().entries(ONLINE)
    if lapsed:
        # Reading removes the entries of sockets whose process died; the reader that removed them
        # owes the admins watching realtime:online their leaves.
        await get_channel_layer().group_send(
            topic_group(ONLINE), {"type": "realtime.presence", "topic": ONLINE, "diff": as_diff(leaves=lapsed)}
        )
    return live


def _user_id(entry: PresenceEntry) -> int | None:
    try:
        return int(entry.meta.get("user_id", entry.key))
    except (TypeError, ValueError):
        return None


def vendor_ids_with_portal_open() -> set[int]:
    """The active shops with at least one vendor portal tab connected right now, in any server process."""
    user_ids = {
        user_id
        for entry in async_to_sync(_online_entries)()
        if entry.meta.get("portal") == VENDOR_PORTAL and (user_id := _user_id(entry)) is not None
    }
    if not user_ids:
        return set()
    # The membership, not the socket's own word, says which shop a user's tab belongs to.
    return set(
        VendorStaff.objects.filter(user_id__in=user_ids, vendor__is_active=True).values_list("vendor_id", flat=True)
    )
