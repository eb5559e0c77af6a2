"""postgres_changes bindings: what a channel asked for, checked at join and matched per event.

A binding is `{event, schema, table, filter}` as realtime-js sends it. The
filter grammar is PostgREST's subset that Supabase Realtime accepts:
`column=op.value` with op in eq, neq, lt, lte, gt, gte, and `in.(a,b,c)`.
Values are compared as the column's type, so `total=gt.9.5` compares numbers
and `created_at=gte.2025-01-01T00:00:00Z` compares instants, never strings.
"""

import csv
import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from realtime.publication import TABLES, PublishedTable

SCHEMA = "public"
EVENTS = ("INSERT", "UPDATE", "DELETE")
MAX_IN_VALUES = 100

_NUMERIC_TYPES = {"int2", "int4", "int8", "numeric", "float4", "float8"}
_UNFILTERABLE_TYPES = {"json", "jsonb"}
_COMPARISONS: dict[str, Callable[[object, object], bool]] = {
    "eq": lambda value, operand: value == operand,
    "neq": lambda value, operand: value != operand,
    "lt": lambda value, operand: value < operand,
    "lte": lambda value, operand: value <= operand,
    "gt": lambda value, operand: value > operand,
    "gte": lambda value, operand: value >= operand,
}
OPERATORS = (*_COMPARISONS, "in")


class BindingError(ValueError):
    """A binding the server refuses; the message is the join reply's `reason`."""


def _to_number(value) -> Decimal:
    """A finite number: NaN compares unordered (Decimal raises on `<`) and Infinity is no column's value."""
    if isinstance(value, bool):
        raise ValueError
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError from None
    if not number.is_finite():
        raise ValueError
    return number


def _to_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("true", "t"):
        return True
    if text in ("false", "f"):
        return False
    raise ValueError


def _to_instant(value) -> datetime.datetime:
    parsed = parse_datetime(str(value))
    if parsed is None:
        raise ValueError
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, datetime.UTC)


def _to_date(value) -> datetime.date:
    parsed = parse_date(str(value))
    if parsed is None:
        raise ValueError
    return parsed


_CONVERTERS: dict[str, Callable[[object], object]] = {
    **dict.fromkeys(_NUMERIC_TYPES, _to_number),
    "bool": _to_bool,
    "timestamptz": _to_instant,
    "timestamp": _to_instant,
    "date": _to_date,
}
_TYPE_HINTS = {
    _to_number: "a number (finite: not NaN or Infinity)",
    _to_bool: "true or false",
    _to_instant: "an ISO 8601 timestamp",
    _to_date: "an ISO 8601 date",
}


@dataclass(frozen=True)
class ColumnFilter:
    column: str
    operator: str
    operands: tuple
    convert: Callable[[object], object]

    def matches(self, record: dict | None) -> bool:
        # SQL semantics: a NULL (or absent) column matches no comparison.
        if not record or record.get(self.column) is None:
            return False
        try:
            value = self.convert(record[self.column])
        except ValueError:
            return False
        if self.operator == "in":
            return value in self.operands
        return _COMPARISONS[self.operator](value, self.operands[0])


def _split_in_list(text: str, raw: str) -> list[str]:
    if not (text.startswith("(") and text.endswith(")")):
        raise BindingError(f"filter {raw!r}: `in` takes a parenthesised list, e.g. status=in.(pending,confirmed)")
    inner = text[1:-1]
    try:
        values = next(csv.reader([inner], skipinitialspace=True), []) if inner.strip() else []
    except csv.Error:
        # The one thing this dialect refuses: a line break outside quotes.
        raise BindingError(f"filter {raw!r}: an `in` value with a line break must be quoted") from None
    if not values:
        raise BindingError(f"filter {raw!r}: the `in` list is empty")
    if len(values) > MAX_IN_VALUES:
        raise BindingError(f"filter {raw!r}: `in` takes at most {MAX_IN_VALUES} values")
    return [value.strip() for value in values]


