"""Deleting a row reaches the stream through every foreign key that points at it.

The walk takes every foreign key of a published model and every foreign key
of another model that points at a published one, builds a row on each side,
deletes the referenced row and checks what its `on_delete` did: a CASCADE
deletes the child with a DELETE event, a SET_NULL (or any other rule that
rewrites the child) leaves an UPDATE event with the new value, a PROTECT or
RESTRICT refuses and changes nothing. Every deletion is also checked whole by
`reaches_the_stream`, so a cascade further down a chain cannot slip by, and is
rolled back at the end: its events must go with it, as they were written in
its transaction. A new published model or foreign key is walked without any
change here; a model nobody taught the walk to build fails with its name.

The admin tests delete a category and a product through Django admin's
delete view, as a platform admin does.
"""

from datetime import time
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import transaction
from django.db.models import CASCADE, DO_NOTHING, PROTECT, RESTRICT, ProtectedError, Q, RestrictedError
from django.urls import reverse
from django.utils import timezone

from catalog.models import InventoryAlert, Product
from orders.models import OrderItem, OrderNote
from realtime.models import Event
from realtime.publication import TABLES, table_for_model
from realtime.tests.stream_check import reaches_the_stream
from support.models import EmailMessage, ThreadNote
from tests import factories


def _maker(model_label, **defaults):
    """Creates a `model_label` row from the given fields, the others from `defaults`
    (a callable default is called only when its field is not given)."""

    def make(**given):
        model = apps.get_model(model_label)
        values = {name: value() if callable(value) else value for name, value in defaults.items() if name not in given}
        return model._base_manager.create(**values, **given)

    return make


def _profile(user=None):
    return (user or factories.UserFactory()).profile


def _email_thread(**given):
    # As an inbound email creates it: a thread keeps the writer's address when their account goes.
    return factories.EmailThreadFactory(**{"external_email": "writer@example.test", **given})


def _order():
    return factories.OrderFactory()


def _product():
    return factories.ProductFactory()


def _message():
    return MAKERS["support.Message"]()


# How to build a row of each model on a deletion path, given the row it must point at.
MAKERS = {
    "accounts.User": factories.UserFactory,
    "accounts.Profile": _profile,
    "accounts.Notification": factories.NotificationFactory,
    "vendors.Vendor": factories.VendorFactory,
    "vendors.VendorStaff": factories.VendorStaffFactory,
    "vendors.OpeningHours": _maker(
        "vendors.OpeningHours", vendor=factories.VendorFactory, weekday=0, opens_at=time(9), closes_at=time(17)
    ),
    "vendors.HolidayClosure": factories.HolidayClosureFactory,
    "vendors.VendorPortalPresence": _maker(
        "vendors.VendorPortalPresence", vendor=factories.VendorFactory, last_seen_at=timezone.now
    ),
    "vendors.VendorPause": _maker("vendors.VendorPause", vendor=factories.VendorFactory, started_at=timezone.now),
    "accounts.AdminActivityLog": _maker(
        "accounts.AdminActivityLog", admin=factories.AdminFactory, action="test.action", category="other"
    ),
    "vendors.VendorApplication": factories.VendorApplicationFactory,
    "vendors.VendorApplicationStatusHistory": _maker(
        "vendors.VendorApplicationStatusHistory", application=factories.VendorApplicationFactory, to_status="pending"
    ),
    "vendors.ApplicationDocument": _maker(
        "vendors.ApplicationDocument",
        application=factories.VendorApplicationFactory,
        file="applications/licence.pdf",
        name="licence.pdf",
        content_type="application/pdf",
        size=9,
    ),
    "catalog.Category": factories.CategoryFactory,
    "catalog.Product": factories.ProductFactory,
    "catalog.ProductImage": _maker(
        "catalog.ProductImage", product=_product, image="products/a.png", thumbnail="products/thumbnails/a.webp"
    ),
    "catalog.StockMovement": _maker(
        "catalog.StockMovement",
        product=_product,
        vendor=factories.VendorFactory,
        delta=-1,
        stock_before=5,
        stock_after=4,
        reason="sale",
    ),
    "catalog.InventoryAlert": _maker(
        "catalog.InventoryAlert",
        product=_product,
        vendor=factories.VendorFactory,
        type="low_stock",
        severity="warning",
        stock_level=2,
        threshold=5,
    ),
    "catalog.Review": _maker(
        "catalog.Review", customer=factories.UserFactory, order=_order, vendor=factories.VendorFactory, rating=4
    ),
    "catalog.WishlistItem": _maker("catalog.WishlistItem", user=factories.UserFactory, product=_product),
    "orders.CartItem": factories.CartItemFactory,
    "orders.Checkout": _maker("orders.Checkout", customer=factories.UserFactory),
    "orders.Order": factories.OrderFactory,
    "orders.OrderItem": _maker(
        "orders.OrderItem",
        order=_order,
        product=_product,
        product_name="Tea",
        unit_price=Decimal("4.50"),
        quantity=2,
        line_total=Decimal("9.00"),
    ),
    "orders.OrderStatusHistory": _maker("orders.OrderStatusHistory", order=_order, to_status="confirmed"),
    "orders.OrderNote": _maker("orders.OrderNote", order=_order, body="Ring twice"),
    "support.EmailThread": _email_thread,
    "support.EmailMessage": _maker(
        "support.EmailMessage", thread=_email_thread, direction="inbound", from_email="a@example.test", body="Hi"
    ),
    "support.ThreadNote": _maker("support.ThreadNote", thread=_email_thread, body="Team only"),
    "support.Conversation": factories.ConversationFactory,
    "support.Message": _maker(
        "support.Message", conversation=factories.ConversationFactory, sender=factories.UserFactory, body="Hi"
    ),
    "support.MessageAttachment": lambda **given: factories.MessageAttachmentFactory(
        **({"message": _message()} if "message" not in given else {}), **given
    ),
}


