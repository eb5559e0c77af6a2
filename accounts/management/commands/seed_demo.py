"""Load a small, believable London marketplace for demos and local development.

Everything is written through the services, so the demo data carries the same
history rows, notifications, inventory alerts, rating aggregates and realtime
events as real traffic. The only direct writes back-date orders over the last
two weeks, so dashboards have a history to chart.
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts import services as accounts
from accounts.models import Notification, User
from catalog import services as catalog
from catalog.models import InventoryAlert, Product
from orders import services as orders
from orders.models import Order
from orders.selectors import acceptance_deadline
from support import services as support
from support.models import EmailMessage, EmailThread
from vendors import services as vendors
from vendors.models import VendorApplication

DEMO_PASSWORD = "zora-demo-pass"
ADMIN_EMAIL = "admin@zora.test"
VENDOR_EMAIL = "vendor@zora.test"
CUSTOMER_EMAIL = "customer@zora.test"
APPLICANT_EMAIL = "applicant@zora.test"
RANDOM_SEED = 20240601

CATEGORIES = {
    "Bakery": "Bread, pastries and cakes baked the same morning.",
    "Fruit & Veg": "Seasonal produce from markets and nearby farms.",
    "Coffee & Tea": "Freshly roasted beans, loose-leaf tea and brewing kit.",
    "Flowers & Plants": "Bouquets, stems and house plants.",
    "Deli": "Cheese, charcuterie, olives and store-cupboard treats.",
    "Drinks": "Juices, soft drinks and kombucha.",
}

# (owner email, owner name, business, type, company no., address, lat, lng, description, products)
# Products: (name, category, price, stock, low-stock threshold).
VENDORS = [
    (
        VENDOR_EMAIL,
        "Vera Okonkwo",
        "Hackney Bread Co.",
        "limited_company",
        "11829341",
        "212 Mare Street, London E8 3RD",
        "51.545030",
        "-0.055290",
        "Sourdough and pastries from our Hackney bakery, out of the oven by 7am.",
        [
            ("Country sourdough loaf", "Bakery", "5.20", 40, 8),
            ("Seeded rye loaf", "Bakery", "5.80", 25, 6),
            ("Butter croissant", "Bakery", "2.60", 60, 12),
            ("Pain au chocolat", "Bakery", "2.90", 45, 10),
            ("Cardamom bun", "Bakery", "3.20", 0, 10),
            ("Cinnamon swirl", "Bakery", "3.10", 7, 10),
            ("Focaccia with rosemary", "Bakery", "4.50", 18, 5),
            ("Fresh orange juice 1L", "Drinks", "4.20", 20, 5),
        ],
    ),
    (
        "marco@zora.test",
        "Marco Bianchi",
        "Borough Greengrocer",
        "sole_trader",
        "",
        "8 Southwark Street, London SE1 1TL",
        "51.505520",
        "-0.091000",
        "Fruit and vegetables from Borough Market traders and Kent growers.",
        [
            ("Kent apples, 1kg", "Fruit & Veg", "2.80", 50, 10),
            ("Heritage tomatoes, 500g", "Fruit & Veg", "3.50", 30, 8),
            ("Bananas, bunch of 5", "Fruit & Veg", "1.40", 70, 15),
            ("Avocados, pack of 2", "Fruit & Veg", "2.20", 3, 8),
            ("Baby spinach, 200g", "Fruit & Veg", "1.90", 35, 8),
            ("New potatoes, 1kg", "Fruit & Veg", "1.60", 40, 10),
            ("Strawberries, 400g", "Fruit & Veg", "3.75", 24, 6),
        ],
    ),
    (
        "aisha@zora.test",
        "Aisha Rahman",
        "Camden Coffee Roasters",
        "limited_company",
        "10457712",
        "31 Parkway, London NW1 7PN",
        "51.539000",
        "-0.142600",
        "Small-batch speciality coffee roasted in Camden every week.",
        [
            ("House espresso blend, 250g", "Coffee & Tea", "8.50", 40, 8),
            ("Ethiopia Yirgacheffe, 250g", "Coffee & Tea", "10.50", 22, 6),
            ("Colombia decaf, 250g", "Coffee & Tea", "9.00", 2, 6),
            ("English breakfast tea, 100g", "Coffee & Tea", "5.50", 30, 5),
            ("Oat milk barista 1L", "Drinks", "2.40", 48, 10),
            ("Cold brew, 330ml", "Drinks", "3.20", 36, 8),
        ],
    ),
    (
        "grace@zora.test",
        "Grace Adeyemi",
        "Brixton Flower Stall",
        "sole_trader",
        "",
        "4 Electric Avenue, London SW9 8JX",
        "51.461300",
        "-0.115600",
        "Seasonal bouquets and house plants from our stall by the market.",
        [
            ("Seasonal bouquet", "Flowers & Plants", "28.00", 15, 4),
            ("Tulips, 10 stems", "Flowers & Plants", "12.00", 20, 5),
            ("Peace lily in pot", "Flowers & Plants", "18.50", 9, 3),
            ("Eucalyptus bunch", "Flowers & Plants", "9.00", 12, 4),
            ("Succulent trio", "Flowers & Plants", "14.00", 10, 3),
            ("Sunflowers, 5 stems", "Flowers & Plants", "10.00", 18, 5),
        ],
    ),
    (
        "oliver@zora.test",
        "Oliver Hughes",
        "Islington Corner Deli",
        "partnership",
        "",
        "96 Upper Street, London N1 0NP",
        "51.536200",
        "-0.103000",
        "Cheese, charcuterie and good things in jars, on Upper Street since 2009.",
        [
            ("Montgomery cheddar, 200g", "Deli", "6.90", 25, 6),
            ("Comté 18 months, 200g", "Deli", "7.80", 20, 5),
            ("Nocellara olives, 250g", "Deli", "4.20", 30, 8),
            ("Prosciutto di Parma, 100g", "Deli", "5.60", 16, 5),
            ("Sourdough crackers", "Deli", "3.40", 28, 6),
            ("Chilli jam", "Deli", "4.80", 1, 5),
            ("Elderflower pressé 750ml", "Drinks", "3.90", 26, 6),
        ],
    ),
]

# Every demo customer orders from shops across London (Hackney to Brixton is 10 km): the shops
# deliver that far, so the orders below respect each shop's delivery radius.
DEMO_DELIVERY_RADIUS_KM = Decimal("12")

# (email, name, phone, address, lat, lng)
CUSTOMERS = [
    (CUSTOMER_EMAIL, "Chloe Mensah", "07700 900123", "14 Dalston Lane, London E8 3DF", "51.546300", "-0.071000"),
    ("tom@zora.test", "Tom Becker", "07700 900456", "22 Shoreditch High St, London E1 6PG", "51.524600", "-0.077700"),
    ("priya@zora.test", "Priya Nair", "07700 900789", "5 Canonbury Place, London N1 2NQ", "51.543800", "-0.098500"),
    ("sam@zora.test", "Sam O'Connor", "07700 900321", "40 Coldharbour Lane, London SW9 8PR", "51.462600", "-0.110000"),
]

# (customer index, vendor indexes in one checkout, status each order ends in)
ORDERS = [
    (0, [0], Order.Status.PENDING),
    (1, [0], Order.Status.CONFIRMED),
    (2, [0], Order.Status.PREPARING),
    (3, [0], Order.Status.READY),
    (0, [0], Order.Status.OUT_FOR_DELIVERY),
    (0, [0, 4], Order.Status.DELIVERED),
    (1, [0], Order.Status.DELIVERED),
    (2, [0], Order.Status.CANCELLED),
    (1, [0], Order.Status.REFUNDED),
    (1, [1], Order.Status.PENDING),
    (3, [1], Order.Status.DELIVERED),
    (0, [1], Order.Status.PREPARING),
    (2, [2], Order.Status.DELIVERED),
    (1, [2], Order.Status.CONFIRMED),
    (0, [2], Order.Status.DELIVERED),
    (3, [3], Order.Status.DELIVERED),
    (2, [3], Order.Status.OUT_FOR_DELIVERY),
    (3, [3], Order.Status.CANCELLED),
    (2, [4], Order.Status.DELIVERED),
    (3, [4], Order.Status.READY),
]
# vendor index -> (weekdays, 0 is Monday; opens at; closes at); a day may have several openings.
SHOP_HOURS = {
    1: [(range(6), "08:00", "19:00"), ([6], "10:00", "16:00")],
    2: [(range(5), "07:00", "18:00"), ([5, 6], "08:00", "17:00")],
    4: [(range(1, 7), "09:00", "14:00"), (range(1, 7), "16:00", "21:00")],
}
LIVE_STATUSES = {
    Order.Status.PENDING,
    Order.Status.CONFIRMED,
    Order.Status.PREPARING,
    Order.Status.READY,
    Order.Status.OUT_FOR_DELIVERY,
}
FORWARD = [
    Order.Status.CONFIRMED,
    Order.Status.PREPARING,
    Order.Status.READY,
    Order.Status.OUT_FOR_DELIVERY,
    Order.Status.DELIVERED,
]
REVIEW_COMMENTS = {
    5: ["Perfect, arrived still warm.", "Lovely quality, will order again.", "Fast delivery and beautifully packed."],
    4: ["Very good, a few minutes late.", "Great, just wish there were more in stock.", "Really nice."],
    3: ["Fine, but the bag was a bit squashed.", "Good product, slow delivery."],
}

# (email, name, business, type, company no., address, lat, lng, how far the review got)
APPLICATIONS = [
    (
        APPLICANT_EMAIL,
        "Maya Patel",
        "Peckham Spice Market",
        "sole_trader",
        "",
        "57 Rye Lane, London SE15 5EX",
        "51.469900",
        "-0.069000",
        VendorApplication.Status.PENDING,
    ),
    (
        "leo@zora.test",
        "Leo Martin",
        "Greenwich Cheese Room",
        "limited_company",
        "13390087",
        "3 Nelson Road, London SE10 9JB",
        "51.481500",
        "-0.009400",
        VendorApplication.Status.UNDER_REVIEW,
    ),
    (
        "nadia@zora.test",
        "Nadia Haddad",
        "Stoke Newington Bottle Shop",
        "partnership",
        "",
        "120 Church Street, London N16 0AP",
        "51.562900",
        "-0.078600",
        VendorApplication.Status.DOCUMENTS_REQUIRED,
    ),
]


class Command(BaseCommand):
    help = "Load demo data (London shops, customers, orders in every status). Skips if already loaded."

    def handle(self, *args, **options):
        if User.objects.filter(email=ADMIN_EMAIL).exists():
            self.stdout.write(f"Demo data already loaded ({ADMIN_EMAIL} exists); nothing to do.")
            return
        with transaction.atomic():
            DemoMarketplace(random.Random(RANDOM_SEED)).build()
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        logins = ", ".join([ADMIN_EMAIL, VENDOR_EMAIL, CUSTOMER_EMAIL, APPLICANT_EMAIL])
        self.stdout.write(f"Logins (password {DEMO_PASSWORD}): {logins}")


class DemoMarketplace:
    """Builds the demo in one transaction; every random choice comes from `rng`, so each run
    produces the same marketplace (only the order numbers, drawn by checkout, differ)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.admin = None
        self.vendors = []
        self.customers = []
        self.categories = {}

    def build(self):
        self.admin = self._register(ADMIN_EMAIL, "Ada Lovell")
        self.admin.is_staff = self.admin.is_superuser = True
        self.admin.save(update_fields=["is_staff", "is_superuser"])
        self.categories = {
            name: catalog.category_create(actor=self.admin, name=name, description=description)
            for name, description in CATEGORIES.items()
        }
        self.vendors = [self._open_vendor(spec) for spec in VENDORS]
        self._team_and_opening_status()
        self.customers = [self._customer(spec) for spec in CUSTOMERS]
        placed = [self._place(spec) for spec in ORDERS]
        self._opening_hours()
        self._backdate(placed)
        self._fill_carts_and_wishlists()
        self._acknowledge_an_alert()
        for spec in APPLICATIONS:
            self._application(spec)
        self._support_inbox(placed)
        self._conversations(placed)

    def _register(self, email, full_name, phone=""):
        return accounts.user_register(email=email, password=DEMO_PASSWORD, full_name=full_name, phone=phone)

    def _open_vendor(self, spec):
        email, name, business, business_type, company_number, address, lat, lng, description, products = spec
        owner = self._register(email, name)
        application = vendors.application_submit(
            applicant=owner,
            business_name=business,
            business_type=business_type,
            company_number=company_number,
            contact_name=name,
            contact_email=email,
            contact_phone="020 7946 0000",
            address=address,
            lat=lat,
            lng=lng,
            description=description,
            documents=[{"name": "Food hygiene certificate", "url": "https://example.com/docs/hygiene.pdf"}],
        )
        vendors.application_start_review(actor=self.admin, application=application)
        vendor = vendors.application_approve(actor=self.admin, application=application)
        vendor = vendors.vendor_update(actor=owner, vendor=vendor, delivery_radius_km=DEMO_DELIVERY_RADIUS_KM)
        for product_name, category, price, stock, threshold in products:
            catalog.product_create(
                actor=owner,
                vendor=vendor,
                name=product_name,
                price=Decimal(price),
                stock=stock,
                category=self.categories[category],
                description=f"{product_name} from {business.rstrip('.')}.",
                low_stock_threshold=threshold,
            )
        return vendor

    def _team_and_opening_status(self):
        bakery = self.vendors[0]
        baker = self._register("jamie@zora.test", "Jamie Lee")
        vendors.vendor_staff_add(actor=bakery.owner, vendor=bakery, user=baker)
        vendors.vendor_set_status(
            actor=self.vendors[3].owner, vendor=self.vendors[3], opening_status="busy", busy_extra_minutes=15
        )

    def _opening_hours(self):
        """Set after the demo orders were placed, which a shop outside its hours would refuse. The demo
        vendor's own shop keeps no hours (always open), so it takes orders whenever the demo runs."""
        for index, week in SHOP_HOURS.items():
            vendor = self.vendors[index]
            openings = [
                {"weekday": weekday, "opens_at": opens_at, "closes_at": closes_at}
                for weekdays, opens_at, closes_at in week
                for weekday in weekdays
            ]
            vendors.opening_hours_set(actor=vendor.owner, vendor=vendor, openings=openings)
        today = timezone.localdate()
        christmas = today.replace(month=12, day=25)
        if christmas < today:
            christmas = christmas.replace(year=today.year + 1)
        deli = self.vendors[4]
        vendors.holiday_closure_add(
            actor=deli.owner,
            vendor=deli,
            starts_on=christmas,
            ends_on=christmas + timedelta(days=1),
            reason="Christmas and Boxing Day",
        )

    def _customer(self, spec):
        email, name, phone, address, lat, lng = spec
        customer = self._register(email, name, phone)
        accounts.profile_update(user=customer, default_address=address, default_lat=lat, default_lng=lng)
        accounts.notification_create(
            user=customer,
            type=Notification.Type.SYSTEM,
            title="Welcome to Zora",
            body="Shops near you deliver in under an hour.",
        )
        return customer

    def _in_stock(self, vendor, count):
        products = list(Product.objects.filter(vendor=vendor, stock__gte=10).order_by("id"))
        return self.rng.sample(products, k=min(count, len(products)))

    def _place(self, spec):
        customer_index, vendor_indexes, final_status = spec
        customer = self.customers[customer_index]
        for vendor_index in vendor_indexes:
            for product in self._in_stock(self.vendors[vendor_index], self.rng.randint(1, 3)):
                orders.cart_add_item(user=customer, product=product, quantity=self.rng.randint(1, 2))
        placed = orders.order_checkout(customer=customer, notes=self.rng.choice(["", "", "Please ring the bell."]))
        return [self._advance(order, final_status) for order in placed]

    def _advance(self, order, final_status):
        owner = order.vendor.owner
        if final_status == Order.Status.CANCELLED:
            if self.rng.random() < 0.5:
                return orders.order_cancel(actor=order.customer, order=order, reason="Ordered by mistake.")
            return orders.order_transition(
                actor=owner, order=order, to_status=final_status, note="Sorry, we cannot deliver today."
            )
        # A refund follows a delivery; a pending order stays where checkout left it.
        last_forward = Order.Status.DELIVERED if final_status == Order.Status.REFUNDED else final_status
        path = FORWARD[: FORWARD.index(last_forward) + 1] if last_forward in FORWARD else []
        for status in path:
            order = orders.order_transition(actor=owner, order=order, to_status=status)
        if order.status == Order.Status.DELIVERED:
            self._review(order)
        if final_status == Order.Status.REFUNDED:
            order = orders.order_transition(
                actor=self.admin, order=order, to_status=final_status, note="Items arrived damaged."
            )
        return order

    def _review(self, order):
        rating = self.rng.choice([5, 5, 4, 4, 3])
        catalog.review_create(
            customer=order.customer, order=order, rating=rating, comment=self.rng.choice(REVIEW_COMMENTS[rating])
        )
        item = order.items.first()
        rating = self.rng.choice([5, 4, 4, 3])
        catalog.review_create(
            customer=order.customer,
            order=order,
            product=item.product,
            rating=rating,
            comment=self.rng.choice(REVIEW_COMMENTS[rating]),
        )

    def _backdate(self, placed):
        """Finished orders spread over the last two weeks, open ones over the last few hours and
        orders waiting for the shop placed a minute or two ago, each with its status history and
        acceptance deadline in step."""
        now = timezone.now()
        for order in self._all_orders(placed):
            if order.status == Order.Status.PENDING:
                age = timedelta(minutes=self.rng.randint(1, 2))
            elif order.status in LIVE_STATUSES:
                age = timedelta(minutes=self.rng.randint(10, 240))
            else:
                age = timedelta(days=self.rng.uniform(1, 14))
            order.created_at = now - age
            order.accept_by = acceptance_deadline(placed_at=order.created_at)
            order.save(update_fields=["created_at", "accept_by"])
            history = list(order.status_history.order_by("id"))
            step = min(timedelta(minutes=15), age / len(history))
            for position, entry in enumerate(history):
                entry.created_at = order.created_at + step * position
                entry.save(update_fields=["created_at"])

    @staticmethod
    def _all_orders(placed):
        return [order for checkout in placed for order in checkout]

    def _find_order(self, placed, *, customer, status, vendor=None):
        return next(
            order
            for order in self._all_orders(placed)
            if order.customer == customer and order.status == status and vendor in (None, order.vendor)
        )

    def _fill_carts_and_wishlists(self):
        customer = self.customers[0]
        for product in self._in_stock(self.vendors[1], 2):
            orders.cart_add_item(user=customer, product=product, quantity=1)
        for vendor in self.vendors[2:5]:
            catalog.wishlist_add(user=customer, product=self._in_stock(vendor, 1)[0])

    def _acknowledge_an_alert(self):
        bakery = self.vendors[0]
        alert = InventoryAlert.objects.filter(vendor=bakery, status=InventoryAlert.Status.ACTIVE).order_by("id").first()
        catalog.inventory_alert_acknowledge(actor=bakery.owner, alert=alert)

    def _application(self, spec):
        email, name, business, business_type, company_number, address, lat, lng, reached = spec
        applicant = self._register(email, name)
        application = vendors.application_submit(
            applicant=applicant,
            business_name=business,
            business_type=business_type,
            company_number=company_number,
            contact_name=name,
            contact_email=email,
            address=address,
            lat=lat,
            lng=lng,
            description=f"{business}: we would like to deliver across south and east London.",
        )
        if reached == VendorApplication.Status.PENDING:
            return
        vendors.application_start_review(actor=self.admin, application=application)
        if reached == VendorApplication.Status.DOCUMENTS_REQUIRED:
            vendors.application_request_documents(
                actor=self.admin, application=application, reason="Please upload your premises licence."
            )

    def _support_inbox(self, placed):
        chloe, tom, priya, _sam = self.customers
        on_the_way = self._find_order(placed, customer=chloe, status=Order.Status.OUT_FOR_DELIVERY)
        where = support.thread_create(
            customer=chloe,
            order=on_the_way,
            subject=f"Where is order {on_the_way.number}?",
            body="The app says out for delivery but it has been an hour.",
            priority=EmailThread.Priority.HIGH,
        )
        support.thread_update(actor=self.admin, thread=where, assignee=self.admin)
        support.thread_add_message(
            thread=where,
            direction=EmailMessage.Direction.OUTBOUND,
            sender=self.admin,
            body="Sorry for the wait: the rider is five minutes away.",
        )
        refund_request = support.thread_create(
            customer=tom, subject="Refund for a damaged order", body="The loaf was squashed flat, can I get a refund?"
        )
        support.thread_add_message(
            thread=refund_request,
            direction=EmailMessage.Direction.OUTBOUND,
            sender=self.admin,
            body="We have refunded the order; sorry it arrived like that.",
        )
        support.thread_update(actor=self.admin, thread=refund_request, status=EmailThread.Status.CLOSED)
        support.thread_create(customer=priya, subject="Allergen information", body="Does the focaccia contain nuts?")
        support.thread_create(
            external_email="events@example.com",
            subject="Catering for a 40-person office lunch",
            body="Could several Zora shops deliver to one office on Friday?",
            priority=EmailThread.Priority.LOW,
        )
        for name, subject, body in [
            ("Order delayed", "About your order", "Sorry, your order is running late; it is on its way now."),
            ("Refund issued", "Your refund", "We have refunded your order; it will reach your card in 3–5 days."),
        ]:
            support.email_template_create(actor=self.admin, name=name, subject=subject, body=body)

    def _conversations(self, placed):
        chloe, tom = self.customers[0], self.customers[1]
        bakery_order = self._find_order(placed, customer=chloe, status=Order.Status.PENDING, vendor=self.vendors[0])
        chat = support.conversation_start(
            customer=chloe,
            vendor=self.vendors[0],
            order=bakery_order,
            subject="Sliced loaf?",
            body="Hi! Could you slice the sourdough for me?",
        )
        support.conversation_mark_read(conversation=chat, reader=self.vendors[0].owner)
        support.conversation_send_message(
            conversation=chat, sender=self.vendors[0].owner, body="Of course, we will slice it before it goes out."
        )
        support.conversation_start(
            customer=tom,
            vendor=self.vendors[2],
            subject="Wholesale beans",
            body="Do you sell 1kg bags of the house blend?",
        )
