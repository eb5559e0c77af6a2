"""postgres_changes bindings: refused at join with a reason, matched by the column's type."""

import pytest

from realtime.protocol.filters import BindingError, parse_binding, parse_bindings
from realtime.publication import TABLES

ORDER = {
    "id": 12,
    "customer_id": 5,
    "vendor_id": 3,
    "status": "pending",
    "total": "19.50",
    "delivery_lat": None,
    "created_at": "2025-03-01T10:00:00+00:00",
}


def matches(filter_text, record=ORDER, *, table="orders", event_type="INSERT", old_record=None):
    binding = parse_binding({"event": "*", "schema": "public", "table": table, "filter": filter_text}, binding_id=1)
    return binding.matches(table=table, event_type=event_type, record=record, old_record=old_record)


@pytest.mark.parametrize(
    ("filter_text", "expected"),
    [
        ("total=eq.19.5", True),  # numeric: 19.5 equals "19.50"
        ("total=eq.19.50", True),
        ("total=neq.19.5", False),
        ("total=lt.100", True),  # as text "19.50" < "100" would be False
        ("total=lte.19.5", True),
        ("total=gt.9", True),  # as text "19.50" > "9" would be False
        ("total=gte.19.51", False),
        ("id=in.(1, 12, 30)", True),
        ("id=in.(1,2)", False),
        ("status=eq.pending", True),
        ("status=neq.pending", False),
        ("status=in.(pending,confirmed)", True),
        ('status=in.("pending","ready")', True),
        ("status=lt.ready", True),
        ("customer_id=eq.5", True),
        ("created_at=gt.2025-03-01T09:59:59Z", True),
        ("created_at=eq.2025-03-01T11:00:00+01:00", True),  # the same instant in another zone
        ("created_at=lt.2025-03-01T10:00:00", False),  # a naive timestamp is UTC
        ("delivery_lat=eq.1", False),  # NULL matches no comparison
        ("delivery_lat=neq.1", False),
    ],
)
def test_operators_compare_as_the_columns_type(filter_text, expected):
    assert matches(filter_text) is expected


def test_booleans_compare_as_booleans():
    product = {"is_active": True, "vendor_id": 3}
    assert matches("is_active=eq.true", product, table="products")
    assert not matches("is_active=eq.f", product, table="products")


def test_a_delete_is_matched_against_the_old_row():
    assert matches("customer_id=eq.5", None, event_type="DELETE", old_record=ORDER)
    assert not matches("customer_id=eq.6", None, event_type="DELETE", old_record=ORDER)


def test_an_update_is_matched_against_the_new_row():
    assert matches("status=eq.confirmed", {**ORDER, "status": "confirmed"}, event_type="UPDATE", old_record=ORDER)


def test_event_and_table_narrow_the_binding():
    binding = parse_binding({"event": "update", "schema": "public", "table": "orders"}, binding_id=1)
    assert binding.matches(table="orders", event_type="UPDATE", record=ORDER, old_record=ORDER)
    assert not binding.matches(table="orders", event_type="INSERT", record=ORDER, old_record=None)
    assert not binding.matches(table="products", event_type="UPDATE", record=ORDER, old_record=ORDER)


def test_a_binding_without_table_reads_every_table():
    binding = parse_binding({"event": "*", "schema": "public"}, binding_id=1)
    assert all(binding.matches(table=name, event_type="INSERT", record={}, old_record=None) for name in TABLES)


def test_the_reply_echoes_exactly_the_keys_the_client_sent():
    # realtime-js 2.15 compares with ===, so an absent filter must stay absent (not null).
    assert parse_binding({"event": "INSERT", "schema": "public", "table": "orders"}, binding_id=4).echo == {
        "id": 4,
        "event": "INSERT",
        "schema": "public",
        "table": "orders",
    }
    with_filter = {"event": "*", "schema": "public", "table": "orders", "filter": "id=eq.1"}
    assert parse_binding(with_filter, binding_id=5).echo == {"id": 5, **with_filter}


def test_ids_follow_the_request_order():
    ids = iter([7, 8, 9])
    specs = [{"event": event, "schema": "public", "table": "orders"} for event in ("INSERT", "UPDATE", "DELETE")]
    assert [binding.id for binding in parse_bindings(specs, next_id=ids.__next__)] == [7, 8, 9]


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ({"event": "UPSERT", "schema": "public", "table": "orders"}, "event must be one of"),
        ({"event": "*", "schema": "auth", "table": "orders"}, "schema must be 'public'"),
        ({"event": "*", "table": "orders"}, "schema must be 'public'"),
        ({"event": "*", "schema": "public", "table": "users"}, "unknown table 'users'"),
        ({"event": "*", "schema": "public", "table": "orders", "filter": "status"}, "malformed"),
        ({"event": "*", "schema": "public", "table": "orders", "filter": "status=pending"}, "malformed"),
        ({"event": "*", "schema": "public", "table": "orders", "filter": "colour=eq.red"}, "no column 'colour'"),
        ({"event": "*", "schema": "public", "table": "orders", "filter": "status=like.p%"}, "unknown operator 'like'"),
        ({"event": "*", "schema": "public", "table": "orders", "filter": "total=gt.lots"}, "must be a number"),
        ({"event": "*", "schema": "public", "table": "orders", "filter": "created_at=gt.yesterday"}, "ISO 8601"),
        ({"event": "*", "schema": "public", "table": "orders", "filter": "id=in.1,2"}, "parenthesised list"),
        ({"event": "*", "schema": "public", "table": "orders", "filter": "id=in.()"}, "empty"),
        (
            {"event": "*", "schema": "public", "table": "orders", "filter": f"id=in.({','.join(['1'] * 101)})"},
            "at most 100",
        ),
        ({"event": "*", "schema": "public", "table": "notifications", "filter": "data=eq.{}"}, "cannot be filtered"),
        ({"event": "*", "schema": "public", "filter": "id=eq.1"}, "needs a table"),
        ({"event": "*", "schema": "public", "table": "orders", "filter": 5}, "must be a string"),
        ("orders", "must be an object"),
    ],
)
def test_bad_bindings_are_refused_with_a_reason_to_act_on(spec, reason):
    with pytest.raises(BindingError, match=reason):
        parse_binding(spec, binding_id=1)


def test_postgres_changes_must_be_a_list():
    with pytest.raises(BindingError, match="must be a list"):
        parse_bindings({"event": "*"}, next_id=iter([1]).__next__)
