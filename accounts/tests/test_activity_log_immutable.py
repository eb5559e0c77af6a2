"""The admin activity log is evidence: PostgreSQL itself refuses to change or erase it."""

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from accounts.models import AdminActivityLog
from accounts.services import activity_log_record
from conftest import ACTIVITY_LOG_TRUNCATE_TRIGGER

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(admin_user):
    return activity_log_record(admin=admin_user, action="vendor.deactivated", category="vendor", details={"why": "x"})


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE accounts_adminactivitylog SET action = 'rewritten' WHERE id = %s",
        "DELETE FROM accounts_adminactivitylog WHERE id = %s",
    ],
)
def test_raw_sql_update_and_delete_are_rejected_by_the_trigger(entry, statement):
    with pytest.raises(DatabaseError, match="accounts_adminactivitylog is immutable"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [entry.pk])

    assert AdminActivityLog.objects.get(pk=entry.pk).action == "vendor.deactivated"


def test_truncate_is_rejected_by_the_trigger(entry):
    # The test database switches this trigger off so transactional tests can be flushed;
    # switch it back on inside a transaction that is rolled back (DDL is transactional on PostgreSQL).
    with pytest.raises(DatabaseError, match="accounts_adminactivitylog is immutable"):
        with transaction.atomic(), connection.cursor() as cursor:
            # Fire the pending foreign-key checks first: ALTER and TRUNCATE refuse to run with checks pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE accounts_adminactivitylog ENABLE TRIGGER {ACTIVITY_LOG_TRUNCATE_TRIGGER}")
            cursor.execute("TRUNCATE accounts_adminactivitylog CASCADE")

    assert AdminActivityLog.objects.filter(pk=entry.pk).exists()


def test_queryset_update_and_delete_are_rejected_by_the_trigger(entry):
    with pytest.raises(DatabaseError), transaction.atomic():
        AdminActivityLog.objects.filter(pk=entry.pk).update(action="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        AdminActivityLog.objects.filter(pk=entry.pk)._raw_delete(using="default")

    assert AdminActivityLog.objects.get(pk=entry.pk).action == "vendor.deactivated"


def test_model_save_of_an_existing_row_and_delete_raise(entry):
    entry.action = "rewritten"
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()

    assert AdminActivityLog.objects.get(pk=entry.pk).action == "vendor.deactivated"
