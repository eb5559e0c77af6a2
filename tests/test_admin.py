"""Django admin: every page renders with real data, and every state change it offers
goes through the services (history, notifications and the activity log included)."""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts import services as accounts
from accounts.models import AdminActivityLog, Notification, Profile, User
from catalog import services as catalog
from catalog.models import InventoryAlert, Product
from orders import services as orders
from orders.models import Order
from support import services as support
from support.models import EmailThread
from tests import factories
from vendors import services as vendors
from vendors.models import Vendor, VendorApplication

REGISTERED_MODELS = sorted(admin.site._registry, key=lambda model: model._meta.label)
USER_AGENT = "ZoraAdminTest/1.0"


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    client.defaults["HTTP_USER_AGENT"] = USER_AGENT
    return client


@pytest.fixture
def marketplace(admin_user):
    """At least one row of every registered model, written the way production writes them."""
    vendor = factories.VendorFactory()
    factories.VendorStaffFactory(vendor=vendor)
    category = factories.CategoryFactory(name="Bakery")
    bread = catalog.product_create(
        actor=vendor.owner, vendor=vendor, name="Sourdough", price=Decimal("4.50"), stock=20, category=category
    )
    catalog.product_create(actor=vendor.owner, vendor=vendor, name="Rye", price=Decimal("5.00"), stock=0)
    shopper = factories.UserFactory(email="shopper@example.test")
    orders.cart_add_item(user=shopper, product=bread, quantity=2)
    [order] = orders.order_checkout(customer=shopper)
    for status in ["confirmed", "preparing", "ready", "out_for_delivery", "delivered"]:
        order = orders.order_transition(actor=admin_user, order=order, to_status=status)
    catalog.review_create(customer=shopper, order=order, rating=5, comment="Lovely", product=bread)
    orders.cart_add_item(user=shopper, product=bread)
    catalog.wishlist_add(user=shopper, product=bread)
    accounts.api_token_create(user=shopper, name="Phone")
    vendors.application_submit(
        applicant=factories.UserFactory(),
        business_name="Corner Deli",
        business_type="sole_trader",
        contact_name="Dee Li",
        contact_email="dee@example.test",
        address="5 Deli Row, London",
    )
    support.thread_create(customer=shopper, order=order, subject="Crumbs everywhere", body="The bag split.")
    support.email_template_create(actor=admin_user, name="Sorry", subject="Sorry", body="We are sorry.")
    support.conversation_start(customer=shopper, vendor=vendor, order=order, body="Thanks!")
    Group.objects.create(name="Support team")
    vendors.vendor_set_status(actor=vendor.owner, vendor=vendor, opening_status="closed", pause_reason="Stocktake")
    vendors.vendor_set_status(actor=vendor.owner, vendor=vendor, opening_status="open")
    return {"vendor": vendor, "order": order, "shopper": shopper, "bread": bread}


NO_SUCH_TEXT = "no-row-holds-this-7f3a"


def listed(client, model, **query) -> set:
    """The primary keys the changelist finds (every page of it), and proof the page rendered."""
    response = client.get(admin_url(model, "changelist"), query)
    assert response.status_code == 200, response.content[:500]
    return set(response.context["cl"].queryset.values_list("pk", flat=True))


def own_search_term(model, obj) -> str | None:
    """A value `obj` holds in one of its model's search fields, followed through relations."""
    for field in admin.site._registry[model].search_fields:
        value = obj
        for part in field.lstrip("^=@").split("__"):
            value = getattr(value, part, None)
        if value not in (None, ""):
            return str(value)
    return None


@pytest.mark.parametrize("model", REGISTERED_MODELS, ids=lambda model: model._meta.label)
def test_changelist_search_and_change_page_render_with_data(admin_client, marketplace, model):
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"the marketplace fixture wrote no {model._meta.label}"

    everything = listed(admin_client, model)
    assert obj.pk in everything
    # Words and numbers, so text and id lookups in search_fields are both exercised: never more than all.
    assert listed(admin_client, model, q="sourdough 1") <= everything
    if admin.site._registry[model].search_fields:
        term = own_search_term(model, obj)
        assert term is not None, f"{model._meta.label}'s first row holds none of its search fields"
        assert obj.pk in listed(admin_client, model, q=term)
        assert listed(admin_client, model, q=NO_SUCH_TEXT) == set()
    else:
        assert listed(admin_client, model, q=NO_SUCH_TEXT) == everything
    change_page = admin_client.get(admin_url(model, "change", obj.pk))
    assert change_page.status_code == 200
    assert change_page.context["original"].pk == obj.pk