def _deletion_paths() -> list:
    """Every foreign key (and one-to-one) from a published model, or to one."""
    published = {table.model for table in TABLES.values()}
    return sorted(
        (
            field
            for model in apps.get_models()
            for field in model._meta.concrete_fields
            if field.is_relation and (model in published or field.related_model in published)
        ),
        key=lambda field: (field.model._meta.label, field.name),
    )


PATHS = _deletion_paths()


def _path_id(field) -> str:
    return f"{field.model._meta.label}.{field.name}({field.remote_field.on_delete.__name__})"


def _events_of(table_name, pk, **filters):
    return Event.objects.filter(Q(record__id=pk) | Q(old_record__id=pk), table=table_name, **filters).order_by("id")


def _last_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_the_walk_covers_both_directions_and_every_rule():
    assert {
        "catalog.Product.category(SET_NULL)",  # a published row pointing at an unpublished one
        "orders.OrderItem.product(SET_NULL)",  # a published row pointing at a published one
        "orders.OrderItem.order(CASCADE)",
        "orders.Order.customer(PROTECT)",
        "vendors.OpeningHours.vendor(CASCADE)",  # an unpublished row pointing at a published one
    } <= {_path_id(field) for field in PATHS}


def test_every_model_on_a_deletion_path_can_be_built():
    models = {field.model._meta.label for field in PATHS} | {field.related_model._meta.label for field in PATHS}
    assert models <= set(MAKERS), f"teach the walk to build {sorted(models - set(MAKERS))}"


@pytest.mark.django_db
@pytest.mark.parametrize("field", PATHS, ids=_path_id)
def test_deleting_the_referenced_row_reaches_the_stream(field):
    on_delete = field.remote_field.on_delete
    if on_delete is DO_NOTHING:
        pytest.fail(f"{_path_id(field)} leaves the row pointing at a deleted one, with no event")
    parent = MAKERS[field.related_model._meta.label]()
    child = MAKERS[field.model._meta.label](**{field.name: parent})
    key = getattr(parent, field.target_field.attname)
    assert getattr(child, field.attname) == key
    child_table = table_for_model(field.model)
    child_rows = field.model._base_manager.filter(pk=child.pk)
    seen_by = set(_events_of(child_table.name, child.pk).last().audience) if child_table else set()
    before = _last_event_id()

    with transaction.atomic():
        if on_delete in (PROTECT, RESTRICT):
            with reaches_the_stream(_path_id(field)), pytest.raises((ProtectedError, RestrictedError)):
                parent.delete()
            assert not Event.objects.filter(id__gt=before).exists()
            assert child_rows.filter(**{field.attname: key}).exists()
        else:
            with reaches_the_stream(_path_id(field)):
                parent.delete()
            if on_delete is CASCADE:
                assert not child_rows.exists()
                expected_type = "DELETE"
            else:
                # SET_NULL, SET_DEFAULT, SET(...): the row stays, pointing elsewhere.
                assert child_rows.exclude(**{field.attname: key}).exists()
                expected_type = "UPDATE"
            if child_table:
                (event,) = _events_of(child_table.name, child.pk, id__gt=before, type=expected_type)
                if field.attname in child_table.columns:
                    assert event.old_record[field.attname] == key
                    if expected_type == "UPDATE":
                        assert event.record[field.attname] == getattr(child_rows.get(), field.attname)
                assert set(event.audience) >= seen_by, "whoever saw the row must learn that it changed"
        transaction.set_rollback(True)

    # The events were written in the deletion's transaction: they went with it.
    assert not Event.objects.filter(id__gt=before).exists()
    assert child_rows.filter(**{field.attname: key}).exists()


