"""Who may see which row, written from the marketplace's rules (docs/domain.md), never from the
publication's policies or the selectors: the oracle the authorization and isolation tests judge
the running system by.

A reader is described by what the rules need: who they are, which active shops they work for,
whether they run the platform.
"""

from dataclasses import dataclass
from functools import cache

from orders.models import Order
from support.models import Conversation, EmailThread
from vendors.models import VendorStaff


@dataclass(frozen=True)
class Reader:
    user_id: int | None
    vendor_ids: frozenset[int]
    is_admin: bool

    def is_user(self, user_id) -> bool:
        return self.user_id is not None and self.user_id == user_id

    def works_for(self, vendor_id) -> bool:
        return vendor_id in self.vendor_ids


ANONYMOUS = Reader(None, frozenset(), False)


def reader_of(user, *, inactive_shops=frozenset()) -> Reader:
    """A suspended shop's team reads none of its rows: pass the shops that are suspended."""
    if user is None:
        return ANONYMOUS
    shops = set(VendorStaff.objects.filter(user=user).values_list("vendor_id", flat=True)) - set(inactive_shops)
    return Reader(user.pk, frozenset(shops), user.is_staff)


# The parties to an order, conversation or thread never change, so they are read once each.
@cache
def order_parties(order_id) -> tuple[int, int]:
    return tuple(Order.objects.values_list("customer_id", "vendor_id").get(pk=order_id))


@cache
def conversation_parties(conversation_id) -> tuple[int, int]:
    return tuple(Conversation.objects.values_list("customer_id", "vendor_id").get(pk=conversation_id))


@cache
def attachment_conversation(message_id) -> int:
    return Conversation.objects.values_list("pk", flat=True).get(messages__id=message_id)


@cache
def thread_customer(thread_id) -> int | None:
    return EmailThread.objects.values_list("customer_id", flat=True).get(pk=thread_id)


def forget_parties():
    """Ids are reused once a test's tables are emptied: call between tests."""
    for lookup in (order_parties, conversation_parties, attachment_conversation, thread_customer):
        lookup.cache_clear()


def _parties(table: str, row: dict) -> tuple[int | None, int | None]:
    if table in ("orders", "conversations"):
        return row["customer_id"], row["vendor_id"]
    if table in ("order_items", "order_notes"):
        return order_parties(row["order_id"])
    if table == "messages":
        return conversation_parties(row["conversation_id"])
    if table == "message_attachments":
        return conversation_parties(attachment_conversation(row["message_id"]))
    return None, None


def may_see_row(reader: Reader, table: str, row: dict) -> bool:
    """The marketplace's visibility rules, one per table."""
    customer_id, vendor_id = _parties(table, row)
    match table:
        case "orders" | "order_items" | "conversations" | "messages" | "message_attachments":
            # The two parties to the sale and the platform team.
            return reader.is_user(customer_id) or reader.works_for(vendor_id) or reader.is_admin
        case "order_notes":
            # The shop's team and the platform; the customer too when the note is meant for them.
            customer_may_read = not row["is_internal"] and reader.is_user(customer_id)
            return customer_may_read or reader.works_for(vendor_id) or reader.is_admin
        case "products":
            # The catalogue is public; an unlisted product only concerns its shop and the platform.
            return row["is_active"] or reader.works_for(row["vendor_id"]) or reader.is_admin
        case "vendors":
            return row["is_active"] or reader.works_for(row["id"]) or reader.is_admin
        case "reviews":
            return True
        case "cart_items" | "notifications":
            # Private to their owner, not even the platform team reads them live.
            return reader.is_user(row["user_id"])
        case "profiles":
            return reader.is_user(row["user_id"]) or reader.is_admin
        case "vendor_applications":
            return reader.is_user(row["applicant_id"]) or reader.is_admin
        case "inventory_alerts":
            return reader.works_for(row["vendor_id"]) or reader.is_admin
        case "email_threads":
            return reader.is_user(row["customer_id"]) or reader.is_admin
        case "email_messages":
            return reader.is_user(thread_customer(row["thread_id"])) or reader.is_admin
        case "email_thread_notes":
            # The support team's notes to each other: never the customer's, whoever the thread is about.
            return reader.is_admin
        case "admin_activity":
            # The platform team's own log of what it did.
            return reader.is_admin
    raise AssertionError(f"no visibility rule for {table}")


def may_see(reader: Reader, table: str, record: dict | None, old_record: dict | None) -> bool:
    """An update is owed to whoever could see the row before or after it (so a row that
    is hidden tells those who saw it); an insert or delete to whoever can see the row."""
    return any(may_see_row(reader, table, row) for row in (record, old_record) if row)