@pytest.mark.parametrize(
    ("model", "term", "expected", "unexpected"),
    [
        (User, "shopper@", "shopper@example.test", "dee@example.test"),
        (Product, "sourd", "Sourdough", "Rye"),
        (VendorApplication, "deli", "Corner Deli", "Sourdough"),
    ],
)
def test_search_finds_matching_rows_only(admin_client, marketplace, model, term, expected, unexpected):
    page = admin_client.get(admin_url(model, "changelist"), {"q": term}).content.decode()

    assert expected in page
    assert unexpected not in page


def test_search_finds_an_order_by_its_number(admin_client, marketplace):
    other = factories.OrderFactory()

    page = admin_client.get(admin_url(Order, "changelist"), {"q": marketplace["order"].number}).content.decode()

    assert marketplace["order"].number in page
    assert other.number not in page


def test_activity_log_refuses_add_change_and_delete_even_for_a_superuser(admin_client, marketplace):
    entry = AdminActivityLog.objects.first()
    model_admin = admin.site._registry[AdminActivityLog]
    request = admin_client.get(admin_url(AdminActivityLog, "changelist")).wsgi_request

    assert admin_client.get(admin_url(AdminActivityLog, "add")).status_code == 403
    assert admin_client.get(admin_url(AdminActivityLog, "delete", entry.pk)).status_code == 403
    response = admin_client.post(admin_url(AdminActivityLog, "change", entry.pk), {"action": "tampered"})
    assert response.status_code == 403
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)
    entry.refresh_from_db()
    assert entry.action != "tampered"


def run_action(client, model, action, objects, **extra):
    return client.post(
        admin_url(model, "changelist"),
        {"action": action, "_selected_action": [obj.pk for obj in objects], "index": 0, **extra},
        follow=True,
    )


def test_approving_an_application_creates_the_vendor_and_logs_it(admin_client, admin_user):
    application = factories.VendorApplicationFactory(business_name="Fresh Fish")
    vendors.application_start_review(actor=admin_user, application=application)

    response = run_action(admin_client, VendorApplication, "approve", [application])

    assert response.status_code == 200
    application.refresh_from_db()
    assert application.status == VendorApplication.Status.APPROVED
    vendor = Vendor.objects.get(name="Fresh Fish")
    assert vendor.owner == application.applicant
    assert application.vendor == vendor
    assert application.status_history.filter(to_status="approved", changed_by=admin_user).exists()
    entry = AdminActivityLog.objects.get(action="application.approved")
    assert (entry.admin, entry.entity_id) == (admin_user, str(application.pk))
    assert (entry.ip_address, entry.user_agent) == ("127.0.0.1", USER_AGENT)


def test_rejecting_without_a_reason_is_refused_with_the_services_message(admin_client, admin_user):
    application = factories.VendorApplicationFactory()
    vendors.application_start_review(actor=admin_user, application=application)

    response = run_action(admin_client, VendorApplication, "reject", [application], reason="")

    assert "reason is required" in response.content.decode()
    application.refresh_from_db()
    assert application.status == VendorApplication.Status.UNDER_REVIEW


def test_rejecting_with_a_reason_notifies_the_applicant(admin_client, admin_user):
    application = factories.VendorApplicationFactory()
    vendors.application_start_review(actor=admin_user, application=application)

    run_action(admin_client, VendorApplication, "reject", [application], reason="Outside our delivery area")

    application.refresh_from_db()
    assert (application.status, application.reason) == ("rejected", "Outside our delivery area")
    assert Notification.objects.filter(user=application.applicant, title="Application rejected").exists()


