"""The check that a piece of work's writes reach the event stream, shared by the capture tests.

Around the work every published table is read before and after: each row it
inserted, changed or deleted must have a matching event, and the last event
of each row must carry the row exactly as it now stands. A write that went
around capture (QuerySet.update(), a bulk operation, raw SQL, a deletion's
SET_NULL) fails here.
"""

from contextlib import contextmanager

from realtime.models import Event
from realtime.publication import TABLES


def _published_rows() -> dict[str, dict[int, dict]]:
    return {
        name: {row.pk: table.record(row) for row in table.model._base_manager.all()} for name, table in TABLES.items()
    }


@contextmanager
def reaches_the_stream(work_name):
    before = _published_rows()
    last_event_id = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    yield
    after = _published_rows()
    latest, inserted = {}, set()
    for event in Event.objects.filter(id__gt=last_event_id).exclude(table=Event.ACCESS_TABLE).order_by("id"):
        key = (event.table, (event.record or event.old_record)["id"])
        latest[key] = event
        if event.type == "INSERT":
            inserted.add(key)
    for name in TABLES:
        for pk, record in after[name].items():
            if before[name].get(pk) == record:
                continue
            event = latest.get((name, pk))
            assert event is not None, f"{work_name} changed {name} #{pk} without an event"
            if pk not in before[name]:
                assert (name, pk) in inserted, f"{work_name} inserted {name} #{pk} without an INSERT event"
            assert event.record == record, f"{work_name}: the event of {name} #{pk} is not the row as stored"
        for pk in before[name].keys() - after[name].keys():
            event = latest.get((name, pk))
            assert event is not None and event.type == "DELETE", f"{work_name} deleted {name} #{pk} silently"
