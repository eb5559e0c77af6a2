"""Who sees what: every published table against every kind of reader, at the
level of the audience each captured event carries and the groups each reader
is given."""

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import AdminActivityLog
from catalog.models import InventoryAlert, Review
from orders.models import OrderNote
from realtime.models import Event
from realtime.policies import groups_for_user
from realtime.publication import TABLES, table_for_model
from support.models import EmailMessage, EmailThread, Message, ThreadNote
from tests import factories
from vendors.services import vendor_set_active, vendor_update

ROLES = ("anonymous", "customer_a", "customer_b", "vendor_a_staff", "vendor_b_staff", "admin")


@pytest.fixture
def world(db):
    """Customer A ordered from vendor A; vendor B and customer B are bystanders."""
    vendor_a, vendor_b = factories.VendorFactory(), factories.VendorFactory()
    customer_a, customer_b = factories.UserFactory(), factories.UserFactory()
    readers = {
        "anonymous": AnonymousUser(),
        "customer_a": customer_a,
        "customer_b": customer_b,
        "vendor_a_staff": factories.VendorStaffFactory(vendor=vendor_a).user,
        "vendor_b_staff": vendor_b.owner,
        "admin": factories.AdminFactory(),
    }
    return {"vendor_a": vendor_a, "customer_a": customer_a, "readers": readers}


def _order(world):
    return factories.OrderFactory(customer=world["customer_a"], vendor=world["vendor_a"], status="delivered")


def _thread(customer):
    external_email = "" if customer else "someone@example.test"
    return EmailThread.objects.create(customer=customer, external_email=external_email, subject="Help")


def _conversation(world):
    return factories.ConversationFactory(customer=world["customer_a"], vendor=world["vendor_a"])


def _closed_vendor_a(world):
    """Vendor A, whose staff are among the readers, suspended by the platform and then changed again:
    the change after the suspension is the one its former readers must no longer get."""
    admin, vendor = world["readers"]["admin"], world["vendor_a"]
    vendor_set_active(actor=admin, vendor=vendor, active=False, reason="inspection")
    return vendor_update(actor=admin, vendor=vendor, description="Closed for refit")


ROWS = {
    "orders": _order,
    "order_items": lambda world: _order(world).items.get(),
    "order_notes": lambda world: OrderNote.objects.create(order=_order(world), body="For the rider", is_internal=False),
    "internal_order_notes": lambda world: OrderNote.objects.create(order=_order(world), body="Regular"),
    "products": lambda world: factories.ProductFactory(vendor=world["vendor_a"]),
    "inactive_products": lambda world: factories.ProductFactory(vendor=world["vendor_a"], is_active=False),
    "vendors": lambda world: world["vendor_a"],
    "inactive_vendors": _closed_vendor_a,
    "cart_items": lambda world: factories.CartItemFactory(user=world["customer_a"]),
    "notifications": lambda world: factories.NotificationFactory(user=world["customer_a"]),
    "reviews": lambda world: Review.objects.create(
        customer=world["customer_a"], order=_order(world), vendor=world["vendor_a"], rating=5
    ),
    "profiles": lambda world: world["customer_a"].profile,
    "vendor_applications": lambda world: factories.VendorApplicationFactory(applicant=world["customer_a"]),
    "inventory_alerts": lambda world: InventoryAlert.objects.create(
        product=factories.ProductFactory(vendor=world["vendor_a"]),
        vendor=world["vendor_a"],
        type="stockout",
        severity="emergency",
        stock_level=0,
        threshold=5,
    ),
    "email_threads": lambda world: _thread(world["customer_a"]),
    "external_email_threads": lambda world: _thread(None),
    "email_messages": lambda world: EmailMessage.objects.create(
        thread=_thread(world["customer_a"]), direction="inbound", from_email="a@example.test", body="Hi"
    ),
    "admin_activity": lambda world: AdminActivityLog.objects.create(
        admin=world["readers"]["admin"], action="vendor.suspended", category="vendor"
    ),
    "email_thread_notes": lambda world: ThreadNote.objects.create(
        thread=_thread(world["customer_a"]), body="Team only"
    ),
    "conversations": _conversation,
    "messages": lambda world: Message.objects.create(
        conversation=(conversation := _conversation(world)), sender=conversation.customer, body="Hello"
    ),
    "message_attachments": lambda world: factories.MessageAttachmentFactory(message__conversation=_conversation(world)),
}

