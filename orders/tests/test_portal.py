"""The order desk of the vendor portal, through Django's test client."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, OrderNote
from orders.services import cart_add_item, order_accept, order_checkout, order_note_add, order_transition
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
Status = Order.Status


@pytest.fixture
def clerk(vendor):
    return factories.VendorStaffFactory(vendor=vendor, user__full_name="Sam Clerk").user


@pytest.fixture
def staff_client(client, clerk):
    client.force_login(clerk)
    return client


@pytest.fixture
def customer(db):
    return factories.UserFactory(full_name="Priya Patel", email="priya@example.test", phone="07700 900123")


@pytest.fixture
def order(customer, vendor):
    """A pending order placed through checkout, so it has its acceptance deadline."""
    product = factories.ProductFactory(vendor=vendor, name="Sourdough loaf", stock=10)
    cart_add_item(user=customer, product=product, quantity=2)
    (placed,) = order_checkout(customer=customer, delivery_address="12 Canal Street, London", notes="Ring twice")
    return placed


def page_urls(order):
    return [
        reverse("vendor:orders"),
        reverse("vendor:orders-list"),
        reverse("vendor:order-detail", args=[order.pk]),
        reverse("vendor:order-status", args=[order.pk]),
        reverse("vendor:order-history", args=[order.pk]),
        reverse("vendor:order-ticket", args=[order.pk]),
    ]


def move(client, order, to_status, expected_status, htmx=True, **fields):
    data = {"to_status": to_status, "expected_status": expected_status, **fields}
    return client.post(reverse("vendor:order-move", args=[order.pk]), data, **(HTMX if htmx else {}))


def add_note(client, order, htmx=True, **fields):
    return client.post(reverse("vendor:order-note-add", args=[order.pk]), fields, **(HTMX if htmx else {}))


# Who gets in ---------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, order):
    for url in page_urls(order):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), url
    response = move(client, order, Status.CONFIRMED, Status.PENDING, prep_minutes=10)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    order.refresh_from_db()
    assert order.status == Status.PENDING


def test_a_customer_gets_the_login_page_even_for_their_own_order(client, customer, order):
    client.force_login(customer)
    for url in page_urls(order):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), url
    assert add_note(client, order, body="Hi", visibility="internal").status_code == 302
    assert not OrderNote.objects.exists()


def test_another_shops_staff_get_404_for_this_shops_order(client, order):
    client.force_login(factories.VendorFactory().owner)
    for url in page_urls(order)[2:]:
        assert client.get(url).status_code == 404, url
    assert move(client, order, Status.CONFIRMED, Status.PENDING, prep_minutes=10).status_code == 404
    assert add_note(client, order, body="Hi", visibility="internal").status_code == 404
    assert order.number not in client.get(reverse("vendor:orders")).content.decode()
    order.refresh_from_db()
    assert order.status == Status.PENDING and not OrderNote.objects.exists()


def test_the_shops_own_staff_see_every_page(staff_client, order):
    for url in page_urls(order):
        assert staff_client.get(url).status_code == 200, url


def test_status_moves_and_notes_need_a_post(staff_client, order):
    assert staff_client.get(reverse("vendor:order-move", args=[order.pk])).status_code == 405
    assert staff_client.get(reverse("vendor:order-note-add", args=[order.pk])).status_code == 405


# The list ------------------------------------------------------------------------------------


def test_the_list_puts_new_orders_first_with_their_countdown(staff_client, vendor, order):
    accepted = factories.OrderFactory(vendor=vendor, status=Status.PREPARING, number="ZR-LATER001")
    page = staff_client.get(reverse("vendor:orders")).content.decode()

    assert page.index(order.number) < page.index(accepted.number)
    stamp = order.accept_by.isoformat()
    assert f'<time class="countdown" datetime="{stamp}" data-deadline="{stamp}">' in page
    assert 'id="orders-list"' in page and 'hx-trigger="zora:changed:orders from:body"' in page
    assert "orders" in page.split('data-realtime-tables="')[1].split('"')[0]


def test_a_late_order_shows_as_late(staff_client, vendor):
    waiting = factories.OrderFactory(vendor=vendor, accept_by=timezone.now() - timedelta(seconds=75))
    overdue = factories.OrderFactory(
        vendor=vendor, status=Status.PREPARING, estimated_ready_at=timezone.now() - timedelta(minutes=5)
    )
    page = staff_client.get(reverse("vendor:orders-list")).content.decode()
    assert 'class="countdown late"' in page and ">late 1:1" in page
    assert page.count("order-late") == 2, (waiting.number, overdue.number)
    assert "was due" in page


def test_the_tabs_filter_by_status_and_count(staff_client, vendor, order):
    factories.OrderFactory(vendor=vendor, status=Status.PREPARING, number="ZR-PREP0001")
    factories.OrderFactory(vendor=vendor, status=Status.DELIVERED, number="ZR-DONE0001")
    factories.OrderFactory(vendor=vendor, status=Status.REFUNDED, number="ZR-REFD0001")

    def listed(**query):
        return staff_client.get(reverse("vendor:orders-list"), query).content.decode()

    assert order.number in listed(status="pending") and "ZR-PREP0001" not in listed(status="pending")
    assert "ZR-PREP0001" in listed(status="active") and order.number not in listed(status="active")
    assert "ZR-REFD0001" in listed(status="cancelled") and "ZR-DONE0001" not in listed(status="cancelled")
    every = listed()
    assert all(number in every for number in (order.number, "ZR-PREP0001", "ZR-DONE0001", "ZR-REFD0001"))
    assert 'New <span class="badge badge-pending">1</span>' in every
    assert 'All <span class="badge badge-muted">4</span>' in every


def test_search_by_number_name_or_email(staff_client, vendor, order):
    other = factories.OrderFactory(vendor=vendor, customer=factories.UserFactory(full_name="Tom Baker"))

    def found(query):
        page = staff_client.get(reverse("vendor:orders-list"), {"q": query}).content.decode()
        return {number for number in (order.number, other.number) if number in page}

    assert found(order.number[-4:].lower()) == {order.number}
    assert found("priya pat") == {order.number}
    assert found("PRIYA@EXAMPLE") == {order.number}
    assert found("baker") == {other.number}
    assert found("nobody") == set()
    assert (
        "No orders match these filters." in staff_client.get(reverse("vendor:orders"), {"q": "nobody"}).content.decode()
    )


def test_filter_by_date(staff_client, vendor, order):
    old = factories.OrderFactory(vendor=vendor, number="ZR-OLD00001")
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    today = timezone.localdate()

    def listed(**query):
        page = staff_client.get(reverse("vendor:orders-list"), query).content.decode()
        return {number for number in (order.number, old.number) if number in page}

    assert listed(period="today") == {order.number}
    assert listed(period="week") == {order.number}
    assert listed() == {order.number, old.number}
    ten_days_ago = (today - timedelta(days=10)).isoformat()
    assert listed(placed_from=ten_days_ago, placed_to=ten_days_ago) == {old.number}
    assert listed(placed_to=(today - timedelta(days=1)).isoformat()) == {old.number}


def test_a_bad_date_range_is_shown_and_filters_nothing(staff_client, vendor, order):
    today = timezone.localdate()
    query = {"placed_from": today.isoformat(), "placed_to": (today - timedelta(days=3)).isoformat()}
    page = staff_client.get(reverse("vendor:orders"), query).content.decode()
    assert "The end date is before the start date." in page
    assert order.number in page
    assert "Enter a valid date." in staff_client.get(reverse("vendor:orders"), {"placed_from": "soon"}).content.decode()


def test_the_list_pages_past_fifty_orders(staff_client, vendor):
    for _ in range(51):
        factories.OrderFactory(vendor=vendor, status=Status.DELIVERED)
    first = staff_client.get(reverse("vendor:orders-list")).content.decode()
    assert "Page 1 of 2" in first and "?page=2" in first
    assert "Page 2 of 2" in staff_client.get(reverse("vendor:orders-list"), {"page": 2}).content.decode()


# One order -----------------------------------------------------------------------------------


def test_the_order_page_shows_everything_the_shop_needs(staff_client, order):
    page = staff_client.get(reverse("vendor:order-detail", args=[order.pk])).content.decode()
    for text in (
        "Sourdough loaf",
        "Priya Patel",
        "07700 900123",
        "12 Canal Street, London",
        "Ring twice",
        f"£{order.subtotal}",
        f"£{order.total}",
        "placed the order",
        reverse("vendor:order-ticket", args=[order.pk]),
    ):
        assert text in page, text
    status_region = page.split('id="order-status"')[1].split(">")[0]
    history_region = page.split('id="order-history"')[1].split(">")[0]
    assert 'hx-trigger="zora:changed:orders from:body"' in status_region
    assert 'hx-trigger="zora:changed:orders from:body, zora:changed:order_notes from:body"' in history_region
    assert "orders order_notes" in page.split('data-realtime-tables="')[1].split('"')[0]
    assert "data-order-status" in page and "data-deadline" in page and "data-optimistic-scope" in page


@pytest.mark.parametrize(
    ("status", "buttons"),
    [
        (Status.PENDING, ["confirmed", "cancelled"]),
        (Status.CONFIRMED, ["preparing", "cancelled"]),
        (Status.PREPARING, ["ready", "cancelled"]),
        (Status.READY, ["out_for_delivery"]),
        (Status.OUT_FOR_DELIVERY, ["delivered"]),
        (Status.DELIVERED, []),
        (Status.CANCELLED, []),
    ],
)
def test_only_the_legal_next_statuses_are_buttons(staff_client, vendor, status, buttons):
    order = factories.OrderFactory(vendor=vendor, status=status)
    page = staff_client.get(reverse("vendor:order-status", args=[order.pk])).content.decode()
    shown = [chunk.split('"')[0] for chunk in page.split('data-optimistic-status="')[1:]]
    assert shown == buttons
    assert page.count(f'name="expected_status" value="{status}"') == len(buttons)
    if status == Status.PENDING:
        assert "Reject" in page and "Ready in" in page and "60 min" in page
    if not buttons:
        assert "Nothing left to do" in page


def test_accepting_with_htmx_answers_with_the_buttons_and_the_timeline(staff_client, order):
    response = move(staff_client, order, Status.CONFIRMED, Status.PENDING, prep_minutes=30)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page and 'data-optimistic-status="preparing"' in page
    assert '<div id="order-history" hx-swap-oob="innerHTML">' in page
    order.refresh_from_db()
    assert (order.status, order.prep_minutes) == (Status.CONFIRMED, 30)
    assert timezone.localtime(order.estimated_ready_at).strftime("%H:%M") in page
    assert "Sam Clerk</strong> accepted the order" in page


def test_accepting_without_htmx_redirects_with_a_message(staff_client, order):
    response = move(staff_client, order, Status.CONFIRMED, Status.PENDING, htmx=False, prep_minutes=15)
    assert response.status_code == 302 and response.url == reverse("vendor:order-detail", args=[order.pk])
    page = staff_client.get(response.url).content.decode()
    assert f"Order {order.number} has been confirmed." in page


def test_accepting_needs_a_prep_time(staff_client, order):
    response = move(staff_client, order, Status.CONFIRMED, Status.PENDING)
    assert response.status_code == 422
    assert "Choose how long the order will take to prepare." in response.content.decode()
    response = move(staff_client, order, Status.CONFIRMED, Status.PENDING, prep_minutes=17)
    assert response.status_code == 422 and "Select a valid choice" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Status.PENDING


def test_an_invalid_move_without_htmx_rerenders_the_page(staff_client, order):
    response = move(staff_client, order, Status.CONFIRMED, Status.PENDING, htmx=False)
    assert response.status_code == 200
    assert "<html" in response.content.decode() and "Choose how long" in response.content.decode()


def test_each_later_move_through_the_page(staff_client, vendor, order):
    order_accept(actor=vendor.owner, order=order, prep_minutes=10)
    for expected, to_status in [
        (Status.CONFIRMED, Status.PREPARING),
        (Status.PREPARING, Status.READY),
        (Status.READY, Status.OUT_FOR_DELIVERY),
        (Status.OUT_FOR_DELIVERY, Status.DELIVERED),
    ]:
        assert move(staff_client, order, to_status, expected).status_code == 200
        order.refresh_from_db()
        assert order.status == to_status


def test_rejecting_with_a_reason(staff_client, order):
    response = move(
        staff_client, order, Status.CANCELLED, Status.PENDING, reason_code="out_of_stock", reason_text="No sourdough"
    )
    assert response.status_code == 200
    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == (Status.CANCELLED, "Some items are out of stock: No sourdough")
    assert "Sam Clerk</strong> rejected the order" in response.content.decode()


def test_rejecting_needs_a_reason(staff_client, order):
    response = move(staff_client, order, Status.CANCELLED, Status.PENDING)
    assert response.status_code == 422
    assert "Choose a reason: the customer is told it." in response.content.decode()
    assert '<details class="order-reject" open>' in response.content.decode()


def test_a_service_refusal_is_shown_on_its_field(staff_client, order):
    response = move(staff_client, order, Status.CANCELLED, Status.PENDING, reason_code="other", reason_text="  ")
    assert response.status_code == 422
    assert "Say why in a few words when the reason is not in the list." in response.content.decode()
    order.refresh_from_db()
    assert order.status == Status.PENDING


def test_an_illegal_move_is_refused_with_a_message(staff_client, order):
    response = move(staff_client, order, Status.DELIVERED, Status.PENDING)
    assert response.status_code == 422
    assert "An order cannot go from pending to delivered." in response.content.decode()


def test_a_stale_click_answers_409_at_the_current_status_and_says_who_moved_it(staff_client, vendor, order):
    owner = vendor.owner
    owner.full_name = "Olu Owner"
    owner.save()
    order_accept(actor=owner, order=order, prep_minutes=10)
    order_transition(actor=owner, order=order, to_status=Status.PREPARING)
    moved_at = timezone.localtime(order.status_history.order_by("id").last().created_at).strftime("%H:%M")

    response = move(staff_client, order, Status.CONFIRMED, Status.PENDING, prep_minutes=10)

    assert response.status_code == 409
    page = response.content.decode()
    assert f"This order was already moved to Preparing by Olu Owner at {moved_at}; nothing was changed." in page
    assert 'data-optimistic-status="ready"' in page and 'data-optimistic-status="confirmed"' not in page
    assert ">Preparing</span>" in page and "Olu Owner</strong> started preparing it" in page
    order.refresh_from_db()
    assert order.status == Status.PREPARING and order.prep_minutes == 10


def test_a_stale_click_without_htmx_shows_the_whole_page_with_the_message(staff_client, vendor, order):
    order_accept(actor=vendor.owner, order=order, prep_minutes=10)
    response = move(staff_client, order, Status.CANCELLED, Status.PENDING, htmx=False, reason_code="too_busy")
    assert response.status_code == 409
    assert "<html" in response.content.decode() and "already moved to Confirmed" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Status.CONFIRMED


# Notes ---------------------------------------------------------------------------------------


def test_adding_an_internal_note(staff_client, clerk, order):
    response = add_note(staff_client, order, body="Regular: extra napkins", visibility="internal")
    assert response.status_code == 200
    note = OrderNote.objects.get()
    assert (note.author, note.is_internal) == (clerk, True)
    form, history = response.content.decode().split('<div id="order-history" hx-swap-oob="innerHTML">')
    assert "<form" in form and "Regular: extra napkins" not in form, "a fresh form for the next note"
    assert "Regular: extra napkins" in history and "Sam Clerk</strong> added an internal note" in history


def test_adding_a_note_for_the_customer_without_htmx(staff_client, order):
    response = add_note(staff_client, order, htmx=False, body="Out in ten minutes", visibility="customer")
    assert response.status_code == 302
    assert OrderNote.objects.get().is_internal is False
    page = staff_client.get(response.url).content.decode()
    assert "Note added." in page and "Out in ten minutes" in page and "customer sees it" in page


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"body": "", "visibility": "internal"}, "This field is required."),
        ({"body": "Hello", "visibility": "everyone"}, "Select a valid choice."),
        ({"body": "x" * 2001, "visibility": "internal"}, "Ensure this value has at most 2000 characters"),
    ],
)
def test_an_invalid_note_is_shown_with_its_error(staff_client, order, fields, error):
    response = add_note(staff_client, order, **fields)
    assert response.status_code == 422
    assert error in response.content.decode()
    assert not OrderNote.objects.exists()


def test_a_note_of_only_spaces_is_refused(staff_client, order):
    response = add_note(staff_client, order, htmx=False, body="   ", visibility="internal")
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()


def test_both_kinds_of_notes_are_listed(staff_client, vendor, order):
    order_note_add(actor=vendor.owner, order=order, body="Staff eyes only")
    order_note_add(actor=vendor.owner, order=order, body="Told the customer", is_internal=False)
    page = staff_client.get(reverse("vendor:order-history", args=[order.pk])).content.decode()
    staff_part, customer_part = page.split("Seen by the customer")
    assert "Staff eyes only" in staff_part.split("Staff only")[1]
    assert "Told the customer" in customer_part


# The ticket ----------------------------------------------------------------------------------


def test_the_ticket_is_a_page_of_its_own_for_printing(staff_client, vendor, order):
    order_accept(actor=vendor.owner, order=order, prep_minutes=20)
    order_note_add(actor=vendor.owner, order=order, body="Nut allergy")
    page = staff_client.get(reverse("vendor:order-ticket", args=[order.pk])).content.decode()
    assert "@media print" in page and 'class="topbar"' not in page
    for text in (order.number, "2×", "Sourdough loaf", "Priya Patel", "12 Canal Street", "Ring twice", "Nut allergy"):
        assert text in page, text
    assert "Ready by" in page


def test_an_item_can_be_marked_out_of_stock_from_the_order_while_it_is_being_made(staff_client, order):
    page = staff_client.get(f"/vendor/orders/{order.pk}/").content.decode()
    product = order.items.get().product
    assert "Mark it out of stock" in page and f"/vendor/products/{product.pk}/out-of-stock/" in page
    response = staff_client.post(
        f"/vendor/products/{product.pk}/out-of-stock/", {"until": "indefinitely", "next": f"/vendor/orders/{order.pk}/"}
    )
    assert response.status_code == 302 and response["Location"] == f"/vendor/orders/{order.pk}/"
    product.refresh_from_db()
    assert product.stock == 0


def test_a_finished_order_offers_no_stock_change(staff_client, vendor):
    done = factories.OrderFactory(vendor=vendor, status=Order.Status.DELIVERED)
    assert "Mark it out of stock" not in staff_client.get(f"/vendor/orders/{done.pk}/").content.decode()
