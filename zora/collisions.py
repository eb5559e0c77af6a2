"""Who else is on an object's dashboard page: the presence topic each detail page joins.

Each admin on the page tracks themselves on the object's topic (name, user id,
viewing or editing), so the others see them live; the socket lets only platform
admins join these topics. Presence tells people before they act; the stale
version check (zora/versions.py) refuses what still collides.
"""

DASHBOARD_TOPIC_PREFIX = "realtime:dashboard:"


def presence_topic(obj) -> str:
    """One topic per object, e.g. realtime:dashboard:vendors.vendorapplication:12."""
    return f"{DASHBOARD_TOPIC_PREFIX}{obj._meta.label_lower}:{obj.pk}"


def queue_presence_topic(model) -> str:
    """One topic for a page that acts on many objects of a kind at once (the product moderation
    queue), where a topic per row would be a join per row: realtime:dashboard:catalog.product:queue."""
    return f"{DASHBOARD_TOPIC_PREFIX}{model._meta.label_lower}:queue"
