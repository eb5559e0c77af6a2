from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import selectors, services
from accounts.models import AdminActivityLog, ApiToken, Notification, Profile
from tests import factories
from zora.errors import Conflict, InvalidInput, NotFound, RuleViolation

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "plum-orchard-lantern-42"


# Registration and sign-in ----------------------------------------------------------------------


def test_register_normalises_email_and_creates_profile():
    user = services.user_register(email="  Ada@Example.TEST ", password=STRONG_PASSWORD, full_name="Ada Lovelace")

    assert user.email == "ada@example.test"
    assert user.check_password(STRONG_PASSWORD)
    assert Profile.objects.filter(user=user).exists()


def test_register_refuses_taken_email_in_any_case(nothing_written):
    factories.UserFactory(email="taken@example.test")

    with nothing_written(), pytest.raises(Conflict) as refusal:
        services.user_register(email="TAKEN@example.test", password=STRONG_PASSWORD, full_name="Someone")

    assert (refusal.value.code, refusal.value.field) == ("email_taken", "email")


@pytest.mark.parametrize(
    ("password", "message_part"),
    [("short1", "too short"), ("password123", "too common"), ("8675309421", "entirely numeric")],
)
def test_register_validates_password_with_django_validators(nothing_written, password, message_part):
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        services.user_register(email="new@example.test", password=password, full_name="New Person")

    assert refusal.value.field == "password"
    assert message_part in refusal.value.message


def test_register_refuses_password_like_the_email(nothing_written):
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        services.user_register(email="margaretha@example.test", password="margaretha", full_name="M")

    assert refusal.value.field == "password"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"full_name": "  "}, "full_name"),
        ({"phone": "0" * 33}, "phone"),
    ],
)
def test_register_refuses_bad_fields(nothing_written, fields, field):
    arguments = {"email": "new@example.test", "password": STRONG_PASSWORD, "full_name": "New Person", **fields}

    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        services.user_register(**arguments)

    assert refusal.value.field == field


def test_authenticate_with_any_email_case():
    user = factories.UserFactory(email="grace@example.test")

    assert services.user_authenticate(email="Grace@Example.test", password=factories.PASSWORD) == user


def test_authenticate_gives_one_answer_for_unknown_email_and_wrong_password():
    factories.UserFactory(email="grace@example.test")

    with pytest.raises(InvalidInput) as wrong_password:
        services.user_authenticate(email="grace@example.test", password="not-the-password")
    with pytest.raises(InvalidInput) as unknown_email:
        services.user_authenticate(email="nobody@example.test", password=factories.PASSWORD)

    assert wrong_password.value.code == unknown_email.value.code == "invalid_credentials"
    assert wrong_password.value.message == unknown_email.value.message


@pytest.mark.parametrize("state", [{"is_suspended": True}, {"is_active": False}])
def test_authenticate_refuses_suspended_and_inactive_users(state):
    factories.UserFactory(email="grace@example.test", **state)

    with pytest.raises(RuleViolation) as refusal:
        services.user_authenticate(email="grace@example.test", password=factories.PASSWORD)

    assert refusal.value.code == "account_suspended"


def test_authenticate_does_not_reveal_suspension_without_the_password():
    factories.UserFactory(email="grace@example.test", is_suspended=True)

    with pytest.raises(InvalidInput) as refusal:
        services.user_authenticate(email="grace@example.test", password="guess")

    assert refusal.value.code == "invalid_credentials"


# Profiles --------------------------------------------------------------------------------------


def test_profile_update_changes_user_and_profile_fields(customer):
    profile = services.profile_update(
        user=customer,
        full_name="Ada King",
        phone="+44 20 7946 0000",
        avatar_url="https://cdn.example.test/ada.png",
        default_address="10 Downing Street",
        default_lat="51.503396",
        default_lng=-0.127696,
    )

    customer.refresh_from_db()
    profile.refresh_from_db()
    assert (customer.full_name, customer.phone) == ("Ada King", "+44 20 7946 0000")
    assert profile.default_lat == Decimal("51.503396")
    assert profile.default_lng == Decimal("-0.127696")
    assert profile.avatar_url == "https://cdn.example.test/ada.png"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"default_lat": 91}, "default_lat"),
        ({"default_lng": "-180.5"}, "default_lng"),
        ({"default_lat": "north"}, "default_lat"),
        ({"avatar_url": "javascript:alert(1)"}, "avatar_url"),
        ({"full_name": ""}, "full_name"),
        ({"is_staff": True}, "is_staff"),
    ],
)
def test_profile_update_refuses_bad_fields(customer, nothing_written, fields, field):
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        services.profile_update(user=customer, default_address="Elsewhere", **fields)

    assert refusal.value.field == field
    customer.profile.refresh_from_db()
    assert customer.profile.default_address == "1 High Street, London"


