"""Capture: every insert, update and delete of a published row writes one outbox
row in the same transaction, with the exposed columns and its audience."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import AdminActivityLog, Notification, Profile
from catalog.models import InventoryAlert, Review
from orders.models import OrderNote
from realtime.models import Event
from realtime.publication import TABLES
from support.models import EmailMessage, Message, ThreadNote
from tests import factories

SECRET_COLUMNS = {"password", "key_hash", "prefix", "last_login", "is_superuser"}
POSTGRES_TYPE_NAMES = {"int2", "int4", "int8", "text", "varchar", "numeric", "bool", "timestamptz", "jsonb"}


def _order_item():
    return factories.OrderFactory().items.get()


def _review():
    order = factories.OrderFactory(status="delivered")
    return Review.objects.create(customer=order.customer, order=order, vendor=order.vendor, rating=4)


def _inventory_alert():
    product = factories.ProductFactory(stock=2)
    return InventoryAlert.objects.create(
        product=product, vendor=product.vendor, type="low_stock", severity="warning", stock_level=2, threshold=5
    )


def _email_message():
    thread = factories.EmailThreadFactory()
    return EmailMessage.objects.create(thread=thread, direction="inbound", from_email="a@example.test", body="Hi")


def _message():
    conversation = factories.ConversationFactory()
    return Message.objects.create(conversation=conversation, sender=conversation.customer, body="Is it ready?")


def _message_attachment():
    # Stored names only: capture is about the row, not the file.
    return factories.MessageAttachmentFactory(message=_message())


# table name -> (make a row, a field to change, its new value)
ROWS = {
    "orders": (factories.OrderFactory, "status", "confirmed"),
    "order_items": (_order_item, "product_name", "Renamed"),
    "order_notes": (lambda: OrderNote.objects.create(order=factories.OrderFactory(), body="Hi"), "body", "Edited"),
    "products": (factories.ProductFactory, "price", Decimal("5.25")),
    "vendors": (factories.VendorFactory, "opening_status", "busy"),
    "cart_items": (factories.CartItemFactory, "quantity", 3),
    "notifications": (factories.NotificationFactory, "title", "Updated"),
    "reviews": (_review, "comment", "Lovely"),
    "profiles": (lambda: factories.UserFactory().profile, "default_address", "9 New Road"),
    "vendor_applications": (factories.VendorApplicationFactory, "status", "under_review"),
    "inventory_alerts": (_inventory_alert, "status", "acknowledged"),
    "email_threads": (factories.EmailThreadFactory, "priority", "high"),
    "email_messages": (_email_message, "body", "Edited"),
    "email_thread_notes": (
        lambda: ThreadNote.objects.create(thread=factories.EmailThreadFactory(), body="Team only"),
        "body",
        "Edited",
    ),
    "conversations": (factories.ConversationFactory, "subject", "About my order"),
    "messages": (_message, "body", "Edited"),
    "message_attachments": (_message_attachment, "width", 8),
    # The activity log refuses updates and deletes: its only events are INSERTs.
    "admin_activity": (
        lambda: AdminActivityLog.objects.create(admin=factories.AdminFactory(), action="test.action", category="other"),
        None,
        None,
    ),
}


def _events(table, row_id):
    return [
        event
        for event in Event.objects.filter(table=table).order_by("id")
        if (event.record or event.old_record)["id"] == row_id
    ]


def test_every_published_table_has_a_capture_case():
    assert set(ROWS) == set(TABLES)


@pytest.mark.django_db
@pytest.mark.parametrize("table_name", sorted(ROWS))
def test_insert_update_delete_each_write_one_event(table_name):
    make, field_name, new_value = ROWS[table_name]
    table = TABLES[table_name]

    row = make()
    # Some factories save again after creating the row; each save is its own event.
    inserted, *resaved = _events(table_name, row.pk)
    assert inserted.type == "INSERT" and inserted.old_record is None
    assert {event.type for event in resaved} <= {"UPDATE"}
    assert (resaved or [inserted])[-1].record == table.record(row)
    assert set(inserted.record) == set(table.columns)
    if field_name is None:
        with pytest.raises(ValidationError):
            row.save()
        with pytest.raises(ValidationError):
            row.delete()
        assert _events(table_name, row.pk) == [inserted, *resaved]
        return

    before = table.record(row)
    setattr(row, field_name, new_value)
    row.save()
    updated = _events(table_name, row.pk)[-1]
    assert updated.type == "UPDATE"
    assert updated.old_record == before
    assert updated.record[field_name] == table.record(row)[field_name] != before[field_name]

    row_id = row.pk
    row.delete()
    deleted = _events(table_name, row_id)[-1]
    assert deleted.type == "DELETE"
    assert deleted.record is None
    assert deleted.old_record["id"] == row_id
    assert deleted.audience == inserted.audience


@pytest.mark.parametrize("table_name", sorted(ROWS))
def test_exposed_columns_are_real_columns_and_never_secrets(table_name):
    table = TABLES[table_name]
    attnames = {field.attname for field in table.model._meta.concrete_fields}
    assert set(table.columns) <= attnames
    assert not set(table.columns) & SECRET_COLUMNS
    assert set(table.columns.values()) <= POSTGRES_TYPE_NAMES
    assert table.columns_payload == [{"name": name, "type": type_name} for name, type_name in table.columns.items()]


@pytest.mark.django_db
def test_records_are_json_ready_in_the_api_formats():
    product = factories.ProductFactory(price=Decimal("12.50"), images=["https://img.example.test/1.jpg"])
    record = _events("products", product.pk)[0].record
    assert record["price"] == "12.50"
    assert record["vendor_id"] == product.vendor_id
    assert record["images"] == ["https://img.example.test/1.jpg"]
    assert record["created_at"].endswith("Z") and "T" in record["created_at"]


@pytest.mark.django_db
def test_profiles_expose_no_user_secrets():
    user = factories.UserFactory()
    record = _events("profiles", Profile.objects.get(user=user).pk)[0].record
    assert user.password not in record.values()
    assert "password" not in record


@pytest.mark.django_db
def test_a_rolled_back_write_leaves_no_event():
    user = factories.UserFactory()
    events_before = Event.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        Notification.objects.create(user=user, type="system", title="Never sent")
        raise RuntimeError("refused")
    assert Event.objects.count() == events_before
    assert not Notification.objects.filter(title="Never sent").exists()


@pytest.mark.django_db
def test_a_rolled_back_savepoint_drops_only_its_own_events():
    user = factories.UserFactory()
    with transaction.atomic():
        kept = Notification.objects.create(user=user, type="system", title="Kept")
        with pytest.raises(RuntimeError), transaction.atomic():
            Notification.objects.create(user=user, type="system", title="Dropped")
            raise RuntimeError("inner refusal")
    titles = [event.record["title"] for event in Event.objects.filter(table="notifications")]
    assert titles == ["Kept"]
    assert _events("notifications", kept.pk)[0].type == "INSERT"


@pytest.mark.django_db
def test_cascaded_deletes_are_captured():
    order = factories.OrderFactory()
    order_id, item_id = order.pk, order.items.get().pk
    order.delete()
    assert [event.type for event in _events("order_items", item_id)] == ["INSERT", "DELETE"]
    assert _events("orders", order_id)[-1].type == "DELETE"


@pytest.mark.django_db
def test_unpublished_models_write_no_events():
    factories.CategoryFactory()
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_a_deactivated_product_still_tells_its_old_audience():
    product = factories.ProductFactory()
    product.is_active = False
    product.save()
    update = _events("products", product.pk)[-1]
    assert set(update.audience) == {"public", f"vendor.{product.vendor_id}", "staff"}