def test_order_actions_move_orders_through_order_transition(admin_client, admin_user, marketplace):
    shopper, bread = marketplace["shopper"], marketplace["bread"]
    orders.cart_add_item(user=shopper, product=bread, quantity=1)
    [order] = orders.order_checkout(customer=shopper)

    run_action(admin_client, Order, "mark_confirmed", [order], reason="Called the shop")

    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED
    assert order.status_history.filter(to_status="confirmed", changed_by=admin_user, note="Called the shop").exists()
    assert Notification.objects.filter(user=shopper, data__order_id=order.pk, data__status="confirmed").exists()
    assert AdminActivityLog.objects.filter(action="order_status_changed", entity_id=str(order.pk)).exists()


def test_an_illegal_order_move_is_refused_and_changes_nothing(admin_client, marketplace):
    delivered = marketplace["order"]

    response = run_action(admin_client, Order, "mark_confirmed", [delivered])

    assert "cannot go from delivered to confirmed" in response.content.decode()
    delivered.refresh_from_db()
    assert delivered.status == Order.Status.DELIVERED


def test_suspending_a_user_goes_through_the_service(admin_client, admin_user):
    user = factories.UserFactory()
    accounts.api_token_create(user=user, name="Phone")

    run_action(admin_client, User, "suspend_users", [user])

    user.refresh_from_db()
    assert user.is_suspended
    assert not user.api_tokens.filter(revoked_at__isnull=True).exists()
    assert AdminActivityLog.objects.filter(action="user.suspended", entity_id=str(user.pk), admin=admin_user).exists()


def test_acknowledging_an_alert_from_the_admin(admin_client, admin_user, marketplace):
    alert = InventoryAlert.objects.filter(product__name="Rye", type="stockout").get()

    run_action(admin_client, InventoryAlert, "acknowledge", [alert])

    alert.refresh_from_db()
    assert (alert.status, alert.acknowledged_by) == (InventoryAlert.Status.ACKNOWLEDGED, admin_user)


def test_editing_stock_in_the_change_form_raises_the_inventory_alert(admin_client, marketplace):
    bread = marketplace["bread"]
    form = {
        "name": bread.name,
        "description": bread.description,
        "price": "4.50",
        "stock": "0",
        "low_stock_threshold": str(bread.low_stock_threshold),
        "is_active": "on",
        "images": "[]",
        "category": bread.category_id,
    }

    response = admin_client.post(admin_url(Product, "change", bread.pk), form)

    assert response.status_code == 302, response.content.decode()
    bread.refresh_from_db()
    assert bread.stock == 0
    assert InventoryAlert.objects.filter(product=bread, type="stockout", status="active").exists()
    assert AdminActivityLog.objects.filter(action="product_updated", entity_id=str(bread.pk)).exists()


def test_the_add_user_form_registers_a_user_who_can_log_in(admin_client):
    response = admin_client.post(
        admin_url(User, "add"),
        {
            "email": "New.Person@Example.test",
            "full_name": "New Person",
            "password1": "a-long-unusual-passphrase",
            "password2": "a-long-unusual-passphrase",
        },
    )

    assert response.status_code == 302, response.content.decode()
    user = User.objects.get(email="new.person@example.test")
    assert user.check_password("a-long-unusual-passphrase")
    assert Profile.objects.filter(user=user).exists()
    assert accounts.user_authenticate(email="new.person@example.test", password="a-long-unusual-passphrase") == user


def test_changing_a_thread_status_in_the_form_is_logged(admin_client, admin_user, marketplace):
    thread = EmailThread.objects.get()

    [message] = thread.messages.all()
    form = {"status": "closed", "priority": "high", "assignee": admin_user.pk}
    # The read-only messages inline still posts its management form and row ids.
    messages = {"messages-TOTAL_FORMS": 1, "messages-INITIAL_FORMS": 1, "messages-0-id": message.pk}

    response = admin_client.post(admin_url(EmailThread, "change", thread.pk), {**form, **messages})

    assert response.status_code == 302, response.content.decode()
    thread.refresh_from_db()
    assert (thread.status, thread.priority, thread.assignee) == ("closed", "high", admin_user)
    entry = AdminActivityLog.objects.get(action="support.thread_updated")
    assert entry.details["status"] == {"from": "open", "to": "closed"}