# Suspension ------------------------------------------------------------------------------------


def test_suspending_revokes_tokens_and_is_logged(admin_user, customer):
    token, key = services.api_token_create(user=customer, name="iPhone")

    services.user_set_suspended(
        actor=admin_user,
        user=customer,
        suspended=True,
        reason="chargebacks",
        request_meta={"ip": "203.0.113.9", "user_agent": "Firefox"},
    )

    customer.refresh_from_db()
    token.refresh_from_db()
    assert customer.is_suspended
    assert token.revoked_at is not None
    assert selectors.api_token_user(key=key) is None
    entry = AdminActivityLog.objects.get()
    assert (entry.action, entry.category, entry.entity_type, entry.entity_id) == (
        "user.suspended",
        "user",
        "accounts.user",
        str(customer.pk),
    )
    assert entry.details == {"reason": "chargebacks"}
    assert entry.ip_address == "203.0.113.9"


def test_reinstating_lifts_suspension(admin_user):
    user = factories.UserFactory(is_suspended=True)

    services.user_set_suspended(actor=admin_user, user=user, suspended=False)

    user.refresh_from_db()
    assert not user.is_suspended
    assert AdminActivityLog.objects.get().action == "user.reinstated"


def test_only_admins_suspend(customer, nothing_written):
    other = factories.UserFactory()

    with nothing_written(), pytest.raises(NotFound):
        services.user_set_suspended(actor=customer, user=other, suspended=True)


def test_admin_cannot_suspend_themselves(admin_user, nothing_written):
    with nothing_written(), pytest.raises(RuleViolation) as refusal:
        services.user_set_suspended(actor=admin_user, user=admin_user, suspended=True)

    assert refusal.value.code == "self_suspension"


# Platform-admin rights -------------------------------------------------------------------------


def test_granting_and_revoking_admin_rights_is_logged(admin_user, customer):
    services.user_set_platform_admin(
        actor=admin_user, user=customer, is_admin=True, request_meta={"ip": "203.0.113.9", "user_agent": "Firefox"}
    )
    customer.refresh_from_db()
    assert customer.is_staff

    services.user_set_platform_admin(actor=admin_user, user=customer, is_admin=False)

    customer.refresh_from_db()
    assert not customer.is_staff
    entries = AdminActivityLog.objects.order_by("id")
    assert [(entry.action, entry.category, entry.entity_id) for entry in entries] == [
        ("user.admin_granted", "user", str(customer.pk)),
        ("user.admin_revoked", "user", str(customer.pk)),
    ]
    assert entries[0].ip_address == "203.0.113.9"


def test_only_admins_grant_admin_rights(customer, nothing_written):
    with nothing_written(), pytest.raises(NotFound):
        services.user_set_platform_admin(actor=customer, user=customer, is_admin=True)


def test_admin_cannot_change_their_own_admin_rights(admin_user, nothing_written):
    with nothing_written(), pytest.raises(RuleViolation) as refusal:
        services.user_set_platform_admin(actor=admin_user, user=admin_user, is_admin=False)

    assert (refusal.value.code, refusal.value.field) == ("self_admin_change", "user")


# API tokens ------------------------------------------------------------------------------------


def test_token_stores_only_the_hash(customer):
    token, key = services.api_token_create(user=customer, name="Pixel")

    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == ApiToken.hash_key(key)
    assert key not in {stored.key_hash, stored.prefix, stored.name}
    assert stored.prefix == key[:8]
    assert selectors.api_token_user(key=key) == customer


def test_revoked_token_no_longer_authenticates(customer):
    token, key = services.api_token_create(user=customer)

    services.api_token_revoke(token=token)
    first_revocation = ApiToken.objects.get(pk=token.pk).revoked_at
    services.api_token_revoke(token=token)

    assert selectors.api_token_user(key=key) is None
    assert ApiToken.objects.get(pk=token.pk).revoked_at == first_revocation


@pytest.mark.parametrize("state", [{"is_suspended": True}, {"is_active": False}])
def test_token_of_suspended_or_inactive_user_does_not_authenticate(state):
    user = factories.UserFactory(**state)
    _token, key = services.api_token_create(user=user)

    assert selectors.api_token_user(key=key) is None


