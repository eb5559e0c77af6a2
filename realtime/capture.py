"""Change capture: every save and delete of a published model writes an outbox
row in the same transaction as the change itself.

So an event exists exactly when its change committed: a rolled-back
transaction takes its events with it, and a committed one cannot lose them.
The relay is asked to publish once per transaction, after the commit.

A deletion that rewrites the rows pointing at the deleted one (their foreign
key's `on_delete` is SET_NULL, SET_DEFAULT or SET(...)) does so with one
QuerySet.update() inside Django's Collector, which sends no signals. So for
every model that such a published foreign key points at, capture reads and
locks those rows in the deleted row's `pre_delete`, and writes an UPDATE for
each in its `post_delete`, after the rewrite and within the same transaction.
The foreign keys are found from the models, so a new one is captured without
being listed anywhere; a CASCADE is captured as the DELETE of each row.

Access changes are captured the same way. A write that changes what a user
may read (the inputs of realtime.policies.groups_for_user: the account's
standing and admin flag, their shop membership, their shop's activation) or
ends a credential a socket holds (a token revoked, a session deleted: signed
out, or replaced at sign-in) writes an access event (Event.ACCESS_TABLE)
whose audience is the group of each user concerned. It is captured from the
models rather than called from each service so that no path can skip it:
Django admin's forms save users and memberships directly, and deleting a
user or a shop cascades to tokens and memberships.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, cached_property

from django.apps import apps
from django.contrib.auth import SESSION_KEY, get_user_model
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from realtime.models import Event
from realtime.policies import user_group
from realtime.publication import TABLES, PublishedTable, table_for_model
from realtime.relay import relay_after_commit

# The row as it was before an update, kept on the instance between pre_save and post_save.
_ROW_BEFORE = "_realtime_row_before"
# The same for the fields an access rule watches.
_ACCESS_BEFORE = "_realtime_access_before"
# The published rows a deletion is about to rewrite, kept on the deleted instance between pre_delete and post_delete.
_ROWS_TO_REWRITE = "_realtime_rows_to_rewrite"
# The on_delete rules that leave the rows pointing at a deleted one unwritten (a CASCADE deletes each of them
# with its own signals); any other rule rewrites them.
_ON_DELETE_WITHOUT_REWRITE = (models.CASCADE, models.PROTECT, models.RESTRICT, models.DO_NOTHING)


def _remember_row_before(sender, instance, raw=False, using=None, **kwargs):
    if raw or instance._state.adding or instance.pk is None:
        instance.__dict__.pop(_ROW_BEFORE, None)
        return
    setattr(instance, _ROW_BEFORE, sender._base_manager.using(using).filter(pk=instance.pk).first())


def _capture_save(sender, instance, created, raw=False, using=None, update_fields=None, **kwargs):
    row_before = instance.__dict__.pop(_ROW_BEFORE, None)
    if raw:
        return
    table = table_for_model(sender)
    old_record = None if created or row_before is None else table.record(row_before)
    if old_record is not None and update_fields is not None:
        # The columns the save left alone keep their stored values, whatever the instance holds.
        record = {**old_record, **table.record(instance, only_fields=update_fields)}
    else:
        record = table.record(instance)
    old_audience = frozenset() if old_record is None else table.audience(old_record, row_before)
    event_type = Event.Type.INSERT if created else Event.Type.UPDATE
    _write_change(using, table, event_type, instance, record, old_record, old_audience)


def _write_change(using, table: PublishedTable, event_type, instance, record, old_record, old_audience):
    # Whoever could see the row before must learn that it changed, even if the change hides it from them.
    _write_event(using, table.name, event_type, record, old_record, table.audience(record, instance) | old_audience)


def _capture_delete(sender, instance, using=None, **kwargs):
    table = table_for_model(sender)
    old_record = table.record(instance)
    _write_event(using, table.name, Event.Type.DELETE, None, old_record, table.audience(old_record, instance))


# Rows a deletion rewrites


@cache
def _rewritten_by_deletion() -> dict[type[models.Model], list[tuple[PublishedTable, models.ForeignKey]]]:
    """For each model, the published foreign keys that the deletion of one of its rows rewrites."""
    rewrites = defaultdict(list)
    for table in TABLES.values():
        for field in table.model._meta.concrete_fields:
            if field.is_relation and field.remote_field.on_delete not in _ON_DELETE_WITHOUT_REWRITE:
                rewrites[field.related_model._meta.concrete_model].append((table, field))
    return rewrites


def _remember_rows_to_rewrite(sender, instance, using=None, **kwargs):
    """Reads the published rows that point at `instance` through a foreign key its deletion rewrites,
    with the audience each has now, while the rows they point at still exist.

    The deleted row is locked first, so that no row can start pointing at it until the deletion
    commits: the rows read here are all that the deletion rewrites. They are locked too, so that they
    stay as read until the rewrite.
    """
    list(sender._base_manager.using(using).select_for_update().filter(pk=instance.pk).values_list("pk"))
    rows = {}
    for table, field in _rewritten_by_deletion()[sender._meta.concrete_model]:
        for row in table.model._base_manager.using(using).select_for_update().filter(**{field.name: instance}):
            old_record = table.record(row)
            rows[table.name, row.pk] = (old_record, table.audience(old_record, row))
    instance.__dict__[_ROWS_TO_REWRITE] = rows


def _capture_rewritten(sender, instance, using=None, **kwargs):
    """An UPDATE for each row the deletion rewrote, read as now stored; a row that the same deletion
    removed has its DELETE instead."""
    rows_before = instance.__dict__.pop(_ROWS_TO_REWRITE, {})
    pks_by_table = defaultdict(list)
    for table_name, pk in rows_before:
        pks_by_table[table_name].append(pk)
    for table_name, pks in pks_by_table.items():
        table = TABLES[table_name]
        for row in table.model._base_manager.using(using).filter(pk__in=pks).order_by("pk"):
            old_record, old_audience = rows_before[table_name, row.pk]
            _write_change(using, table, Event.Type.UPDATE, row, table.record(row), old_record, old_audience)


def _write_event(using, table_name: str, event_type, record, old_record, audience):
    Event.objects.using(using).create(
        table=table_name, type=event_type, record=record, old_record=old_record, audience=sorted(audience)
    )
    _schedule_relay(using)


def _schedule_relay(using):
    """One relay run per transaction is enough: it publishes every event the transaction wrote."""
    connection = transaction.get_connection(using)
    if connection.in_atomic_block and any(entry[1] is relay_after_commit for entry in connection.run_on_commit):
        return
    transaction.on_commit(relay_after_commit, using=using, robust=True)


# Access changes


def _write_access_event(using, user_ids: Iterable) -> None:
    audience = {user_group(user_id) for user_id in user_ids if user_id is not None}
    if audience:
        _write_event(using, Event.ACCESS_TABLE, Event.Type.UPDATE, None, None, audience)


def _staff_of_vendor(vendor, values: dict, using) -> Iterable:
    vendor_staff = apps.get_model("vendors.VendorStaff")
    return vendor_staff._base_manager.using(using).filter(vendor_id=vendor.pk).values_list("user_id", flat=True)


@dataclass(frozen=True)
class AccessRule:
    """A model some of whose writes change users' access: the fields that matter, and whose access."""

    model_label: str
    fields: tuple[str, ...]
    # (instance, {attname: value} of the watched fields, database alias) -> the ids of the users concerned.
    users: Callable[[models.Model, dict, str], Iterable]
    # Whether a new row changes anyone's access (a membership does; a new account or token does not).
    on_create: bool = False

    @cached_property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)

    def attnames(self, update_fields=None) -> list[str]:
        """The watched columns a save writes: all of them, or those among its update_fields."""
        watched = [self.model._meta.get_field(name) for name in self.fields]
        return [f.attname for f in watched if update_fields is None or {f.name, f.attname} & set(update_fields)]

    def values(self, instance) -> dict:
        return {attname: getattr(instance, attname) for attname in self.attnames()}


