"""Access changes are captured: every write that changes what a user may read, or ends a
credential their sockets hold, writes an access event for them in its own transaction,
whichever door it came through; writes that change neither write none."""

from contextlib import contextmanager

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from accounts import services as accounts
from accounts.selectors import api_token_user
from realtime import selectors
from realtime.models import Event
from tests import factories
from vendors import services as vendors
from vendors.models import VendorStaff

pytestmark = pytest.mark.django_db


@contextmanager
def access_events():
    """Collects the audiences of the access events written inside the block."""
    written: list[set[str]] = []
    last_id = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    yield written
    for event in Event.objects.filter(id__gt=last_id, table=Event.ACCESS_TABLE).order_by("id"):
        assert (event.record, event.old_record) == (None, None), "an access event carries no row"
        written.append(set(event.audience))


def group(user) -> str:
    return f"user.{user.pk}"


def test_signing_a_device_out_revokes_its_token_as_an_access_change():
    user = factories.UserFactory()
    token, key = accounts.api_token_create(user=user)
    with access_events() as written:
        assert api_token_user(key=key) == user  # using a token records its use, and changes nothing
    assert written == []
    with access_events() as written:
        accounts.api_token_revoke(token=token)
        accounts.api_token_revoke(token=token)  # already revoked: nothing changes
    assert written == [{group(user)}]


def test_suspension_and_admin_rights_are_access_changes_however_they_are_saved():
    admin, user = factories.AdminFactory(), factories.UserFactory()
    with access_events() as written:
        accounts.user_set_suspended(actor=admin, user=user, suspended=True, reason="fraud check")
        accounts.user_set_suspended(actor=admin, user=user, suspended=False)
        accounts.user_set_platform_admin(actor=admin, user=user, is_admin=True)
    assert written == [{group(user)}] * 3
    user.refresh_from_db()
    with access_events() as written:
        # Django admin's user form saves every field, the flags among them.
        user.is_active = False
        user.save()
    assert written == [{group(user)}]


def test_edits_that_leave_access_alone_write_no_access_event():
    user = factories.UserFactory()
    with access_events() as written:
        accounts.user_register(email="new@example.test", password="a-long-enough-password-42", full_name="New")
        accounts.api_token_create(user=user)
        accounts.profile_update(user=user, full_name="Renamed")
        user.refresh_from_db()
        user.save()
    assert written == []


def test_shop_membership_and_activation_are_access_changes_of_the_team():
    admin = factories.AdminFactory()
    vendor = factories.VendorFactory()
    clerk = factories.UserFactory()
    with access_events() as written:
        membership = vendors.vendor_staff_add(actor=vendor.owner, vendor=vendor, user=clerk)
        membership.role = VendorStaff.Role.OWNER  # a role change, as Django admin's inline saves it
        membership.save()
        vendors.vendor_staff_remove(actor=vendor.owner, membership=membership)
    assert written == [{group(clerk)}] * 3
    factories.VendorStaffFactory(vendor=vendor, user=clerk)
    with access_events() as written:
        vendors.vendor_set_active(actor=admin, vendor=vendor, active=False, reason="audit")
        vendors.vendor_update(actor=admin, vendor=vendor, description="Closed for now")
    assert written == [{group(vendor.owner), group(clerk)}]


def test_a_membership_moved_to_another_user_changes_the_access_of_both():
    membership = factories.VendorStaffFactory()
    before, after = membership.user, factories.UserFactory()
    with access_events() as written:
        membership.user = after
        membership.save()
    assert written == [{group(before), group(after)}]


def test_deleting_a_user_ends_their_access():
    user = factories.UserFactory()
    accounts.api_token_create(user=user)
    audience = {group(user)}
    with access_events() as written:
        user.delete()
    assert written and all(written_to == audience for written_to in written)


def test_signing_out_of_a_portal_ends_its_session_as_an_access_change():
    user = factories.UserFactory()
    browser = Client()
    browser.force_login(user)
    with access_events() as written:
        assert browser.post(reverse("logout")).status_code == 302
    assert written == [{group(user)}]


def test_a_rolled_back_change_takes_its_access_event_with_it():
    user = factories.UserFactory()
    token, _ = accounts.api_token_create(user=user)
    with access_events() as written, pytest.raises(RuntimeError), transaction.atomic():
        accounts.api_token_revoke(token=token)
        raise RuntimeError
    assert written == []


@pytest.mark.django_db(transaction=True)
def test_the_changes_api_never_returns_access_events_and_pages_past_them():
    user = factories.UserFactory()
    token, _ = accounts.api_token_create(user=user)
    since = selectors.high_water_seq()
    accounts.api_token_revoke(token=token)
    notification = accounts.notification_create(user=user, type="system", title="after")
    first = selectors.changes_page(user=user, since=since, limit=1)
    assert first.events == [] and first.has_more
    second = selectors.changes_page(user=user, since=first.next_since, limit=1)
    assert [event.record["id"] for event in second.events] == [notification.pk]
    assert not second.has_more