@pytest.mark.parametrize("key", ["", "not-a-real-key"])
def test_unknown_key_does_not_authenticate(customer, key):
    services.api_token_create(user=customer)

    assert selectors.api_token_user(key=key) is None


def test_last_used_is_written_at_most_once_a_minute(customer):
    token, key = services.api_token_create(user=customer)

    selectors.api_token_user(key=key)
    first_use = ApiToken.objects.get(pk=token.pk).last_used_at
    selectors.api_token_user(key=key)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first_use

    stale = ApiToken.objects.get(pk=token.pk)
    stale.last_used_at = timezone.now() - timedelta(minutes=2)
    stale.save(update_fields=["last_used_at"])
    selectors.api_token_user(key=key)
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first_use


# Notifications ---------------------------------------------------------------------------------


def test_notification_create_and_unread_count(customer):
    notification = services.notification_create(
        user=customer, type="order", title="Order confirmed", body="ZR-1", action_url="/orders/1", data={"id": 1}
    )

    assert notification.data == {"id": 1}
    assert selectors.notification_unread_count(user=customer) == 1
    assert list(selectors.notification_list(user=customer, unread_only=True)) == [notification]


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"type": "marketing"}, "type"), ({"title": " "}, "title"), ({"action_url": "/" * 501}, "action_url")],
)
def test_notification_create_refuses_bad_fields(customer, nothing_written, fields, field):
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        services.notification_create(user=customer, **{"type": "system", "title": "Hi", **fields})

    assert refusal.value.field == field


def test_vendor_staff_notification_reaches_every_member(vendor):
    clerk = factories.VendorStaffFactory(vendor=vendor).user
    factories.VendorStaffFactory()  # someone else's shop

    notifications = services.notification_create_for_vendor_staff(vendor=vendor, type="order", title="New order")

    assert {notification.user for notification in notifications} == {vendor.owner, clerk}
    assert Notification.objects.count() == 2


def test_mark_read_is_idempotent(customer):
    notification = factories.NotificationFactory(user=customer)

    first = services.notification_mark_read(user=customer, notification_id=notification.pk)
    again = services.notification_mark_read(user=customer, notification_id=notification.pk)

    assert first.read_at is not None
    assert again.read_at == first.read_at
    assert selectors.notification_unread_count(user=customer) == 0


def test_mark_read_of_someone_elses_notification_is_not_found(customer):
    notification = factories.NotificationFactory()

    with pytest.raises(NotFound):
        services.notification_mark_read(user=customer, notification_id=notification.pk)

    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_all_read_counts_only_own_unread(customer):
    factories.NotificationFactory.create_batch(3, user=customer)
    factories.NotificationFactory(user=customer, read_at=timezone.now())
    others = factories.NotificationFactory()

    assert services.notification_mark_all_read(user=customer) == 3
    assert services.notification_mark_all_read(user=customer) == 0
    others.refresh_from_db()
    assert others.read_at is None


# Activity log ----------------------------------------------------------------------------------


def test_activity_log_fills_entity_and_request_meta(admin_user, vendor):
    entry = services.activity_log_record(
        admin=admin_user,
        action="vendor.updated",
        category="vendor",
        entity=vendor,
        details={"name": "New"},
        request_meta={"ip": "2001:db8::1", "user_agent": "x" * 800},
    )

    assert (entry.entity_type, entry.entity_id) == ("vendors.vendor", str(vendor.pk))
    assert entry.ip_address == "2001:db8::1"
    assert entry.user_agent == "x" * 500


def test_activity_log_takes_explicit_entity_and_drops_malformed_ip(admin_user):
    entry = services.activity_log_record(
        admin=admin_user,
        action="settings.changed",
        category="settings",
        entity_type="delivery_fee",
        entity_id=7,
        request_meta={"ip": "not-an-ip"},
    )

    entry.refresh_from_db()
    assert (entry.entity_type, entry.entity_id, entry.ip_address, entry.user_agent) == ("delivery_fee", "7", None, "")


@pytest.mark.parametrize(("fields", "field"), [({"category": "gossip"}, "category"), ({"action": ""}, "action")])
def test_activity_log_refuses_bad_fields(admin_user, nothing_written, fields, field):
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        services.activity_log_record(admin=admin_user, **{"action": "x", "category": "other", **fields})

    assert refusal.value.field == field
