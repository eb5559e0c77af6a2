"""The Products, Inventory alerts and Reviews pages of the vendor portal, through Django's test client."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import InventoryAlert, OutOfStockFor, Product, ProductImage, Review, StockMovement
from catalog.services import (
    inventory_alerts_sync,
    product_image_add,
    product_mark_out_of_stock,
    product_moderate,
    review_create,
    review_reply,
)
from orders.models import Order
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def clerk(vendor):
    return factories.VendorStaffFactory(vendor=vendor, user__full_name="Ana Clerk").user


@pytest.fixture
def staff_client(client, clerk):
    client.force_login(clerk)
    return client


@pytest.fixture
def product(vendor):
    return factories.ProductFactory(vendor=vendor, name="Sourdough", price=Decimal("3.50"), stock=12)


@pytest.fixture
def image(vendor, product):
    return product_image_add(actor=vendor.owner, product=product, upload=factories.image_upload())


@pytest.fixture
def alert(vendor):
    low = factories.ProductFactory(vendor=vendor, name="Rye", stock=2, low_stock_threshold=5)
    inventory_alerts_sync(product=low)
    return InventoryAlert.objects.get(product=low)


@pytest.fixture
def review(customer, vendor):
    order = factories.OrderFactory(customer=customer, vendor=vendor, status=Order.Status.DELIVERED)
    return review_create(customer=customer, order=order, rating=4, comment="Crusty and warm")


def page_urls(product, image, alert, review):
    """GET pages: the first ones list the shop's own things, the rest are one object's."""
    return [
        reverse("vendor:products"),
        reverse("vendor:products-list"),
        reverse("vendor:product-create"),
        reverse("vendor:inventory"),
        reverse("vendor:inventory-list"),
        reverse("vendor:reviews"),
        reverse("vendor:reviews-list"),
        reverse("vendor:product-edit", args=[product.pk]),
        reverse("vendor:product-stock", args=[product.pk]),
        reverse("vendor:product-stock-history", args=[product.pk]),
    ]


def post_urls(product, image, alert, review):
    return [
        (reverse("vendor:product-edit", args=[product.pk]), {"name": "Stolen", "price": "0.01"}),
        (reverse("vendor:product-active", args=[product.pk]), {"active": "0"}),
        (
            reverse("vendor:product-stock-adjust", args=[product.pk]),
            {"mode": "set", "quantity": "0", "reason": "other"},
        ),
        (reverse("vendor:product-out-of-stock", args=[product.pk]), {"until": "four_hours"}),
        (reverse("vendor:product-back-in-stock", args=[product.pk]), {}),
        (reverse("vendor:product-image-add", args=[product.pk]), {"image": factories.image_upload()}),
        (reverse("vendor:product-image-remove", args=[product.pk, image.pk]), {}),
        (reverse("vendor:product-image-main", args=[product.pk, image.pk]), {}),
        (reverse("vendor:inventory-acknowledge", args=[alert.pk]), {}),
        (reverse("vendor:review-reply", args=[review.pk]), {f"review-{review.pk}-body": "Hijacked"}),
    ]


def assert_untouched(product, image, alert, review):
    product.refresh_from_db()
    alert.refresh_from_db()
    review.refresh_from_db()
    assert (product.name, product.stock, product.is_active, product.stock_to_restore) == ("Sourdough", 12, True, None)
    assert ProductImage.objects.filter(product=product).count() == 1
    assert alert.status == InventoryAlert.Status.ACTIVE
    assert review.reply == ""


# Who gets in ---------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, product, image, alert, review):
    for url in page_urls(product, image, alert, review):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), url
    for url, data in post_urls(product, image, alert, review):
        response = client.post(url, data)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), url
    assert_untouched(product, image, alert, review)


def test_a_customer_gets_the_login_page(client, customer, product, image, alert, review):
    client.force_login(customer)
    for url in page_urls(product, image, alert, review):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), url
    for url, data in post_urls(product, image, alert, review):
        assert client.post(url, data).status_code == 302, url
    assert_untouched(product, image, alert, review)


def test_another_shops_staff_get_404_for_this_shops_things(client, product, image, alert, review):
    client.force_login(factories.VendorFactory().owner)

    for url in page_urls(product, image, alert, review)[7:]:
        assert client.get(url).status_code == 404, url
    for url, data in post_urls(product, image, alert, review):
        assert client.post(url, data).status_code == 404, url
    assert_untouched(product, image, alert, review)
    for url in page_urls(product, image, alert, review)[:7]:
        page = client.get(url).content.decode()
        assert "Sourdough" not in page and "Rye" not in page and "Crusty" not in page, url


def test_the_shops_own_staff_see_every_page(staff_client, product, image, alert, review):
    for url in page_urls(product, image, alert, review):
        assert staff_client.get(url).status_code == 200, url


def test_writes_need_a_post(staff_client, product, image, alert, review):
    for url, _data in post_urls(product, image, alert, review)[1:]:
        assert staff_client.get(url).status_code == 405, url


# Products list -------------------------------------------------------------------------------


def test_the_list_shows_photo_price_stock_status_and_badges(staff_client, vendor, product, image):
    factories.ProductFactory(vendor=vendor, name="Bagel", stock=0)
    factories.ProductFactory(vendor=vendor, name="Bun", stock=3, low_stock_threshold=5)
    factories.ProductFactory(vendor=vendor, name="Cake", is_active=False)

    page = staff_client.get(reverse("vendor:products")).content.decode()

    assert f'src="{image.thumbnail.url}"' in page
    assert "£3.50" in page
    assert page.count("Sold out</span>") == 1 and page.count("Low stock</span>") == 1
    assert "Inactive" in page
    assert 'hx-trigger="zora:changed:products from:body"' in page
    assert "products" in page.split('data-realtime-tables="')[1].split('"')[0]


def test_the_list_searches_and_filters(staff_client, vendor, product):
    factories.ProductFactory(vendor=vendor, name="Bagel", stock=0)

    def listed(**query):
        return staff_client.get(reverse("vendor:products-list"), query).content.decode()

    assert "Sourdough" in listed(q="sour") and "Bagel" not in listed(q="sour")
    assert "Bagel" in listed(state="sold_out") and "Sourdough" not in listed(state="sold_out")
    assert "Sourdough" in listed(state="nonsense"), "a bad filter shows everything"
    assert "No product matches" in listed(q="zzz")


def test_the_list_shows_a_product_held_out_of_stock_and_when_it_returns(staff_client, vendor, product):
    product_mark_out_of_stock(actor=vendor.owner, product=product, until=OutOfStockFor.FOUR_HOURS)

    assert "Out of stock until" in staff_client.get(reverse("vendor:products-list")).content.decode()


# Create and edit -----------------------------------------------------------------------------


def test_creating_a_product_goes_to_its_page(staff_client, vendor, clerk):
    category = factories.CategoryFactory(name="Bakery")
    response = staff_client.post(
        reverse("vendor:product-create"),
        {
            "name": "Baguette",
            "price": "2.20",
            "stock": "30",
            "low_stock_threshold": "5",
            "category": category.pk,
            "is_active": "on",
        },
    )

    product = Product.objects.get(name="Baguette")
    assert response.status_code == 302 and response.url == reverse("vendor:product-edit", args=[product.pk])
    assert (product.vendor, product.price, product.stock, product.is_active) == (vendor, Decimal("2.20"), 30, True)
    assert StockMovement.objects.get(product=product).actor == clerk


def test_an_invalid_product_shows_the_field_errors(staff_client):
    response = staff_client.post(reverse("vendor:product-create"), {"name": "", "price": "-1", "stock": "1"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "This field is required." in page and "greater than or equal to 0" in page
    assert not Product.objects.exists()


def test_editing_details_saves_and_redirects(staff_client, product):
    response = staff_client.post(
        reverse("vendor:product-edit", args=[product.pk]),
        {"name": "Seeded sourdough", "description": "With sunflower", "price": "3.90", "low_stock_threshold": "4"},
        follow=True,
    )

    product.refresh_from_db()
    assert (product.name, product.price, product.low_stock_threshold) == ("Seeded sourdough", Decimal("3.90"), 4)
    assert "Product saved." in response.content.decode()


def test_deactivate_and_reactivate(staff_client, product):
    staff_client.post(reverse("vendor:product-active", args=[product.pk]), {"active": "0"})
    product.refresh_from_db()
    assert not product.is_active
    page = staff_client.get(reverse("vendor:product-edit", args=[product.pk])).content.decode()
    assert "Reactivate" in page

    staff_client.post(reverse("vendor:product-active", args=[product.pk]), {"active": "1"})
    product.refresh_from_db()
    assert product.is_active


def test_a_product_the_team_took_off_sale_stays_off_and_the_shop_is_told_why(staff_client, product, admin_user):
    product_moderate(actor=admin_user, product=product, active=False, reason="Mislabelled allergens.")
    answer = staff_client.post(reverse("vendor:product-active", args=[product.pk]), {"active": "1"}, follow=True)
    assert answer.status_code == 200
    assert "The Zora team took Sourdough off sale: Mislabelled allergens." in answer.content.decode()
    product.refresh_from_db()
    assert not product.is_active and product.moderation_reason == "Mislabelled allergens."


# Photos --------------------------------------------------------------------------------------


def test_uploading_a_photo_adds_it_to_the_product(staff_client, product):
    response = staff_client.post(
        reverse("vendor:product-image-add", args=[product.pk]), {"image": factories.image_upload("loaf.jpg", "JPEG")}
    )

    assert response.status_code == 302
    (image,) = ProductImage.objects.filter(product=product)
    product.refresh_from_db()
    assert product.images == [image.image.url]
    assert image.thumbnail.url in staff_client.get(response.url).content.decode()


def test_a_file_that_is_not_a_photo_is_refused_on_the_form(staff_client, product):
    fake = SimpleUploadedFile("loaf.jpg", b"%PDF-1.4 not a photo", content_type="image/jpeg")
    response = staff_client.post(reverse("vendor:product-image-add", args=[product.pk]), {"image": fake})

    assert response.status_code == 200
    assert "this file is a PDF document" in response.content.decode()
    assert not ProductImage.objects.exists()


def test_a_missing_file_is_a_form_error(staff_client, product):
    response = staff_client.post(reverse("vendor:product-image-add", args=[product.pk]), {})

    assert response.status_code == 200 and "This field is required." in response.content.decode()


def test_removing_and_choosing_the_main_photo(staff_client, vendor, product, image):
    second = product_image_add(actor=vendor.owner, product=product, upload=factories.image_upload())

    staff_client.post(reverse("vendor:product-image-main", args=[product.pk, second.pk]))
    product.refresh_from_db()
    assert product.images == [second.image.url, image.image.url]

    staff_client.post(reverse("vendor:product-image-remove", args=[product.pk, second.pk]))
    product.refresh_from_db()
    assert product.images == [image.image.url]


# Stock ---------------------------------------------------------------------------------------


def test_adjusting_stock_records_the_reason_and_shows_in_the_history(staff_client, product):
    response = staff_client.post(
        reverse("vendor:product-stock-adjust", args=[product.pk]),
        {"mode": "change", "quantity": "-2", "reason": "damaged", "note": "Dropped a tray"},
        follow=True,
    )

    product.refresh_from_db()
    assert product.stock == 10
    page = response.content.decode()
    assert "Damaged or expired" in page and "Dropped a tray" in page and "12 → 10" in page and "Ana Clerk" in page
    assert "−2" in page


def test_setting_the_count_over_htmx_returns_a_fresh_form_and_refreshes_the_panel(staff_client, product):
    response = staff_client.post(
        reverse("vendor:product-stock-adjust", args=[product.pk]),
        {"mode": "set", "quantity": "40", "reason": "correction"},
        **HTMX,
    )

    assert response.status_code == 200
    assert response["HX-Trigger"] == "zora:stock-adjusted"
    assert "<html" not in response.content.decode()
    product.refresh_from_db()
    assert product.stock == 40
    assert "12 → 40" in staff_client.get(reverse("vendor:product-stock-history", args=[product.pk])).content.decode()
    assert ">40<" in staff_client.get(reverse("vendor:product-stock", args=[product.pk])).content.decode()


def test_an_invalid_adjustment_shows_the_field_error(staff_client, product):
    response = staff_client.post(
        reverse("vendor:product-stock-adjust", args=[product.pk]), {"mode": "change", "reason": "restock"}, **HTMX
    )

    assert response.status_code == 422
    assert "This field is required." in response.content.decode()


def test_taking_away_more_than_the_stock_is_refused_on_the_quantity(staff_client, product):
    response = staff_client.post(
        reverse("vendor:product-stock-adjust", args=[product.pk]),
        {"mode": "change", "quantity": "-20", "reason": "damaged"},
    )

    assert response.status_code == 200
    assert "Only 12 of Sourdough in stock: you cannot take away 20." in response.content.decode()
    product.refresh_from_db()
    assert product.stock == 12 and not StockMovement.objects.exists()


def test_out_of_stock_until_from_an_order_page_returns_there(staff_client, product):
    order_page = "/vendor/orders/1/"
    response = staff_client.post(
        reverse("vendor:product-out-of-stock", args=[product.pk]), {"until": "end_of_day", "next": order_page}
    )

    assert response.status_code == 302 and response.url == order_page
    product.refresh_from_db()
    assert (product.stock, product.stock_to_restore) == (0, 12)
    assert product.out_of_stock_until is not None


def test_out_of_stock_refuses_to_send_anyone_off_site(staff_client, product):
    response = staff_client.post(
        reverse("vendor:product-out-of-stock", args=[product.pk]),
        {"until": "four_hours", "next": "https://evil.example/"},
    )

    assert response.url == reverse("vendor:product-edit", args=[product.pk])


def test_out_of_stock_refusals_are_shown(staff_client, vendor):
    empty = factories.ProductFactory(vendor=vendor, stock=0)
    edit = reverse("vendor:product-edit", args=[empty.pk])

    refused = staff_client.post(reverse("vendor:product-out-of-stock", args=[empty.pk]), {"until": "four_hours"})
    assert "is already out of stock" in staff_client.get(refused.url).content.decode()
    staff_client.post(reverse("vendor:product-out-of-stock", args=[empty.pk]), {"until": "forever"})
    assert "Choose how long it is out of stock." in staff_client.get(edit).content.decode()
    staff_client.post(reverse("vendor:product-back-in-stock", args=[empty.pk]))
    assert "is not marked out of stock" in staff_client.get(edit).content.decode()


def test_the_product_page_offers_back_in_stock_while_held(staff_client, vendor, product):
    product_mark_out_of_stock(actor=vendor.owner, product=product, until=OutOfStockFor.INDEFINITELY)
    page = staff_client.get(reverse("vendor:product-stock", args=[product.pk])).content.decode()
    assert "Back in stock now (12)" in page and "until you bring it back" in page

    staff_client.post(reverse("vendor:product-back-in-stock", args=[product.pk]))

    product.refresh_from_db()
    assert product.stock == 12


def test_the_out_of_stock_form_can_be_included_in_any_page(rf, vendor, product):
    from django.template.loader import render_to_string

    request = rf.get("/vendor/orders/5/")
    html = render_to_string(
        "vendor/products/_out_of_stock_form.html", {"product": product, "next": "/vendor/orders/5/"}, request=request
    )

    assert reverse("vendor:product-out-of-stock", args=[product.pk]) in html
    assert 'name="next" value="/vendor/orders/5/"' in html
    assert all(f'value="{choice}"' in html for choice in OutOfStockFor.values)
    assert "csrfmiddlewaretoken" in html


# Inventory alerts ----------------------------------------------------------------------------


def test_alerts_are_grouped_worst_first_with_pace_and_eta(staff_client, vendor, alert):
    out = factories.ProductFactory(vendor=vendor, name="Bagel", stock=0)
    inventory_alerts_sync(product=out)

    page = staff_client.get(reverse("vendor:inventory")).content.decode()

    assert page.index("Emergency") < page.index("Critical")
    assert "Rye" in page and "Bagel" in page and "no sales this week" in page
    assert 'hx-trigger="zora:changed:inventory_alerts from:body"' in page


def test_acknowledging_an_alert_over_htmx_returns_the_list(staff_client, clerk, alert):
    response = staff_client.post(reverse("vendor:inventory-acknowledge", args=[alert.pk]), **HTMX)

    assert response.status_code == 200 and "Seen by Ana Clerk" in response.content.decode()
    alert.refresh_from_db()
    assert (alert.status, alert.acknowledged_by) == (InventoryAlert.Status.ACKNOWLEDGED, clerk)


def test_a_resolved_alert_leaves_the_list_and_cannot_be_acknowledged(staff_client, vendor, alert):
    alert.product.stock = 50
    alert.product.save()
    inventory_alerts_sync(product=alert.product)

    assert "Rye" not in staff_client.get(reverse("vendor:inventory-list")).content.decode()
    response = staff_client.post(reverse("vendor:inventory-acknowledge", args=[alert.pk]), follow=True)
    assert "This alert is already resolved." in response.content.decode()


# Reviews -------------------------------------------------------------------------------------


def test_reviews_show_stars_and_the_reply_form(staff_client, review):
    page = staff_client.get(reverse("vendor:reviews")).content.decode()

    assert "★★★★☆" in page and "4 out of 5" in page and "Crusty and warm" in page
    assert f'name="review-{review.pk}-body"' in page
    assert 'hx-trigger="zora:changed:reviews from:body"' in page


def test_replying_publishes_and_editing_rewrites(staff_client, clerk, review):
    reply_url = reverse("vendor:review-reply", args=[review.pk])
    field = f"review-{review.pk}-body"

    response = staff_client.post(reply_url, {field: "Thank you!"}, follow=True)
    assert "Reply published." in response.content.decode()
    edited = staff_client.post(reply_url, {field: "Thank you, see you soon!"}, **HTMX)

    assert edited.status_code == 200 and "Thank you, see you soon!" in edited.content.decode()
    review.refresh_from_db()
    assert (review.reply, review.replied_by) == ("Thank you, see you soon!", clerk)
    assert Review.objects.count() == 1


def test_an_empty_reply_shows_the_error_on_that_reviews_form(staff_client, review):
    response = staff_client.post(reverse("vendor:review-reply", args=[review.pk]), {f"review-{review.pk}-body": ""})

    assert response.status_code == 200 and "This field is required." in response.content.decode()
    blank = staff_client.post(
        reverse("vendor:review-reply", args=[review.pk]), {f"review-{review.pk}-body": "   "}, **HTMX
    )
    assert blank.status_code == 422
    review.refresh_from_db()
    assert review.reply == ""


def test_reviews_filter_by_subject(staff_client, vendor, customer, review):
    product = review.order.items.get().product
    review_create(customer=customer, order=review.order, rating=2, comment="Too salty", product=product)
    review_reply(actor=vendor.owner, review=review, body="Thanks")

    def listed(about):
        return staff_client.get(reverse("vendor:reviews-list"), {"about": about}).content.decode()

    assert "Too salty" in listed("products") and "Crusty" not in listed("products")
    assert "Crusty" in listed("shop") and "Too salty" not in listed("shop")
    assert "Too salty" in listed("unanswered") and "Crusty" not in listed("unanswered")
