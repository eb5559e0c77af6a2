"""Change capture: every save and delete of a published model writes an outbox
row in the same transaction as the change itself.

So an event exists exactly when its change committed: a rolled-back
transaction takes its events with it, and a committed one cannot lose them.
The relay is asked to publish once per transaction, after the commit.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save

from realtime.models import Event
from realtime.publication import TABLES, PublishedTable, table_for_model
from realtime.relay import relay_after_commit

# The row as it was before an update, kept on the instance between pre_save and post_save.
_ROW_BEFORE = "_realtime_row_before"


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
    audience = table.audience(record, instance)
    if old_record is not None:
        # Whoever could see the row before must learn that it changed, even if the change hides it from them.
        audience |= table.audience(old_record, row_before)
    event_type = Event.Type.INSERT if created else Event.Type.UPDATE
    _write_event(using, table, event_type, record, old_record, audience)


def _capture_delete(sender, instance, using=None, **kwargs):
    table = table_for_model(sender)
    old_record = table.record(instance)
    _write_event(using, table, Event.Type.DELETE, None, old_record, table.audience(old_record, instance))


def _write_event(using, table: PublishedTable, event_type, record, old_record, audience):
    Event.objects.using(using).create(
        table=table.name, type=event_type, record=record, old_record=old_record, audience=sorted(audience)
    )
    _schedule_relay(using)


def _schedule_relay(using):
    """One relay run per transaction is enough: it publishes every event the transaction wrote."""
    connection = transaction.get_connection(using)
    if connection.in_atomic_block and any(entry[1] is relay_after_commit for entry in connection.run_on_commit):
        return
    transaction.on_commit(relay_after_commit, using=using, robust=True)


def connect_capture():
    for table in TABLES.values():
        uid = f"realtime.capture.{table.name}"
        pre_save.connect(_remember_row_before, sender=table.model, dispatch_uid=uid)
        post_save.connect(_capture_save, sender=table.model, dispatch_uid=uid)
        post_delete.connect(_capture_delete, sender=table.model, dispatch_uid=uid)
