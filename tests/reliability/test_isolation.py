"""Tenant isolation under a randomized day at the marketplace, against two real daphne processes.

Two customers, the staff of two shops, a platform admin and an anonymous client make API calls
chosen by a seeded generator (the seed is printed; RELIABILITY_SEED replays a run), while the
admin suspends and reinstates one shop and sockets of every role subscribe with random bindings
and filters, some replaying from a random seq (`config.since`). The oracle is written from the
marketplace's rules (tests/live/visibility.py, tests/reliability/tenancy.py), never from the
policies or selectors under test, and checks that:

- no answer, row, count, error message, file or socket frame carries anything of another
  tenant (every private text is a registered secret, searched for everywhere);
- what is not yours answers exactly as what does not exist (no 403-for-404, no message that
  names it, no different status);
- lists and their counts hold exactly the reader's rows; socket channels and REST catch-up
  deliver exactly the events the reader may see and asked for, replays included.
"""

import json
import os
import random
import time
from collections import Counter, deque
from dataclasses import dataclass, field

import pytest
from django.conf import settings

from accounts.models import Notification
from catalog.models import InventoryAlert, Product, Review, WishlistItem
from orders.models import CartItem, Order, OrderItem
from orders.services import cart_add_item, order_checkout, order_note_add
from realtime.models import Event
from realtime.publication import TABLES
from realtime.selectors import high_water_seq
from support.models import Conversation, EmailMessage, EmailThread, Message, MessageAttachment
from support.services import (
    conversation_send_message,
    conversation_start,
    thread_add_message,
    thread_create,
    thread_note_add,
)
from tests import factories
from tests.live.api import ApiClient
from tests.live.outbox import wait_until_numbered
from tests.live.visibility import ANONYMOUS, forget_parties, may_see, reader_of
from tests.reliability.profile import scale
from tests.reliability.tenancy import Secrets, Suspensions, audience, owed_to_channel, received_by_channel
from vendors.models import Vendor, VendorApplication
from vendors.services import vendor_set_active

pytest_plugins = ["tests.live.plugin"]
pytestmark = [pytest.mark.reliability, pytest.mark.live, pytest.mark.django_db(transaction=True)]

STEPS = scale(300, 3000)
SOCKETS = scale(24, 150)
MISSING = 10**12  # an id no row has
PAGE = {"page_size": 100}
# The move a shop's device asks for from each status: along the order's life, and from its end
# some the shop may not make (a refund is the platform's, a final status stays final).
NEXT_MOVE = {"pending": "confirmed", "confirmed": "preparing", "preparing": "ready", "ready": "out_for_delivery"}
NEXT_MOVE |= {"out_for_delivery": "delivered", "delivered": "refunded", "cancelled": "confirmed", "refunded": "ready"}
OK = {200, 201, 204}
REFUSED_BY_RULE = {400, 409, 422}


@dataclass
class Party:
    """One role of the run: its sockets' key, one API client per server, the shop it works for."""

    name: str
    user: object
    apikey: str
    clients: list[ApiClient]
    shop_id: int | None = None

    @property
    def signed_in(self) -> bool:
        return self.user is not None


@dataclass
class Channel:
    topic: str
    bindings: list[tuple[int, dict]]
    since: int | None
    window: tuple[int, int] = (0, 0)  # without `since`: events numbered around the join may or may not come


@dataclass
class Subscription:
    party: Party
    socket: object
    opened_in: int
    channels: list[Channel] = field(default_factory=list)
    closed_in: int | None = None


ID = object()  # where a request's id goes, in its path ("{id}") or anywhere in its options


@dataclass(frozen=True)
class Call:
    """A request about one row, to be sent with that row's id or with a missing one."""

    method: str
    path: str
    options: dict = field(default_factory=dict)

    def to(self, ident) -> tuple[str, str, dict]:
        return self.method, self.path.replace("{id}", str(ident)), _filled(self.options, ident)


def _filled(value, ident):
    if value is ID:
        return ident
    if isinstance(value, dict):
        return {key: _filled(item, ident) for key, item in value.items()}
    return value


def _body(response):
    try:
        return response.json()
    except ValueError:
        return response.text