# Through Django admin


def _delete_in_admin(client, obj):
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_delete", args=[obj.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 302, response.content[:500]
    assert not type(obj)._base_manager.filter(pk=obj.pk).exists()


def _updates(table_name, pk, after):
    return list(_events_of(table_name, pk, id__gt=after, type="UPDATE"))


@pytest.mark.django_db
def test_deleting_a_category_in_admin_tells_the_products_subscribers(admin_client):
    category = factories.CategoryFactory()
    products = factories.ProductFactory.create_batch(2, category=category)
    before = _last_event_id()

    with reaches_the_stream("admin: delete category"):
        _delete_in_admin(admin_client, category)

    for product in products:
        (event,) = _updates("products", product.pk, before)
        assert (event.old_record["category_id"], event.record["category_id"]) == (category.pk, None)
        assert "public" in event.audience
        assert Product.objects.get(pk=product.pk).category_id is None


@pytest.mark.django_db
def test_deleting_a_product_in_admin_keeps_its_order_lines_with_the_product_gone(admin_client):
    order = factories.OrderFactory(status="delivered")
    item = order.items.get()
    before = _last_event_id()

    with reaches_the_stream("admin: delete product"):
        _delete_in_admin(admin_client, item.product)

    (event,) = _updates("order_items", item.pk, before)
    assert (event.old_record["product_id"], event.record["product_id"]) == (item.product_id, None)
    assert {f"user.{order.customer_id}", f"vendor.{order.vendor_id}", "staff"} <= set(event.audience)
    assert OrderItem.objects.get(pk=item.pk).product_id is None
    (deleted,) = _events_of("products", event.old_record["product_id"], id__gt=before, type="DELETE")
    assert event.id < deleted.id, "the order line lets go of the product before the product goes"


@pytest.mark.django_db
def test_deleting_a_user_tells_everyone_who_saw_them_on_a_row():
    """As a shell or a management command deletes one (Django admin refuses: a user's profile
    may not be deleted there)."""
    clerk = factories.UserFactory()
    customer = factories.UserFactory()
    thread = _email_thread(customer=customer, assignee=clerk)
    message = EmailMessage.objects.create(
        thread=thread, direction="outbound", sender=clerk, from_email="help@example.test", body="On it"
    )
    note = ThreadNote.objects.create(thread=thread, author=clerk, body="Refund agreed")
    order_note = OrderNote.objects.create(order=factories.OrderFactory(), author=clerk, body="Ring twice")
    product = factories.ProductFactory(stock=1)
    alert = InventoryAlert.objects.create(
        product=product,
        vendor=product.vendor,
        type="low_stock",
        severity="critical",
        stock_level=1,
        threshold=5,
        acknowledged_by=clerk,
        status="acknowledged",
    )
    application = factories.VendorApplicationFactory(reviewer=clerk, status="under_review")
    clerk_id, before = clerk.pk, _last_event_id()

    with reaches_the_stream("delete user"):
        clerk.delete()

    for table_name, row, column in [
        ("email_threads", thread, "assignee_id"),
        ("email_messages", message, "sender_id"),
        ("email_thread_notes", note, "author_id"),
        ("order_notes", order_note, "author_id"),
        ("inventory_alerts", alert, "acknowledged_by_id"),
        ("vendor_applications", application, "reviewer_id"),
    ]:
        (event,) = _updates(table_name, row.pk, before)
        assert (event.old_record[column], event.record[column]) == (clerk_id, None), table_name
    (thread_event,) = _updates("email_threads", thread.pk, before)
    assert f"user.{customer.pk}" in thread_event.audience
