"""Audience groups: who may see which events.

A row's audience is decided when its change is captured (publication.py);
a reader's groups are decided here. A reader sees an event exactly when the
two sets meet, which is the row-level rule of every socket and of the REST
catch-up alike.
"""

from vendors.access import active_vendor_ids

PUBLIC = "public"
STAFF = "staff"


def user_group(user_id) -> str:
    return f"user.{user_id}"


def vendor_group(vendor_id) -> str:
    return f"vendor.{vendor_id}"


def vendor_ids_of_groups(groups) -> set[int]:
    return {int(group.split(".", 1)[1]) for group in groups if group.startswith("vendor.")}


def groups_for_user(user) -> frozenset[str]:
    """Everyone reads `public`; a signed-in user in good standing also reads their own rows,
    their active vendor's rows, and everything if they are a platform admin."""
    if user is None or not user.is_authenticated or not user.is_active or user.is_suspended:
        return frozenset({PUBLIC})
    groups = {PUBLIC, user_group(user.pk)}
    groups.update(vendor_group(vendor_id) for vendor_id in active_vendor_ids(user=user))
    if user.is_staff:
        groups.add(STAFF)
    return frozenset(groups)