ACCESS_RULES = [
    AccessRule("accounts.User", ("is_active", "is_suspended", "is_staff"), lambda user, values, using: [user.pk]),
    AccessRule("accounts.ApiToken", ("revoked_at",), lambda token, values, using: [token.user_id]),
    AccessRule(
        "vendors.VendorStaff",
        ("user", "vendor", "role"),
        lambda membership, values, using: [values["user_id"]],
        on_create=True,
    ),
    AccessRule("vendors.Vendor", ("is_active",), _staff_of_vendor),
]
_ACCESS_RULES_BY_MODEL = {rule.model_label: rule for rule in ACCESS_RULES}


def _remember_access_before(sender, instance, raw=False, using=None, update_fields=None, **kwargs):
    """Reads the watched columns as stored, when the save writes any of them."""
    instance.__dict__.pop(_ACCESS_BEFORE, None)
    if raw or instance._state.adding or instance.pk is None:
        return
    attnames = _ACCESS_RULES_BY_MODEL[sender._meta.label].attnames(update_fields)
    if attnames:
        before = sender._base_manager.using(using).filter(pk=instance.pk).values(*attnames).first()
        if before is not None:
            setattr(instance, _ACCESS_BEFORE, before)


def _capture_access_save(sender, instance, created, raw=False, using=None, **kwargs):
    before = instance.__dict__.pop(_ACCESS_BEFORE, None)
    if raw:
        return
    rule = _ACCESS_RULES_BY_MODEL[sender._meta.label]
    now = rule.values(instance)
    if created:
        if rule.on_create:
            _write_access_event(using, rule.users(instance, now, using))
        return
    if before is None or all(now[attname] == value for attname, value in before.items()):
        return
    # A membership moved to another user changes the access of both.
    users = {*rule.users(instance, {**now, **before}, using), *rule.users(instance, now, using)}
    _write_access_event(using, users)