EVERYONE = set(ROLES)
A_AND_VENDOR_A = {"customer_a", "vendor_a_staff", "admin"}
CUSTOMER_A_AND_ADMIN = {"customer_a", "admin"}
# Staff of an inactive vendor lose its group with it, so only the platform team sees the shop
# (vendor_a_staff work for the closed shop: their membership alone must not keep them reading it).
EXPECTED = {
    "orders": A_AND_VENDOR_A,
    "order_items": A_AND_VENDOR_A,
    "order_notes": A_AND_VENDOR_A,
    "internal_order_notes": {"vendor_a_staff", "admin"},
    "products": EVERYONE,
    "inactive_products": {"vendor_a_staff", "admin"},
    "vendors": EVERYONE,
    "inactive_vendors": {"admin"},
    "cart_items": {"customer_a"},
    "notifications": {"customer_a"},
    "reviews": EVERYONE,
    "profiles": CUSTOMER_A_AND_ADMIN,
    "vendor_applications": CUSTOMER_A_AND_ADMIN,
    "inventory_alerts": {"vendor_a_staff", "admin"},
    "email_threads": CUSTOMER_A_AND_ADMIN,
    "external_email_threads": {"admin"},
    "email_messages": CUSTOMER_A_AND_ADMIN,
    # The team's notes on customer A's thread: never customer A's.
    "admin_activity": {"admin"},
    "email_thread_notes": {"admin"},
    "conversations": A_AND_VENDOR_A,
    "messages": A_AND_VENDOR_A,
    "message_attachments": A_AND_VENDOR_A,
}


def _latest_audience(row):
    table = table_for_model(type(row))
    for event in Event.objects.filter(table=table.name).order_by("-id"):
        if event.record is not None and event.record["id"] == row.pk:
            return set(event.audience)
    raise AssertionError(f"no event captured for {table.name} #{row.pk}")


@pytest.mark.parametrize("row_kind", sorted(ROWS))
def test_each_reader_sees_exactly_the_rows_the_policy_allows(world, row_kind):
    row = ROWS[row_kind](world)
    audience = _latest_audience(row)
    visible_to = {role for role, reader in world["readers"].items() if audience & groups_for_user(reader)}
    assert visible_to == EXPECTED[row_kind]


def test_the_matrix_covers_every_published_table():
    covered = {name.removeprefix("inactive_").removeprefix("external_").removeprefix("internal_") for name in ROWS}
    assert covered == set(TABLES)
    assert set(EXPECTED) == set(ROWS)


def test_groups_of_each_kind_of_reader(world):
    readers = world["readers"]
    vendor_a = world["vendor_a"]
    assert groups_for_user(readers["anonymous"]) == {"public"}
    assert groups_for_user(readers["customer_a"]) == {"public", f"user.{readers['customer_a'].pk}"}
    assert groups_for_user(readers["vendor_a_staff"]) == {
        "public",
        f"user.{readers['vendor_a_staff'].pk}",
        f"vendor.{vendor_a.pk}",
    }
    assert "staff" in groups_for_user(readers["admin"])


def test_a_suspended_user_reads_only_public_rows(world):
    customer = world["customer_a"]
    customer.is_suspended = True
    customer.save()
    assert groups_for_user(customer) == {"public"}


def test_a_deactivated_account_and_no_user_read_only_public_rows(world):
    clerk = world["readers"]["vendor_a_staff"]
    clerk.is_active = False
    clerk.save()
    assert groups_for_user(clerk) == {"public"}
    assert groups_for_user(None) == {"public"}


def test_an_update_that_moves_a_row_out_of_an_audience_still_reaches_it(world):
    vendor = world["vendor_a"]
    vendor.is_active = False
    vendor.save()
    # Everyone saw the shop; everyone must learn it closed. Afterwards only its own team and the platform see it.
    deactivation = Event.objects.filter(table="vendors", type="UPDATE").order_by("-id").first()
    assert set(deactivation.audience) == {"public", f"vendor.{vendor.pk}", "staff"}
    vendor.description = "closed for refit"
    vendor.save()
    later = Event.objects.filter(table="vendors", type="UPDATE").order_by("-id").first()
    assert set(later.audience) == {f"vendor.{vendor.pk}", "staff"}
