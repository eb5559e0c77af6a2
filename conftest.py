"""Fixtures shared by the cross-app tests in tests/ and each app's own tests/."""

import pytest

from tests import factories


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
