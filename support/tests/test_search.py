import pytest
from django.db import connection

from support import selectors, services
from support.selectors import Side
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(vendor):
    return factories.VendorStaffFactory(vendor=vendor).user


@pytest.fixture
def conversations(vendor):
    """Three customers of the shop, and one of another shop who writes the same words."""
    smith = factories.UserFactory(full_name="Jo Smith")
    patel = factories.UserFactory(full_name="Ravi Patel")
    jones = factories.UserFactory(full_name="Ann Jones")
    order = factories.OrderFactory(customer=patel, vendor=vendor, number="ZR-4KQ7TX")
    found = {
        "smith": services.conversation_start(
            customer=smith, vendor=vendor, subject="Allergies", body="Is the sourdough gluten-free?"
        ),
        "patel": services.conversation_start(
            customer=patel, vendor=vendor, order=order, subject="Late delivery", body="Where is my order?"
        ),
        "jones": services.conversation_start(customer=jones, vendor=vendor, body="Do you deliver on Sundays?"),
    }
    services.conversation_start(
        customer=factories.UserFactory(full_name="Jo Smith"),
        vendor=factories.VendorFactory(),
        subject="Allergies",
        body="Gluten-free sourdough?",
    )
    return found


def _found(user, query, side=Side.VENDOR):
    return {
        conversation.customer.full_name
        for conversation in selectors.conversation_search(user=user, query=query, side=side)
    }


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("smith", {"Jo Smith"}),
        ("allergies", {"Jo Smith"}),
        ("ZR-4KQ7TX", {"Ravi Patel"}),
        ("4kq7", {"Ravi Patel"}),
        ("gluten", {"Jo Smith"}),
        ("Sunday", {"Ann Jones"}),
        ("deliver", {"Ravi Patel", "Ann Jones"}),
        ("glut", {"Jo Smith"}),
        ("smith sourdough", {"Jo Smith"}),
        ("smith sunday", set()),
        ("nothing-like-this", set()),
    ],
)
def test_the_shop_finds_its_conversations_by_name_subject_order_and_text(clerk, conversations, query, names):
    assert _found(clerk, query) == names


@pytest.mark.parametrize("query", ["", "   ", "&|!", "'):*", "--"])
def test_a_query_without_words_lists_everything(clerk, conversations, query):
    assert _found(clerk, query) == {"Jo Smith", "Ravi Patel", "Ann Jones"}


def test_tsquery_syntax_in_a_query_is_only_words(clerk, conversations):
    assert _found(clerk, "smith:* | (sourdough & !gluten)") == {"Jo Smith"}


def test_a_customer_searches_only_their_own(conversations):
    smith = conversations["smith"].customer

    assert _found(smith, "gluten", Side.CUSTOMER) == {"Jo Smith"}
    assert _found(smith, "sunday", Side.CUSTOMER) == set()
    assert _found(smith, "gluten", Side.VENDOR) == set()


def test_search_keeps_the_unread_counts_and_the_latest_first(clerk, conversations):
    services.conversation_send_message(conversation=conversations["smith"], sender=clerk, body="Yes it is.")
    services.conversation_send_message(
        conversation=conversations["patel"], sender=conversations["patel"].customer, body="Still waiting"
    )

    latest_first = [
        conversation.customer.full_name for conversation in selectors.conversation_search(user=clerk, query="")
    ]
    [waiting] = selectors.conversation_search(user=clerk, query="still waiting")

    assert latest_first == ["Ravi Patel", "Jo Smith", "Ann Jones"]
    assert (waiting.customer.full_name, waiting.unread) == ("Ravi Patel", 2)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the full-text index exists on PostgreSQL only")
def test_message_search_can_use_the_full_text_index(conversations):
    query = selectors.conversation_search(user=conversations["smith"].vendor.owner, query="gluten")
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "message_body_search" in plan