class Run:
    def __init__(self, *, seed, cast, servers, phoenix_sockets):
        self.seed = seed
        self.rng = random.Random(seed)
        self.cast = cast
        self.servers = servers
        self.phoenix_sockets = phoenix_sockets
        self.secrets = Secrets(self.rng)
        self.suspensions = Suspensions()
        self.calls = Counter()
        self.hidden_checks = 0
        self.events_checked = 0
        self.log = deque(maxlen=30)
        self.subscriptions: list[Subscription] = []
        self.parties = {
            actor.name: Party(
                actor.name,
                actor.user,
                actor.apikey,
                [ApiClient(server, actor.apikey if actor.user else None) for server in servers],
            )
            for actor in cast.actors
        }
        self.parties[cast.staff_a.name].shop_id = cast.vendor_a.pk
        self.parties[cast.staff_b.name].shop_id = cast.vendor_b.pk
        self._readers = {}
        self.last_heartbeat = time.monotonic()

    # The doors --------------------------------------------------------------------------------

    def fail(self, message: str):
        steps = "\n".join(self.log)
        pytest.fail(f"{message}\n(seed {self.seed}; replay with RELIABILITY_SEED={self.seed}); last steps:\n{steps}")

    def reader(self, party: Party, period: int | None = None):
        period = self.suspensions.current if period is None else period
        key = (party.name, period)
        if key not in self._readers:
            suspended = self.suspensions.periods[period]
            self._readers[key] = reader_of(party.user, inactive_shops=suspended) if party.signed_in else ANONYMOUS
        return self._readers[key]

    def readers_so_far(self, party: Party):
        """The party's rights in every period until now. What it could read once (a notification of
        its shop's chat, delivered before a suspension) it may still hold; which rows it may read
        now is checked row by row, by id and by event, with its current rights."""
        return [self.reader(party, period) for period in range(self.suspensions.current + 1)]

    def send(self, party: Party, call: Call, ident=None):
        method, path, options = call.to(ident)
        response = self.rng.choice(party.clients).send(method, path, **options)
        self.calls[response.status_code] += 1
        self.log.append(f"{party.name}: {method} {path} {options.get('json', '')} -> {response.status_code}")
        if response.status_code >= 500:
            self.fail(f"{method} {path} answered {response.status_code}: {response.text[:500]}")
        if response.headers.get("Content-Type", "").startswith(("application/json", "text/")):
            leaked = self.secrets.leaks(response.text, self.readers_so_far(party))
            if leaked:
                self.fail(f"{party.name} read in {method} {path}: {self.secrets.describe(leaked, response.text)}")
        return response

    def expect(self, response, statuses, what: str):
        if response.status_code not in statuses:
            self.fail(f"{what}: expected {sorted(statuses)}, got {response.status_code}: {response.text[:800]}")
        return response

    def hidden(self, party: Party, call: Call, real_id, what: str):
        """What is not the party's answers exactly as what does not exist."""
        self.hidden_checks += 1
        seen = self.send(party, call, real_id)
        missing = self.send(party, call, MISSING + self.rng.randrange(1000))
        if missing.status_code not in (400, 401, 404):
            self.fail(f"{what}: a missing id answered {missing.status_code}: {missing.text[:500]}")
        if (seen.status_code, _body(seen)) != (missing.status_code, _body(missing)):
            self.fail(
                f"{what}: {party.name} can tell that {real_id} exists: {seen.status_code} {seen.text[:600]} "
                f"vs {missing.status_code} {missing.text[:600]} for a missing one"
            )

    def listed(self, response, expected_ids: set, what: str):
        self.expect(response, {200}, what)
        page = response.json()
        ids = {row["id"] for row in page["results"]}
        if page["count"] != len(expected_ids) or not ids <= expected_ids:
            self.fail(f"{what}: count {page['count']} and ids {sorted(ids)}, expected {sorted(expected_ids)}")
        if page["count"] <= PAGE["page_size"] and ids != expected_ids:
            self.fail(f"{what}: ids {sorted(ids)}, expected {sorted(expected_ids)}")
        return page

    def pick(self, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        return self.rng.choice(ids) if ids else None

    def active_shop(self, party: Party) -> int | None:
        return party.shop_id if party.shop_id not in self.suspensions.suspended else None

    # Visibility, from the rules ---------------------------------------------------------------

    @staticmethod
    def public_product(product_id) -> bool:
        return Product.objects.filter(pk=product_id, is_active=True, vendor__is_active=True).exists()

    def may_know_product(self, party: Party, product_id) -> bool:
        """Listed, or its own shop's (a suspended shop's team still knows its products), or the platform's."""
        vendor_id = Product.objects.values_list("vendor_id", flat=True).get(pk=product_id)
        return self.public_product(product_id) or party.shop_id == vendor_id or self.reader(party).is_admin

    @staticmethod
    def bought_in(order_id, product_id) -> bool:
        return OrderItem.objects.filter(order_id=order_id, product_id=product_id).exists()

    def order_visible(self, party: Party, order_id) -> bool:
        customer_id, vendor_id = Order.objects.values_list("customer_id", "vendor_id").get(pk=order_id)
        reader = self.reader(party)
        return reader.is_user(customer_id) or reader.works_for(vendor_id) or reader.is_admin

    def conversation_party(self, party: Party, conversation_id) -> bool:
        customer_id, vendor_id = Conversation.objects.values_list("customer_id", "vendor_id").get(pk=conversation_id)
        return self.reader(party).is_user(customer_id) or self.active_shop(party) == vendor_id

    def own_conversations(self, party: Party, side: str) -> set[int]:
        if side == "vendor":
            shop = self.active_shop(party)
            return set(Conversation.objects.filter(vendor_id=shop).values_list("pk", flat=True)) if shop else set()
        return set(Conversation.objects.filter(customer=party.user).values_list("pk", flat=True))

    def ids(self, queryset) -> set[int]:
        return set(queryset.values_list("pk", flat=True))


# Actions: anyone ------------------------------------------------------------------------------


def browse_products(run: Run, party: Party):
    unlisted = list(Product.objects.filter(name__startswith="Draft ").values_list("name", flat=True))
    if unlisted and run.rng.random() < 0.5:
        word = run.rng.choice(unlisted).split()[-1]
        response = run.send(party, Call("GET", "/products", {"params": {"search": word, **PAGE}}))
        run.listed(response, set(), f"searching the catalogue for the unlisted {word}")
    else:
        listed = run.ids(Product.objects.filter(is_active=True, vendor__is_active=True))
        run.listed(run.send(party, Call("GET", "/products", {"params": PAGE})), listed, "the catalogue")


def product_detail(run: Run, party: Party):
    product_id = run.pick(Product.objects.all())
    call = run.rng.choice([Call("GET", "/products/{id}"), Call("GET", "/products/{id}/reviews", {"params": PAGE})])
    if not run.public_product(product_id):
        run.hidden(party, call, product_id, "an unlisted product")
        return
    response = run.expect(run.send(party, call, product_id), {200}, "a listed product")
    if call.path.endswith("reviews"):
        run.listed(response, run.ids(Review.objects.filter(product_id=product_id)), "a product's reviews")


def vendor_detail(run: Run, party: Party):
    vendor = Vendor.objects.get(pk=run.rng.choice([run.cast.vendor_a.pk, run.cast.vendor_b.pk]))
    if vendor.is_active:
        run.expect(run.send(party, Call("GET", "/vendors/{id}"), vendor.slug), {200}, "an open shop")
        shops = run.ids(Vendor.objects.filter(is_active=True))
        run.listed(run.send(party, Call("GET", "/vendors", {"params": PAGE})), shops, "the shops")
    else:
        run.hidden(party, Call("GET", "/vendors/{id}"), vendor.slug, "a suspended shop")
        by_shop = Call("GET", "/products", {"params": {"vendor": ID}})
        run.hidden(party, by_shop, vendor.slug, "a suspended shop's products")


def changes(run: Run, party: Party):
    since, limit = run.rng.randint(0, high_water_seq()), run.rng.randint(1, 200)
    response = run.send(party, Call("GET", "/changes", {"params": {"since": since, "limit": limit}}))
    page = run.expect(response, {200}, "catch-up").json()
    reader = run.reader(party)
    window = Event.objects.filter(seq__gt=since, seq__lte=page["next_since"]).exclude(table=Event.ACCESS_TABLE)
    owed = [
        (e.seq, e.table, e.type) for e in window.order_by("seq") if may_see(reader, e.table, e.record, e.old_record)
    ]
    got = [(e["seq"], e["table"], e["type"]) for e in page["events"]]
    run.events_checked += len(got)
    if got != owed:
        unexpected, missed = sorted(set(got) - set(owed)), sorted(set(owed) - set(got))
        run.fail(f"{party.name}'s catch-up after {since}: got {unexpected} it may not see, missed {missed}")


PRIVATE_DOORS = [
    (Call("GET", "/orders/{id}"), Order),
    (Call("GET", "/conversations/{id}/messages"), Conversation),
    (Call("GET", "/message-attachments/{id}"), MessageAttachment),
    (Call("GET", "/support/threads/{id}/messages"), EmailThread),
    (Call("POST", "/cart/items", {"json": {"product": ID}}), Product),
]


def private_door_for_anonymous(run: Run, party: Party):
    call, model = run.rng.choice(PRIVATE_DOORS)
    real_id = run.pick(model.objects.all())
    if real_id is not None:
        run.hidden(party, call, real_id, f"{call.path} without a token")


# Actions: signed in, as a customer -----------------------------------------------------------


def cart_add(run: Run, party: Party):
    product_id = run.pick(Product.objects.all())
    call = Call("POST", "/cart/items", {"json": {"product": ID, "quantity": 1}})
    if run.public_product(product_id):
        run.expect(run.send(party, call, product_id), {201, 409}, "adding a listed product")
    elif not run.may_know_product(party, product_id):
        run.hidden(party, call, product_id, "adding an unlisted product to the cart")


def cart_line(run: Run, party: Party):
    line_id = run.pick(CartItem.objects.all())
    if line_id is None:
        return
    call = run.rng.choice(
        [Call("PATCH", "/cart/items/{id}", {"json": {"quantity": 1}}), Call("DELETE", "/cart/items/{id}")]
    )
    if CartItem.objects.filter(pk=line_id, user=party.user).exists():
        run.expect(run.send(party, call, line_id), {200, 204, 409, 422}, "my cart line")
    else:
        run.hidden(party, call, line_id, "another's cart line")
    cart = run.expect(run.send(party, Call("GET", "/cart")), {200}, "my cart").json()
    if {item["id"] for item in cart["items"]} != run.ids(CartItem.objects.filter(user=party.user)):
        run.fail(f"{party.name}'s cart shows lines {cart['items']}, which are not theirs alone")


def checkout(run: Run, party: Party):
    if not CartItem.objects.filter(user=party.user).exists():
        product_id = run.pick(Product.objects.filter(is_active=True, vendor__is_active=True, stock__gt=0))
        run.send(party, Call("POST", "/cart/items", {"json": {"product": product_id}}))
    vendors = set(CartItem.objects.filter(user=party.user).values_list("product__vendor_id", flat=True))
    owners = audience(users=[party.user.pk], vendors=vendors)
    body = {"delivery_address": f"{run.secrets.new(owners)} Road", "notes": f"Ring {run.secrets.new(owners)}"}
    run.expect(run.send(party, Call("POST", "/orders/checkout", {"json": body})), {201, 409, 422}, "checkout")


def orders_and_notifications(run: Run, party: Party):
    orders = run.send(party, Call("GET", "/orders", {"params": PAGE}))
    run.listed(orders, run.ids(Order.objects.filter(customer=party.user)), "my orders")
    notifications = run.send(party, Call("GET", "/notifications", {"params": PAGE}))
    page = run.listed(notifications, run.ids(Notification.objects.filter(user=party.user)), "my notifications")
    unread = Notification.objects.filter(user=party.user, read_at=None).count()
    if page["unread_count"] != unread:
        run.fail(f"{party.name}'s unread_count is {page['unread_count']}; they have {unread} unread")


def order_detail(run: Run, party: Party):
    order_id = run.pick(Order.objects.all())
    if order_id is None:
        return
    call = Call("GET", "/orders/{id}")
    if run.order_visible(party, order_id):
        order = run.expect(run.send(party, call, order_id), {200}, "an order I may see").json()
        if order["id"] != order_id:
            run.fail(f"asked for order {order_id}, got {order['id']}")
    else:
        run.hidden(party, call, order_id, "another's order")


def order_cancel(run: Run, party: Party):
    order_id = run.pick(Order.objects.all())
    if order_id is None:
        return
    call = Call("POST", "/orders/{id}/cancel", {"json": {"reason": "Changed my mind"}})
    if Order.objects.filter(pk=order_id, customer=party.user).exists():
        run.expect(run.send(party, call, order_id), {200, 409, 422}, "cancelling my order")
    else:
        run.hidden(party, call, order_id, "cancelling another's order")


def notification_read(run: Run, party: Party):
    notification_id = run.pick(Notification.objects.all())
    if notification_id is None:
        return
    call = Call("POST", "/notifications/{id}/read")
    if Notification.objects.filter(pk=notification_id, user=party.user).exists():
        run.expect(run.send(party, call, notification_id), {200}, "reading my notification")
    else:
        run.hidden(party, call, notification_id, "another's notification")


def chat_start(run: Run, party: Party):
    vendor_id = run.rng.choice([run.cast.vendor_a.pk, run.cast.vendor_b.pk])
    order_id = run.rng.choice([None, run.pick(Order.objects.all())])
    owners = audience(users=[party.user.pk], vendors=[vendor_id])
    body = {"vendor": vendor_id, "subject": f"About {run.secrets.new(owners)}", "body": f"Hi {run.secrets.new(owners)}"}
    if not Vendor.objects.filter(pk=vendor_id, is_active=True).exists():
        run.hidden(
            party, Call("POST", "/conversations", {"json": {**body, "vendor": ID}}), vendor_id, "a suspended shop"
        )
    elif order_id is not None and not Order.objects.filter(pk=order_id, customer=party.user).exists():
        call = Call("POST", "/conversations", {"json": {**body, "order": ID}})
        run.hidden(party, call, order_id, "a chat about another's order")
    else:
        call = Call("POST", "/conversations", {"json": {**body, "order": order_id}})
        run.expect(run.send(party, call), {201, 400}, "starting a chat")


def chat_use(run: Run, party: Party):
    conversation_id = run.pick(Conversation.objects.all())
    if conversation_id is None:
        return
    customer_id, vendor_id = Conversation.objects.values_list("customer_id", "vendor_id").get(pk=conversation_id)
    owners = audience(users=[customer_id], vendors=[vendor_id])
    photo = {"attachments": ("photo.png", factories.image_bytes(), "image/png")}
    call = run.rng.choice(
        [
            Call("GET", "/conversations/{id}/messages", {"params": PAGE}),
            Call("POST", "/conversations/{id}/messages", {"json": {"body": f"Re {run.secrets.new(owners)}"}}),
            Call(
                "POST",
                "/conversations/{id}/messages",
                {"data": {"body": f"Pic {run.secrets.new(owners)}"}, "files": photo},
            ),
            Call("POST", "/conversations/{id}/read"),
        ]
    )
    if run.conversation_party(party, conversation_id):
        response = run.expect(run.send(party, call, conversation_id), {200, 201}, "my conversation")
        if call.method == "GET":
            run.listed(response, run.ids(Message.objects.filter(conversation_id=conversation_id)), "the conversation")
    else:
        run.hidden(party, call, conversation_id, "another's conversation")


def chat_list(run: Run, party: Party):
    side = run.rng.choice(["customer", "vendor"])
    visible = run.own_conversations(party, side)
    with_secrets = list(Message.objects.filter(body__contains="zq").values_list("conversation_id", "body"))
    if with_secrets and run.rng.random() < 0.5:
        conversation_id, body = run.rng.choice(with_secrets)
        word = body.split()[-1]
        response = run.send(party, Call("GET", "/conversations", {"params": {"side": side, "q": word, **PAGE}}))
        run.listed(response, {conversation_id} & visible, f"searching the {side} side's chats for {word}")
    else:
        response = run.send(party, Call("GET", "/conversations", {"params": {"side": side, **PAGE}}))
        run.listed(response, visible, f"the {side} side's chats")


def chat_photo(run: Run, party: Party):
    attachment_id = run.pick(MessageAttachment.objects.all())
    if attachment_id is None:
        return
    size = run.rng.choice(["original", "thumbnail"])
    call = Call("GET", "/message-attachments/{id}", {"params": {"size": size}})
    stored = MessageAttachment.objects.select_related("message").get(pk=attachment_id)
    if not (run.reader(party).is_admin or run.conversation_party(party, stored.message.conversation_id)):
        run.hidden(party, call, attachment_id, "another's chat photo")
        return
    response = run.expect(run.send(party, call, attachment_id), {200}, "a chat photo I may see")
    with (stored.file if size == "original" else stored.thumbnail).open("rb") as file:
        if response.content != file.read():
            run.fail(f"chat photo {attachment_id} ({size}) is not the stored file")


def support(run: Run, party: Party):
    thread_id = run.pick(EmailThread.objects.all())
    owners = audience(users=[party.user.pk])
    if thread_id is None or run.rng.random() < 0.3:
        order_id = run.rng.choice([None, run.pick(Order.objects.all())])
        body = {"subject": f"Help {run.secrets.new(owners)}", "body": f"Please {run.secrets.new(owners)}"}
        if order_id is not None and not Order.objects.filter(pk=order_id, customer=party.user).exists():
            call = Call("POST", "/support/threads", {"json": {**body, "order": ID}})
            run.hidden(party, call, order_id, "a support thread about another's order")
        else:
            call = Call("POST", "/support/threads", {"json": {**body, "order": order_id}})
            run.expect(run.send(party, call), {201}, "writing to support")
        threads = run.send(party, Call("GET", "/support/threads", {"params": PAGE}))
        run.listed(threads, run.ids(EmailThread.objects.filter(customer=party.user)), "my support threads")
        return
    call = run.rng.choice(
        [
            Call("GET", "/support/threads/{id}/messages", {"params": PAGE}),
            Call("POST", "/support/threads/{id}/messages", {"json": {"body": f"More {run.secrets.new(owners)}"}}),
        ]
    )
    if EmailThread.objects.filter(pk=thread_id, customer=party.user).exists():
        response = run.expect(run.send(party, call, thread_id), {200, 201}, "my support thread")
        if call.method == "GET":
            run.listed(response, run.ids(EmailMessage.objects.filter(thread_id=thread_id)), "my thread's messages")
    else:
        run.hidden(party, call, thread_id, "another's support thread")


def wishlist(run: Run, party: Party):
    product_id = run.pick(Product.objects.all())
    if run.rng.random() < 0.5:
        call, mine = Call("POST", "/wishlist", {"json": {"product": ID}}), run.public_product(product_id)
    else:
        call = Call("DELETE", "/wishlist/{id}")
        mine = WishlistItem.objects.filter(user=party.user, product_id=product_id).exists()
    if mine:
        run.expect(run.send(party, call, product_id), {201, 204}, "my wishlist")
    else:
        run.hidden(party, call, product_id, "wishing for an unlisted product, or dropping one never wished for")
    wished = run.ids(WishlistItem.objects.filter(user=party.user))
    run.listed(run.send(party, Call("GET", "/wishlist", {"params": PAGE})), wished, "my wishlist")


def profile(run: Run, party: Party):
    phone = run.secrets.new(audience(users=[party.user.pk]))
    me = run.expect(run.send(party, Call("PATCH", "/me", {"json": {"phone": phone}})), {200}, "my profile").json()
    if (me["phone"], me["email"]) != (phone, party.user.email):
        run.fail(f"{party.name}'s profile answered {me}")


def review(run: Run, party: Party):
    order_id, product_id = run.pick(Order.objects.all()), run.pick(Product.objects.all())
    if order_id is None:
        return
    body = {"order": order_id, "product": product_id, "rating": 5, "comment": "Lovely"}
    if not Order.objects.filter(pk=order_id, customer=party.user).exists():
        run.hidden(party, Call("POST", "/reviews", {"json": {**body, "order": ID}}), order_id, "another's order")
    elif not (run.may_know_product(party, product_id) or run.bought_in(order_id, product_id)):
        # Not in the catalogue and not bought in this order: the customer has no way to know of it.
        call = Call("POST", "/reviews", {"json": {**body, "product": ID}})
        run.hidden(party, call, product_id, "an unlisted product")
    else:
        call = Call("POST", "/reviews", {"json": body})
        run.expect(run.send(party, call), {201} | REFUSED_BY_RULE, "reviewing my order")


def apply_for_a_shop(run: Run, party: Party):
    """Applications are the applicant's and the platform's: the business plan is a secret of theirs."""
    mine = audience(users=[party.user.pk])
    body = {
        "business_name": f"Bakery {run.secrets.new(mine)}",
        "business_type": "sole_trader",
        "contact_name": "Sam",
        "contact_email": party.user.email,
        "contact_phone": run.secrets.new(mine),
        "address": f"{run.secrets.new(mine)} Mill Lane",
    }
    run.expect(run.send(party, Call("POST", "/vendor-applications", {"json": body})), {201, 409, 422}, "applying")
    latest = VendorApplication.objects.filter(applicant=party.user).order_by("-id").first()
    answer = run.send(party, Call("GET", "/vendor-applications/mine"))
    if latest is None:
        run.expect(answer, {404}, "no application of mine")
    elif run.expect(answer, {200}, "my application").json()["id"] != latest.pk:
        run.fail(f"{party.name}'s application is {latest.pk}, the API answered {answer.text[:300]}")


# Actions: a shop's staff ----------------------------------------------------------------------


def _shop_or_refusal(run: Run, party: Party, call: Call, real_id, what: str) -> int | None:
    """The active shop the party works for; anyone else is told they run none, whatever they ask."""
    shop = run.active_shop(party)
    if shop is None:
        response = run.send(party, call, real_id)
        if response.status_code != 404 or response.json()["error"]["code"] != "not_shop_staff":
            run.fail(f"{what} by {party.name}, who runs no active shop: {response.status_code} {response.text[:500]}")
    return shop


SHOP_LISTS = {
    "/vendor/orders": Order,
    "/vendor/products": Product,
    "/vendor/inventory-alerts": InventoryAlert,
    "/vendor/reviews": Review,
}


def shop_lists(run: Run, party: Party):
    path = run.rng.choice(list(SHOP_LISTS))
    call = Call("GET", path, {"params": PAGE})
    shop = _shop_or_refusal(run, party, call, None, path)
    if shop is not None:
        run.listed(
            run.send(party, call), run.ids(SHOP_LISTS[path].objects.filter(vendor_id=shop)), f"{party.name}'s {path}"
        )


def _shop_call(run: Run, kind: str, row) -> Call:
    if kind == "transition":
        move = {"status": NEXT_MOVE[row.status], "expected_status": row.status}
        return Call("POST", "/vendor/orders/{id}/transition", {"json": move})
    if kind == "stock":
        note = f"Delivery {run.secrets.new(audience(vendors=[row.vendor_id]))}"
        return Call("POST", "/vendor/products/{id}/stock", {"json": {"delta": 3, "reason": "restock", "note": note}})
    return {
        "product": Call("GET", "/vendor/products/{id}"),
        "movements": Call("GET", "/vendor/products/{id}/stock-movements", {"params": PAGE}),
        "alert": Call("POST", "/vendor/inventory-alerts/{id}/acknowledge"),
        "reply": Call("PUT", "/vendor/reviews/{id}/reply", {"json": {"body": "Thank you!"}}),
    }[kind]


def shop_row(run: Run, party: Party):
    kind = run.rng.choice(["transition", "transition", "product", "stock", "movements", "alert", "reply"])
    model = {"transition": Order, "alert": InventoryAlert, "reply": Review}.get(kind, Product)
    row = model.objects.filter(pk=run.pick(model.objects.all())).first()
    if row is None:
        return
    call = _shop_call(run, kind, row)
    shop = _shop_or_refusal(run, party, call, row.pk, kind)
    if shop is None:
        return
    if row.vendor_id == shop:
        run.expect(run.send(party, call, row.pk), OK | REFUSED_BY_RULE, f"{kind} in my shop")
    else:
        run.hidden(party, call, row.pk, f"{kind} in another shop")


def shop_new_product(run: Run, party: Party):
    shop = run.active_shop(party)
    if shop is not None:
        body = {"name": f"Draft {run.secrets.new(audience(vendors=[shop]))}", "price": "3.00", "is_active": False}
        run.expect(run.send(party, Call("POST", "/vendor/products", {"json": body})), {201}, "an unlisted product")


# Actions in the portals: the services their views call ----------------------------------------


def staff_note(run: Run, party: Party):
    shop = run.active_shop(party)
    order = Order.objects.filter(pk=run.pick(Order.objects.filter(vendor_id=shop))).first() if shop else None
    if order is None:
        return
    internal = run.rng.random() < 0.6
    owners = audience(vendors=[shop]) if internal else audience(users=[order.customer_id], vendors=[shop])
    order_note_add(actor=party.user, order=order, body=f"Note {run.secrets.new(owners)}", is_internal=internal)
    run.log.append(f"{party.name}: {'an internal' if internal else 'a customer'} note on order {order.pk}")


def admin_support(run: Run, party: Party):
    thread = EmailThread.objects.filter(pk=run.pick(EmailThread.objects.all())).first()
    if thread is None:
        return
    if run.rng.random() < 0.5:
        thread_note_add(actor=party.user, thread=thread, body=f"Team only {run.secrets.new(audience())}")
    else:
        body = f"Answer {run.secrets.new(audience(users=[thread.customer_id]))}"
        thread_add_message(thread=thread, direction=EmailMessage.Direction.OUTBOUND, body=body, sender=party.user)
    run.log.append(f"{party.name}: wrote in support thread {thread.pk}")


def admin_suspend_or_reinstate(run: Run, party: Party):
    shop = run.cast.vendor_b
    suspend = shop.pk not in run.suspensions.suspended
    vendor_set_active(actor=party.user, vendor=shop, active=not suspend, reason="Checking the paperwork")
    run.suspensions.change(shop.pk, suspended=suspend)
    run.log.append(f"{party.name}: {'suspended' if suspend else 'reinstated'} {shop.name}")


# Sockets ----------------------------------------------------------------------------------------

PEOPLE_COLUMNS = ("customer_id", "user_id", "applicant_id")
ROW_COLUMNS = {"order_id": Order, "thread_id": EmailThread, "conversation_id": Conversation}


def _filter_values(run: Run, table: str, column: str) -> list:
    """Values worth filtering on: the run's own people, shops and rows, theirs and others'."""
    if column in PEOPLE_COLUMNS:
        return [actor.user.pk for actor in run.cast.actors if actor.user]
    if column == "vendor_id":
        return [run.cast.vendor_a.pk, run.cast.vendor_b.pk]
    model = ROW_COLUMNS.get(column, TABLES[table].model)
    return list(model.objects.values_list("pk", flat=True))


def _random_filter(run: Run, table: str) -> str | None:
    columns = [
        c for c in TABLES[table].column_names if c in PEOPLE_COLUMNS or c in ROW_COLUMNS or c in ("id", "vendor_id")
    ]
    if not columns or run.rng.random() < 0.4:
        return "status=in.(pending,confirmed,cancelled)" if table == "orders" and run.rng.random() < 0.3 else None
    column = run.rng.choice(columns)
    values = _filter_values(run, table, column)
    if not values:
        return None
    operator = run.rng.choice(["eq", "eq", "neq", "in"])
    if operator == "in":
        return f"{column}=in.({','.join(str(value) for value in run.rng.sample(values, min(2, len(values))))})"
    return f"{column}={operator}.{run.rng.choice(values)}"


def _random_binding(run: Run) -> dict:
    if run.rng.random() < 0.1:
        return {"event": "*", "schema": "public"}  # every table
    table = run.rng.choice(list(TABLES))
    binding = {"event": run.rng.choice(["*", "*", "INSERT", "UPDATE", "DELETE"]), "schema": "public", "table": table}
    filter_ = _random_filter(run, table)
    return binding if filter_ is None else {**binding, "filter": filter_}


def _join_answer(socket, topic: str, config: dict) -> dict:
    """The join reply's payload, whether the join was accepted or refused."""
    ref = socket.push(topic, "phx_join", {"config": config})
    reply = socket.inbox.take_one(lambda m: m["event"] == "phx_reply" and m["ref"] == ref, 10, f"reply on {topic}")
    return reply["payload"]


def socket_open(run: Run, party: Party):
    server = run.rng.choice(run.servers)
    name = f"{party.name} #{len(run.subscriptions) + 1}"
    socket = run.phoenix_sockets.open(name, websocket_url=server.websocket_url, apikey=party.apikey)
    subscription = Subscription(party, socket, run.suspensions.current)
    for index in range(run.rng.choice([1, 1, 2])):
        bindings = [_random_binding(run) for _ in range(run.rng.randint(1, 3))]
        topic = f"feed-{index}"
        since = run.rng.choice([None, run.rng.randint(0, max(high_water_seq(), 0))])
        wait_until_numbered()
        before = high_water_seq()
        reply = socket.join(topic, postgres_changes=bindings, since=since)
        ids = [binding["id"] for binding in reply["postgres_changes"]]
        window = (before, high_water_seq())
        subscription.channels.append(Channel(f"realtime:{topic}", list(zip(ids, bindings, strict=True)), since, window))
    if run.rng.random() < 0.3:
        config = {
            "broadcast": {"self": False},
            "presence": {"key": "", "enabled": True},
            "postgres_changes": [],
            "private": False,
        }
        answer = _join_answer(socket, "realtime:online", config)
        if (answer["status"] == "ok") != run.reader(party).is_admin:
            run.fail(f"{party.name} joining realtime:online answered {answer}")
    run.subscriptions.append(subscription)
    run.log.append(f"{name}: joined {[(c.topic, [b for _, b in c.bindings], c.since) for c in subscription.channels]}")


def socket_close(run: Run, party: Party):
    open_ones = [s for s in run.subscriptions if s.closed_in is None and s.party is party]
    if open_ones:
        subscription = run.rng.choice(open_ones)
        subscription.socket.close()
        subscription.closed_in = run.suspensions.current


def _is_change(message: dict) -> bool:
    return message["event"] == "postgres_changes"


def _frames(subscription: Subscription, required: int) -> list[dict]:
    """Every change frame the socket got: waits for the `required` ones, then for stragglers."""
    inbox = subscription.socket.inbox
    try:
        frames = inbox.take(_is_change, required, 20, "postgres_changes")
    except AssertionError:
        frames = []  # what did come is still there, and the comparison below names what did not
    return frames + inbox.drain(_is_change, 0.3 if subscription.closed_in is None else 0)


def check_subscription(run: Run, subscription: Subscription, final_seq: int):
    """Exactly what is owed for a socket whose reader never changed while it was open; for the
    others, nothing they could not see at some point of their life."""
    last_period = subscription.closed_in if subscription.closed_in is not None else run.suspensions.current
    readers = {run.reader(subscription.party, p) for p in range(subscription.opened_in, last_period + 1)}
    exact = len(readers) == 1 and subscription.closed_in is None
    starts = [c.since if c.since is not None else c.window[0] for c in subscription.channels]
    events = list(Event.objects.filter(seq__gt=min(starts)).exclude(table=Event.ACCESS_TABLE).order_by("seq"))
    allowed, required = {}, {}
    for channel, start in zip(subscription.channels, starts, strict=True):
        after = [event for event in events if event.seq > start]
        allowed[channel.topic] = {o for reader in readers for o in owed_to_channel(reader, channel.bindings, after)}
        certain_after = channel.window[1] if channel.since is None else start  # the join's own moment is a toss-up
        required[channel.topic] = (
            sorted((o for o in allowed[channel.topic] if certain_after < o.seq <= final_seq), key=lambda o: o.seq)
            if exact
            else []
        )
    if subscription.closed_in is None and subscription.socket.closed.is_set():
        code, reason = subscription.socket.close_frame(0)
        run.fail(f"the server closed {subscription.socket.name} ({code} {reason}) before the run ended")
    frames = _frames(subscription, sum(len(owed) for owed in required.values()))
    text = json.dumps(subscription.socket.inbox.history)
    readers_so_far = [run.reader(subscription.party, p) for p in range(last_period + 1)]
    leaked = run.secrets.leaks(text, readers_so_far)
    if leaked:
        run.fail(f"{subscription.socket.name} received: {run.secrets.describe(leaked, text)}")
    for channel in subscription.channels:
        received = received_by_channel([frame for frame in frames if frame["topic"] == channel.topic])
        run.events_checked += len(received)
        where = f"{subscription.socket.name} {channel.topic} {channel.bindings} since {channel.since}"
        seqs = [r.seq for r in received]
        if seqs != sorted(set(seqs)):
            run.fail(f"{where}: seqs out of order or repeated: {seqs}")
        unexpected = [r for r in received if r not in allowed[channel.topic]]
        if unexpected:
            run.fail(f"{where}: got {unexpected[:5]} it may not see or did not ask for")
        missed = [o for o in required[channel.topic] if o not in set(received)]
        if missed:
            run.fail(f"{where}: missed {missed[:5]}")


# The run ----------------------------------------------------------------------------------------

CUSTOMER_ACTIONS = [
    (browse_products, 2), (product_detail, 3), (vendor_detail, 1), (changes, 2), (cart_add, 3), (cart_line, 2),
    (checkout, 2), (orders_and_notifications, 2), (order_detail, 4), (order_cancel, 1), (notification_read, 2),
    (chat_start, 2), (chat_use, 4), (chat_list, 2), (chat_photo, 2), (support, 3), (wishlist, 2), (profile, 1),
    (review, 2), (apply_for_a_shop, 1),
]  # fmt: skip
STAFF_ACTIONS = [(shop_lists, 4), (shop_row, 8), (shop_new_product, 1), (staff_note, 2)]
ADMIN_ACTIONS = [(admin_support, 3), (admin_suspend_or_reinstate, 1), (order_detail, 3), (chat_photo, 2), (changes, 2)]
ANONYMOUS_ACTIONS = [
    (browse_products, 2),
    (product_detail, 3),
    (vendor_detail, 1),
    (changes, 2),
    (private_door_for_anonymous, 3),
]


def _actions_of(party: Party) -> list:
    if not party.signed_in:
        return ANONYMOUS_ACTIONS
    if party.user.is_staff:
        return ADMIN_ACTIONS + CUSTOMER_ACTIONS[:3]
    if party.shop_id:
        return STAFF_ACTIONS + CUSTOMER_ACTIONS
    return CUSTOMER_ACTIONS


HEARTBEAT_SECONDS = 20  # the server closes a socket silent for 60 s, as Phoenix clients expect


def _keep_sockets_alive(run: Run):
    if time.monotonic() - run.last_heartbeat < HEARTBEAT_SECONDS:
        return
    for subscription in run.subscriptions:
        if subscription.closed_in is None:
            subscription.socket.push("phoenix", "heartbeat", {})
    run.last_heartbeat = time.monotonic()


def _step(run: Run):
    _keep_sockets_alive(run)
    party = run.rng.choice(list(run.parties.values()))
    if run.rng.random() < SOCKETS / STEPS:
        socket_open(run, party)
        return
    if run.rng.random() < 0.01:
        socket_close(run, party)
        return
    actions = _actions_of(party)
    action = run.rng.choices([a for a, _ in actions], weights=[w for _, w in actions])[0]
    action(run, party)


def _seed_the_world(run: Run):
    """Each customer has an order, a chat with a photo and a support thread at each shop, and each
    shop an unlisted product, all carrying secrets; every email address is one too."""
    cast = run.cast
    for user in [actor.user for actor in cast.actors if actor.user] + [cast.vendor_a.owner, cast.vendor_b.owner]:
        user.email = f"{run.secrets.new(audience(users=[user.pk]))}@example.test"
        user.save(update_fields=["email"])
    for shop in (cast.vendor_a, cast.vendor_b):
        factories.ProductFactory(vendor=shop, stock=40, price="6.00")
        factories.ProductFactory(
            vendor=shop, is_active=False, name=f"Draft {run.secrets.new(audience(vendors=[shop.pk]))}"
        )
    for customer in (cast.customer_a.user, cast.customer_b.user):
        for shop, product in ((cast.vendor_a, cast.product_a), (cast.vendor_b, cast.product_b)):
            owners = audience(users=[customer.pk], vendors=[shop.pk])
            cart_add_item(user=customer, product=product, quantity=1)
            [order] = order_checkout(
                customer=customer, delivery_address=f"{run.secrets.new(owners)} Lane", notes=run.secrets.new(owners)
            )
            conversation = conversation_start(
                customer=customer, vendor=shop, order=order, body=f"Hi {run.secrets.new(owners)}"
            )
            conversation_send_message(
                conversation=conversation,
                sender=customer,
                body=f"Look {run.secrets.new(owners)}",
                attachments=[factories.image_upload()],
            )
        mine = audience(users=[customer.pk])
        thread_create(
            subject=f"Refund {run.secrets.new(mine)}", body=f"Where {run.secrets.new(mine)}", customer=customer
        )


@pytest.fixture
def isolation_servers(daphne_servers, uploads_in_tmp):
    env = {
        "THROTTLE_WRITES": "100000/min",  # the run is one busy day compressed; the rate limit is not under test
        "ORDER_ACCEPT_MINUTES": "600",  # no deadline sweep moves orders while the oracle reads them
        "ORDER_ACCEPT_REMINDER_MINUTES": "500",
        "ORDER_ACCEPT_ESCALATE_MINUTES": "550",
        "MEDIA_ROOT": settings.MEDIA_ROOT,
        "PRIVATE_MEDIA_ROOT": settings.STORAGES["private"]["OPTIONS"]["location"],
    }
    return [daphne_servers.start(f"daphne-{index}", **env) for index in (1, 2)]


def test_no_tenant_ever_sees_another_tenants_data(isolation_servers, phoenix_sockets, cast):
    forget_parties()
    seed = int(os.environ.get("RELIABILITY_SEED") or random.SystemRandom().randrange(2**32))
    print(f"isolation run seed: {seed} (RELIABILITY_SEED={seed} replays it)")
    run = Run(seed=seed, cast=cast, servers=isolation_servers, phoenix_sockets=phoenix_sockets)
    _seed_the_world(run)

    for _ in range(STEPS):
        _step(run)

    wait_until_numbered()
    final_seq = high_water_seq()
    for subscription in run.subscriptions:
        _keep_sockets_alive(run)
        check_subscription(run, subscription, final_seq)
    print(
        f"isolation run seed {seed}: {sum(run.calls.values())} API calls {dict(run.calls)}, "
        f"{run.hidden_checks} not-yours-equals-missing checks, {len(run.subscriptions)} sockets "
        f"({sum(len(s.channels) for s in run.subscriptions)} channels), {run.events_checked} events checked, "
        f"{len(run.suspensions.periods) - 1} suspensions or reinstatements, final seq {final_seq}"
    )
    assert sum(run.calls.values()) >= STEPS, "the run made fewer calls than steps"
    assert run.events_checked > 0 and run.hidden_checks > 0
