"""The published tables: what clients may subscribe to, which columns they
see, and who may see each row.

Each table's audience is a set of groups (`user.<id>`, `vendor.<id>`,
`staff`, `public`) computed once per change when it is captured, so
authorizing an event costs one set intersection per socket, never a query.
Columns are listed explicitly: a new model field is private until it is
added here, so a secret can never leak by default.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from realtime.policies import PUBLIC, STAFF, user_group, vendor_group

# PostgreSQL's names for the column types, as Supabase clients expect them in `columns`.
_POSTGRES_TYPES = {
    "AutoField": "int4",
    "BigAutoField": "int8",
    "BigIntegerField": "int8",
    "BooleanField": "bool",
    "CharField": "varchar",
    "DateField": "date",
    "DateTimeField": "timestamptz",
    "DecimalField": "numeric",
    "EmailField": "varchar",
    "FileField": "varchar",
    "FloatField": "float8",
    "IntegerField": "int4",
    "JSONField": "jsonb",
    "PositiveIntegerField": "int4",
    "PositiveSmallIntegerField": "int2",
    "SlugField": "varchar",
    "SmallIntegerField": "int2",
    "TextField": "text",
    "URLField": "varchar",
    "UUIDField": "uuid",
}

_JSON_NATIVE = (str, int, float, bool, type(None), list, dict)
_ENCODER = DjangoJSONEncoder()


def json_value(value):
    """Decimals as strings, datetimes as ISO 8601 with their zone: the JSON the API speaks."""
    return value if isinstance(value, _JSON_NATIVE) else _ENCODER.default(value)


def _stored_value(model_field: models.Field, instance: models.Model):
    if isinstance(model_field, models.FileField):
        # A published file is a public one (a shop's logo): its site-relative URL, as the API's image lists.
        stored = model_field.value_from_object(instance)
        return stored.url if stored else None
    value = model_field.to_python(model_field.value_from_object(instance))
    if isinstance(model_field, models.DecimalField) and value is not None:
        value = value.quantize(Decimal(1).scaleb(-model_field.decimal_places))
    return json_value(value)


def _postgres_type(model_field: models.Field) -> str:
    target = model_field.target_field if model_field.is_relation else model_field
    return _POSTGRES_TYPES[target.get_internal_type()]


@dataclass(frozen=True)
class PublishedTable:
    name: str
    model_label: str
    column_names: tuple[str, ...]
    # (record, instance) -> audience groups; `instance` serves rules that need a parent row.
    policy: Callable[[dict, models.Model], set[str]] = field(repr=False)

    @cached_property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)

    @cached_property
    def _fields(self) -> dict[str, models.Field]:
        by_column = {model_field.attname: model_field for model_field in self.model._meta.concrete_fields}
        return {name: by_column[name] for name in self.column_names}

    @cached_property
    def columns(self) -> dict[str, str]:
        return {name: _postgres_type(model_field) for name, model_field in self._fields.items()}

    @cached_property
    def columns_payload(self) -> list[dict[str, str]]:
        return [{"name": name, "type": type_name} for name, type_name in self.columns.items()]

    def record(self, instance: models.Model, only_fields=None) -> dict:
        """The row as the database holds it, even when the instance still has the values as assigned;
        with `only_fields` (a save's update_fields), just the columns that save wrote."""
        return {
            name: _stored_value(model_field, instance)
            for name, model_field in self._fields.items()
            if only_fields is None or model_field.name in only_fields or name in only_fields
        }

    def ordered(self, record: dict | None) -> dict | None:
        """The record with its columns in the table's order (PostgreSQL's jsonb keeps its own order)."""
        return None if record is None else {name: record[name] for name in self.column_names if name in record}

    def audience(self, record: dict, instance: models.Model) -> frozenset[str]:
        return frozenset(self.policy(record, instance))


def _customer_vendor_staff(customer_id, vendor_id) -> set[str]:
    return {user_group(customer_id), vendor_group(vendor_id), STAFF}


def _customer_if_any_and_staff(customer_id) -> set[str]:
    return {STAFF} if customer_id is None else {user_group(customer_id), STAFF}


def _order_note_audience(is_internal: bool, order) -> set[str]:
    """Internal notes stay with the shop's team and the platform; the others reach the customer too."""
    team = {vendor_group(order.vendor_id), STAFF}
    return team if is_internal else team | {user_group(order.customer_id)}


def _listed_or_vendor_and_staff(is_listed: bool, vendor_id) -> set[str]:
    """Listed rows are everyone's; unlisted ones stay visible to their vendor and the platform team."""
    return {PUBLIC} if is_listed else {vendor_group(vendor_id), STAFF}


_TABLE_LIST = [
    PublishedTable(
        "orders",
        "orders.Order",
        (
            "id",
            "number",
            "customer_id",
            "vendor_id",
            "status",
            "subtotal",
            "delivery_fee",
            "total",
            "delivery_address",
            "delivery_lat",
            "delivery_lng",
            "notes",
            "cancel_reason",
            "cancel_reason_code",
            "accept_by",
            "accepted_at",
            "prep_minutes",
            "estimated_ready_at",
            "created_at",
            "updated_at",
        ),
        lambda record, order: _customer_vendor_staff(record["customer_id"], record["vendor_id"]),
    ),
    PublishedTable(
        "order_notes",
        "orders.OrderNote",
        ("id", "order_id", "author_id", "body", "is_internal", "created_at"),
        lambda record, note: _order_note_audience(record["is_internal"], note.order),
    ),
    PublishedTable(
        "order_items",
        "orders.OrderItem",
        ("id", "order_id", "product_id", "product_name", "unit_price", "quantity", "line_total"),
        lambda record, item: _customer_vendor_staff(item.order.customer_id, item.order.vendor_id),
    ),
    PublishedTable(
        "products",
        "catalog.Product",
        (
            "id",
            "vendor_id",
            "category_id",
            "name",
            "description",
            "price",
            "stock",
            "low_stock_threshold",
            "is_active",
            "images",
            "rating_avg",
            "rating_count",
            "out_of_stock_until",
            "created_at",
            "updated_at",
        ),
        lambda record, product: _listed_or_vendor_and_staff(record["is_active"], record["vendor_id"]),
    ),
    PublishedTable(
        "vendors",
        "vendors.Vendor",
        (
            "id",
            "owner_id",
            "name",
            "slug",
            "description",
            "address",
            "lat",
            "lng",
            "delivery_radius_km",
            "opening_status",
            "busy_extra_minutes",
            "paused_until",
            "logo",
            "rating_avg",
            "rating_count",
            "is_active",
            "created_at",
            "updated_at",
        ),
        lambda record, vendor: _listed_or_vendor_and_staff(record["is_active"], record["id"]),
    ),
    PublishedTable(
        "cart_items",
        "orders.CartItem",
        ("id", "user_id", "product_id", "quantity", "created_at", "updated_at"),
        lambda record, item: {user_group(record["user_id"])},
    ),
    PublishedTable(
        "notifications",
        "accounts.Notification",
        ("id", "user_id", "type", "title", "body", "action_url", "data", "read_at", "created_at"),
        lambda record, notification: {user_group(record["user_id"])},
    ),
    PublishedTable(
        "reviews",
        "catalog.Review",
        (
            "id",
            "customer_id",
            "order_id",
            "vendor_id",
            "product_id",
            "rating",
            "comment",
            "reply",
            "replied_at",
            "created_at",
            "updated_at",
        ),
        lambda record, review: {PUBLIC},
    ),
    PublishedTable(
        "profiles",
        "accounts.Profile",
        ("id", "user_id", "avatar_url", "default_address", "default_lat", "default_lng", "created_at", "updated_at"),
        lambda record, profile: {user_group(record["user_id"]), STAFF},
    ),
    PublishedTable(
        "admin_activity",
        "accounts.AdminActivityLog",
        # What the dashboard's log, user and activity pages need to refresh; details and the
        # address an admin acted from stay in the database.
        ("id", "admin_id", "admin_name", "admin_role", "action", "category", "entity_type", "entity_id", "created_at"),
        lambda record, entry: {STAFF},
    ),
    PublishedTable(
        "vendor_applications",
        "vendors.VendorApplication",
        (
            "id",
            "applicant_id",
            "business_name",
            "business_type",
            "company_number",
            "contact_name",
            "contact_email",
            "contact_phone",
            "address",
            "lat",
            "lng",
            "description",
            "documents",
            "status",
            "reviewer_id",
            "reason",
            "vendor_id",
            "created_at",
            "updated_at",
        ),
        lambda record, application: {user_group(record["applicant_id"]), STAFF},
    ),
    PublishedTable(
        "inventory_alerts",
        "catalog.InventoryAlert",
        (
            "id",
            "product_id",
            "vendor_id",
            "type",
            "severity",
            "status",
            "stock_level",
            "threshold",
            "message",
            "sales_velocity_per_day",
            "estimated_stockout_at",
            "acknowledged_by_id",
            "acknowledged_at",
            "resolved_at",
            "created_at",
            "updated_at",
        ),
        lambda record, alert: {vendor_group(record["vendor_id"]), STAFF},
    ),
    PublishedTable(
        "email_threads",
        "support.EmailThread",
        (
            "id",
            "customer_id",
            "external_email",
            "subject",
            "status",
            "priority",
            "assignee_id",
            "order_id",
            "message_count",
            "unread_count",
            "last_message_at",
            "created_at",
            "updated_at",
        ),
        lambda record, thread: _customer_if_any_and_staff(record["customer_id"]),
    ),
    PublishedTable(
        "email_messages",
        "support.EmailMessage",
        ("id", "thread_id", "direction", "sender_id", "from_email", "to_email", "body", "read_at", "created_at"),
        lambda record, message: _customer_if_any_and_staff(message.thread.customer_id),
    ),
    PublishedTable(
        "email_thread_notes",
        "support.ThreadNote",
        ("id", "thread_id", "author_id", "body", "created_at"),
        # The team's notes to each other: never the customer's.
        lambda record, note: {STAFF},
    ),
    PublishedTable(
        "conversations",
        "support.Conversation",
        ("id", "customer_id", "vendor_id", "order_id", "subject", "last_message_at", "created_at", "updated_at"),
        lambda record, conversation: _customer_vendor_staff(record["customer_id"], record["vendor_id"]),
    ),
    PublishedTable(
        "messages",
        "support.Message",
        ("id", "conversation_id", "sender_id", "body", "read_at", "created_at"),
        lambda record, message: _customer_vendor_staff(
            message.conversation.customer_id, message.conversation.vendor_id
        ),
    ),
    PublishedTable(
        "message_attachments",
        "support.MessageAttachment",
        ("id", "message_id", "content_type", "size", "width", "height", "created_at"),
        lambda record, attachment: _customer_vendor_staff(
            attachment.message.conversation.customer_id, attachment.message.conversation.vendor_id
        ),
    ),
]

TABLES: dict[str, PublishedTable] = {table.name: table for table in _TABLE_LIST}
_TABLES_BY_MODEL = {table.model_label: table for table in _TABLE_LIST}


def table_for_model(model: type[models.Model]) -> PublishedTable | None:
    return _TABLES_BY_MODEL.get(model._meta.label)


def change_data(event) -> str:
    """The `data` of a `postgres_changes` message as JSON text, encoded once per event.

    Live messages and replays build it from the same stored row, so a client
    gets the same bytes whichever way an event reaches it.
    """
    table = TABLES[event.table]
    data = {
        "schema": "public",
        "table": event.table,
        "type": event.type,
        "commit_timestamp": json_value(event.numbered_at),
        "columns": table.columns_payload,
    }
    # As Supabase sends them: an INSERT has no `old_record` key and a DELETE no `record` key (not
    # null), which strict clients such as Supabase's Python one require.
    if event.record is not None:
        data["record"] = table.ordered(event.record)
    if event.old_record is not None:
        data["old_record"] = table.ordered(event.old_record)
    data["errors"] = None
    data["seq"] = event.seq
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)