def _capture_access_delete(sender, instance, using=None, **kwargs):
    rule = _ACCESS_RULES_BY_MODEL[sender._meta.label]
    _write_access_event(using, rule.users(instance, rule.values(instance), using))


def _capture_session_end(sender, instance, using=None, **kwargs):
    """A deleted session (signed out, replaced at sign-in, cleared when expired) ends its sockets."""
    user_id = instance.get_decoded().get(SESSION_KEY)
    if user_id is not None:
        _write_access_event(using, [get_user_model()._meta.pk.to_python(user_id)])


def connect_capture():
    # Before the tables' own receivers: a deleted published row's DELETE follows the rewrites it caused.
    for model in apps.get_models():
        if model._meta.concrete_model in _rewritten_by_deletion():
            uid = f"realtime.capture.rewrite.{model._meta.label}"
            pre_delete.connect(_remember_rows_to_rewrite, sender=model, dispatch_uid=uid)
            post_delete.connect(_capture_rewritten, sender=model, dispatch_uid=uid)
    for table in TABLES.values():
        uid = f"realtime.capture.{table.name}"
        pre_save.connect(_remember_row_before, sender=table.model, dispatch_uid=uid)
        post_save.connect(_capture_save, sender=table.model, dispatch_uid=uid)
        post_delete.connect(_capture_delete, sender=table.model, dispatch_uid=uid)
    for rule in ACCESS_RULES:
        uid = f"realtime.capture.access.{rule.model_label}"
        pre_save.connect(_remember_access_before, sender=rule.model, dispatch_uid=uid)
        post_save.connect(_capture_access_save, sender=rule.model, dispatch_uid=uid)
        post_delete.connect(_capture_access_delete, sender=rule.model, dispatch_uid=uid)
    post_delete.connect(
        _capture_session_end, sender=apps.get_model("sessions.Session"), dispatch_uid="realtime.capture.access.session"
    )
