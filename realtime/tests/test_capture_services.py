"""Every service's writes reach the event stream.

Each service in docs/services.md is driven once inside `reaches_the_stream`
(realtime/tests/stream_check.py): a service that wrote a published model
with QuerySet.update() or a bulk operation fails here.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from accounts import services as accounts
from catalog import services as catalog
from catalog.models import InventoryAlert
from orders import services as orders
from orders.models import Order
from realtime.models import Event
from realtime.publication import TABLES
from realtime.tests.stream_check import reaches_the_stream
from support import services as support
from tests import factories
from vendors import services as vendors
from vendors.models import VendorStaff

PASSWORD = "a-long-enough-password-42"


@pytest.mark.django_db
def test_every_service_writes_reach_the_stream():
    admin = factories.AdminFactory()

    # accounts
    with reaches_the_stream("user_register"):
        customer = accounts.user_register(email="shopper@example.test", password=PASSWORD, full_name="Sam Shopper")
    with reaches_the_stream("user_authenticate"):
        accounts.user_authenticate(email="shopper@example.test", password=PASSWORD)
    with reaches_the_stream("profile_update"):
        accounts.profile_update(
            user=customer, default_address="1 High Street, London", default_lat="51.5", default_lng="-0.12"
        )
    with reaches_the_stream("api_token_create"):
        token, _ = accounts.api_token_create(user=customer, name="phone")
    with reaches_the_stream("api_token_revoke"):
        accounts.api_token_revoke(token=token)
    with reaches_the_stream("notification_create"):
        notification = accounts.notification_create(user=customer, type="system", title="Welcome")
    with reaches_the_stream("notification_mark_read"):
        accounts.notification_mark_read(user=customer, notification_id=notification.pk)
    accounts.notification_create(user=customer, type="system", title="Second")
    with reaches_the_stream("notification_mark_all_read"):
        accounts.notification_mark_all_read(user=customer)
    with reaches_the_stream("activity_log_record"):
        accounts.activity_log_record(admin=admin, action="looked", category="other")

    # vendors
    owner = factories.UserFactory()
    with reaches_the_stream("application_submit"):
        application = vendors.application_submit(
            applicant=owner,
            business_name="Corner Shop",
            business_type="sole_trader",
            contact_name="Olu Owner",
            contact_email="olu@example.test",
            address="5 Corner Street, London",
            lat="51.501",
            lng="-0.121",
        )
    with reaches_the_stream("application_start_review"):
        vendors.application_start_review(actor=admin, application=application)
    with reaches_the_stream("application_request_documents"):
        vendors.application_request_documents(actor=admin, application=application, reason="Proof of address")
    with reaches_the_stream("application_resubmit_documents"):
        vendors.application_resubmit_documents(
            applicant=owner, application=application, documents=[{"name": "bill", "url": "https://docs.example.test/b"}]
        )
    with reaches_the_stream("application_approve"):
        vendor = vendors.application_approve(actor=admin, application=application)
    rejected = vendors.application_submit(
        applicant=factories.UserFactory(),
        business_name="Other Shop",
        business_type="other",
        contact_name="Ann Other",
        contact_email="ann@example.test",
        address="6 Side Street, London",
    )
    vendors.application_start_review(actor=admin, application=rejected)
    with reaches_the_stream("application_reject"):
        vendors.application_reject(actor=admin, application=rejected, reason="Outside our area")
    with reaches_the_stream("vendor_update"):
        vendor = vendors.vendor_update(actor=owner, vendor=vendor, description="Fresh bread daily")
    with reaches_the_stream("vendor_set_status"):
        vendor = vendors.vendor_set_status(
            actor=owner, vendor=vendor, opening_status="closed", paused_until=timezone.now() + timedelta(minutes=1)
        )
    with reaches_the_stream("vendor_resume_due"):
        assert vendors.vendor_resume_due(vendor_id=vendor.pk, now=timezone.now() + timedelta(minutes=2))
    with reaches_the_stream("portal_sightings_record"):
        vendors.portal_sightings_record(vendor_ids={vendor.pk}, now=timezone.now() - timedelta(hours=1))
    with reaches_the_stream("vendor_pause_unattended"):
        assert vendors.vendor_pause_unattended(
            vendor_id=vendor.pk, now=timezone.now(), watched_since=timezone.now() - timedelta(hours=2)
        )
    vendor = vendors.vendor_set_status(actor=owner, vendor=vendor, opening_status="open")
    with reaches_the_stream("opening_hours_set"):
        vendors.opening_hours_set(
            actor=owner, vendor=vendor, openings=[{"weekday": 0, "opens_at": "09:00", "closes_at": "17:00"}]
        )
    vendors.opening_hours_set(actor=owner, vendor=vendor, openings=[])
    with reaches_the_stream("holiday_closure_add"):
        closure = vendors.holiday_closure_add(
            actor=owner,
            vendor=vendor,
            starts_on=timezone.localdate() + timedelta(days=7),
            ends_on=timezone.localdate() + timedelta(days=8),
        )
    with reaches_the_stream("holiday_closure_remove"):
        vendors.holiday_closure_remove(actor=owner, closure=closure)
    with reaches_the_stream("vendor_set_active"):
        vendor = vendors.vendor_set_active(actor=admin, vendor=vendor, active=False, reason="audit")
    vendor = vendors.vendor_set_active(actor=admin, vendor=vendor, active=True)
    clerk = factories.UserFactory()
    with reaches_the_stream("vendor_staff_add"):
        membership = vendors.vendor_staff_add(actor=owner, vendor=vendor, user=clerk)
    with reaches_the_stream("vendor_staff_remove"):
        vendors.vendor_staff_remove(actor=owner, membership=membership)
    with reaches_the_stream("notification_create_for_vendor_staff"):
        accounts.notification_create_for_vendor_staff(vendor=vendor, type="system", title="Hello team")

    # catalog
    with reaches_the_stream("category_create"):
        category = catalog.category_create(actor=admin, name="Bakery")
    with reaches_the_stream("product_create"):
        product = catalog.product_create(
            actor=owner, vendor=vendor, name="Sourdough", price=Decimal("3.50"), stock=10, category=category
        )
    with reaches_the_stream("product_update"):
        product = catalog.product_update(actor=owner, product=product, description="Slow-proved")
    with reaches_the_stream("product_adjust_stock"):
        product = catalog.product_adjust_stock(actor=owner, product=product, stock=3, reason="correction")
    with reaches_the_stream("inventory_alerts_sync"):
        catalog.inventory_alerts_sync(product=product)
    alert = InventoryAlert.objects.filter(product=product).exclude(status="resolved").get()
    with reaches_the_stream("inventory_alert_acknowledge"):
        catalog.inventory_alert_acknowledge(actor=owner, alert=alert)
    with reaches_the_stream("wishlist_add"):
        catalog.wishlist_add(user=customer, product=product)
    with reaches_the_stream("wishlist_remove"):
        catalog.wishlist_remove(user=customer, product=product)
    product = catalog.product_adjust_stock(actor=owner, product=product, stock=20)
    with reaches_the_stream("product_moderate"):
        product = catalog.product_moderate(actor=admin, product=product, active=False, reason="Needs a licence")
    product = catalog.product_moderate(actor=admin, product=product, active=True)

    # orders
    with reaches_the_stream("cart_add_item"):
        line = orders.cart_add_item(user=customer, product=product, quantity=2)
    with reaches_the_stream("cart_set_quantity"):
        orders.cart_set_quantity(user=customer, item_id=line.pk, quantity=3)
    with reaches_the_stream("cart_remove_item"):
        orders.cart_remove_item(user=customer, item_id=line.pk)
    orders.cart_add_item(user=customer, product=product, quantity=1)
    with reaches_the_stream("cart_clear"):
        orders.cart_clear(user=customer)
    orders.cart_add_item(user=customer, product=product, quantity=2)
    with reaches_the_stream("order_checkout"):
        (order,) = orders.order_checkout(customer=customer, idempotency_key="checkout-1")
    with reaches_the_stream("order_note_add"):
        orders.order_note_add(actor=owner, order=order, body="Leave it with the neighbour", is_internal=False)
    with reaches_the_stream("order_accept"):
        order = orders.order_accept(actor=owner, order=order, prep_minutes=15, expected_status="pending")
    for status in ("preparing", "ready", "out_for_delivery", "delivered"):
        with reaches_the_stream(f"order_transition to {status}"):
            order = orders.order_transition(actor=owner, order=order, to_status=status)
    with reaches_the_stream("review_create"):
        catalog.review_create(customer=customer, order=order, rating=5, comment="Great", product=product)
    with reaches_the_stream("vendor_rating_refresh"):
        vendors.vendor_rating_refresh(vendor=vendor)
    with reaches_the_stream("order_refund"):
        orders.order_refund(actor=admin, order=order, reason="Arrived cold", restock=True)
    orders.cart_add_item(user=customer, product=product, quantity=1)
    (second,) = orders.order_checkout(customer=customer)
    with reaches_the_stream("order_cancel"):
        orders.order_cancel(actor=customer, order=second, reason="Changed my mind")
    orders.cart_add_item(user=customer, product=product, quantity=1)
    (rejected,) = orders.order_checkout(customer=customer)
    with reaches_the_stream("order_reject"):
        orders.order_reject(actor=owner, order=rejected, reason_code="too_busy")
    orders.cart_add_item(user=customer, product=product, quantity=1)
    (unanswered,) = orders.order_checkout(customer=customer)
    placed_at = unanswered.created_at
    with reaches_the_stream("order_acceptance_remind"):
        assert orders.order_acceptance_remind(
            order=unanswered, now=placed_at + timedelta(minutes=settings.ORDER_ACCEPT_REMINDER_MINUTES)
        )
    with reaches_the_stream("order_acceptance_escalate"):
        assert orders.order_acceptance_escalate(
            order=unanswered, now=placed_at + timedelta(minutes=settings.ORDER_ACCEPT_ESCALATE_MINUTES)
        )
    with reaches_the_stream("order_acceptance_expire"):
        assert orders.order_acceptance_expire(order=unanswered, now=unanswered.accept_by)

    # support
    with reaches_the_stream("thread_create"):
        thread = support.thread_create(subject="Where is my order?", body="It is late.", customer=customer, order=order)
    with reaches_the_stream("thread_add_message"):
        support.thread_add_message(thread=thread, direction="outbound", body="On its way.", sender=admin)
    with reaches_the_stream("thread_update"):
        thread = support.thread_update(actor=admin, thread=thread, status="pending", priority="high", assignee=admin)
    with reaches_the_stream("thread_mark_read"):
        support.thread_mark_read(actor=admin, thread=thread)
    with reaches_the_stream("thread_note_add"):
        support.thread_note_add(actor=admin, thread=thread, body="Called the shop: driver is on the way.")
    with reaches_the_stream("thread_receive_email"):
        support.thread_receive_email(
            raw=f"From: {customer.email}\r\nSubject: Re: Where is my order?\r\n\r\nGot it, thanks.".encode()
        )
    with reaches_the_stream("email_template_create"):
        template = support.email_template_create(actor=admin, name="late", subject="Sorry", body="Sorry it is late.")
    with reaches_the_stream("email_template_update"):
        support.email_template_update(actor=admin, template=template, body="Sorry, it is running late.")
    with reaches_the_stream("conversation_start"):
        conversation = support.conversation_start(customer=customer, vendor=vendor, order=order, body="Hello?")
    with reaches_the_stream("conversation_send_message"):
        support.conversation_send_message(
            conversation=conversation, sender=owner, body="Hi! How can we help?", attachments=[factories.image_upload()]
        )
    with reaches_the_stream("conversation_mark_read"):
        support.conversation_mark_read(conversation=conversation, reader=customer)

    # admin-side account changes last: they may end the customer's access
    with reaches_the_stream("user_set_platform_admin"):
        accounts.user_set_platform_admin(actor=admin, user=owner, is_admin=True)
    with reaches_the_stream("user_set_suspended"):
        accounts.user_set_suspended(actor=admin, user=customer, suspended=True, reason="fraud check")

    assert Order.objects.filter(customer=customer).count() == 4
    assert not VendorStaff.objects.filter(user=clerk).exists()
    assert {event.table for event in Event.objects.exclude(table=Event.ACCESS_TABLE)} == set(TABLES)
