"""Fixtures shared by the cross-app tests in tests/ and each app's own tests/."""

from contextlib import contextmanager

import pytest

from tests import factories

ACTIVITY_LOG_TRUNCATE_TRIGGER = "accounts_activity_log_no_truncate"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Transactional tests end by truncating every table, which the activity log's TRUNCATE trigger
    refuses. Only in the test database is that one trigger switched off; the row triggers that
    refuse UPDATE and DELETE stay on."""
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER TABLE accounts_adminactivitylog DISABLE TRIGGER {ACTIVITY_LOG_TRUNCATE_TRIGGER}")


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Real hashing costs most of a test's time; the hasher's strength is not what tests check."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def customer(db):
    return factories.UserFactory()


@pytest.fixture
def admin_user(db):
    return factories.AdminFactory()


@pytest.fixture
def vendor(db):
    return factories.VendorFactory()


@pytest.fixture
def vendor_owner(vendor):
    return vendor.owner


def _row_counts():
    from django.apps import apps

    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


@pytest.fixture
def nothing_written(db):
    """`with nothing_written(): ...` fails if the block leaves a row more or less in any table —
    refused services must leave nothing half-written."""

    @contextmanager
    def check():
        before = _row_counts()
        yield
        assert _row_counts() == before

    return check


@pytest.fixture(autouse=True)
def uploads_in_tmp(settings, tmp_path):
    """Uploaded files land in this test's own directories, never in the work tree's media folders."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {**settings.STORAGES["private"], "OPTIONS": {"location": str(tmp_path / "private_media")}},
    }
    return tmp_path