def parse_filter(raw: str, table: PublishedTable) -> ColumnFilter:
    column, equals, rest = raw.partition("=")
    operator, dot, operand_text = rest.partition(".")
    if not equals or not dot or not column:
        raise BindingError(f"filter {raw!r} is malformed: write column=op.value, e.g. status=eq.pending")
    column = column.strip()
    if column not in table.columns:
        raise BindingError(
            f"filter {raw!r}: table {table.name!r} has no column {column!r} (columns: {', '.join(table.columns)})"
        )
    if operator not in OPERATORS:
        raise BindingError(f"filter {raw!r}: unknown operator {operator!r} (use one of {', '.join(OPERATORS)})")
    column_type = table.columns[column]
    if column_type in _UNFILTERABLE_TYPES:
        raise BindingError(f"filter {raw!r}: column {column!r} is {column_type}, which cannot be filtered")
    convert = _CONVERTERS.get(column_type, str)
    texts = _split_in_list(operand_text, raw) if operator == "in" else [operand_text]
    try:
        operands = tuple(convert(text) for text in texts)
    except ValueError:
        raise BindingError(
            f"filter {raw!r}: column {column!r} is {column_type}, so the value must be {_TYPE_HINTS[convert]}"
        ) from None
    if operator == "in":
        operands = frozenset(operands)
    return ColumnFilter(column=column, operator=operator, operands=operands, convert=convert)


@dataclass(frozen=True)
class Binding:
    """One accepted postgres_changes binding; `echo` is what the join reply returns for it."""

    id: int
    event: str | None  # None: every event type
    table: str | None  # None: every published table
    column_filter: ColumnFilter | None
    echo: dict

    def matches(self, *, table: str, event_type: str, record: dict | None, old_record: dict | None) -> bool:
        if self.table is not None and self.table != table:
            return False
        if self.event is not None and self.event != event_type:
            return False
        if self.column_filter is None:
            return True
        # A deleted row only has its old values.
        return self.column_filter.matches(old_record if event_type == "DELETE" else record)


def parse_binding(spec, *, binding_id: int) -> Binding:
    """Check one client binding; the reply echoes back exactly the keys the client sent,
    because realtime-js compares them with `===` to pair its callbacks with the ids."""
    if not isinstance(spec, dict):
        raise BindingError("each postgres_changes binding must be an object {event, schema, table, filter}")
    event = spec.get("event")
    if not isinstance(event, str) or (event != "*" and event.upper() not in EVENTS):
        raise BindingError(f"postgres_changes event must be one of *, {', '.join(EVENTS)} (got {event!r})")
    schema = spec.get("schema")
    if schema != SCHEMA:
        raise BindingError(f"postgres_changes schema must be {SCHEMA!r} (got {schema!r})")
    table_name = spec.get("table")
    table = None
    if table_name is not None:
        table = TABLES.get(table_name) if isinstance(table_name, str) else None
        if table is None:
            raise BindingError(f"unknown table {table_name!r}: subscribe to one of {', '.join(sorted(TABLES))}")
    raw_filter = spec.get("filter")
    column_filter = None
    if raw_filter is not None and raw_filter != "":
        if not isinstance(raw_filter, str):
            raise BindingError("postgres_changes filter must be a string like column=op.value")
        if table is None:
            raise BindingError(f"filter {raw_filter!r} needs a table to filter")
        column_filter = parse_filter(raw_filter, table)
    echo = {key: spec[key] for key in ("event", "schema", "table", "filter") if key in spec}
    return Binding(
        id=binding_id,
        event=None if event == "*" else event.upper(),
        table=table_name,
        column_filter=column_filter,
        echo={"id": binding_id, **echo},
    )


def parse_bindings(specs, *, next_id: Callable[[], int]) -> list[Binding]:
    if specs is None:
        return []
    if not isinstance(specs, list):
        raise BindingError("config.postgres_changes must be a list of bindings")
    return [parse_binding(spec, binding_id=next_id()) for spec in specs]


def matching_ids(bindings: Iterable[Binding], *, table, event_type, record, old_record) -> list[int]:
    return [
        binding.id
        for binding in bindings
        if binding.matches(table=table, event_type=event_type, record=record, old_record=old_record)
    ]
