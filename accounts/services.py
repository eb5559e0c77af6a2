"""Writes for users, profiles, API tokens, the notification inbox, the admin activity log and announcements."""

from decimal import Decimal, InvalidOperation

from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email, validate_ipv46_address
from django.db import transaction
from django.utils import timezone
from django.utils.http import urlsafe_base64_decode

from realtime.services import broadcast_send
from realtime.socket.channels import ANNOUNCEMENTS
from zora.errors import Conflict, InvalidInput, NotFound, RuleViolation
from zora.versions import ensure_unchanged

from .models import AdminActivityLog, Announcement, ApiToken, Notification, Profile, User, role_of
from .selectors import user_version

COORDINATE_PLACES = Decimal("0.000001")
USER_AGENT_MAX_LENGTH = AdminActivityLog._meta.get_field("user_agent").max_length
# The same mail as the portal's "forgot your password" page sends.
PASSWORD_RESET_EMAIL = "portal/email/password_reset.txt"
PASSWORD_RESET_SUBJECT = "portal/email/password_reset_subject.txt"
PROFILE_FIELDS = ("full_name", "phone", "avatar_url", "default_address", "default_lat", "default_lng")


# Checks shared by every app's services -------------------------------------------------------


def require_platform_admin(actor) -> None:
    """Admin-only actions answer 404 to everyone else, so they do not even learn the action exists."""
    if actor is None or not actor.is_authenticated or not actor.is_staff:
        raise NotFound("Not found.", code="not_found")


def validate_choice(value, choices, *, field: str) -> str:
    allowed = [choice for choice, _label in choices]
    if value not in allowed:
        raise InvalidInput(f"{field} must be one of: {', '.join(allowed)}.", code="invalid_choice", field=field)
    return value


def validate_optional_text(value, *, field: str, max_length: int | None = None) -> str:
    text = (value or "").strip()
    if max_length is not None and len(text) > max_length:
        raise InvalidInput(f"{field} must be at most {max_length} characters.", code="too_long", field=field)
    return text


def validate_required_text(value, *, field: str, max_length: int | None = None) -> str:
    text = validate_optional_text(value, field=field, max_length=max_length)
    if not text:
        raise InvalidInput(f"{field} is required.", code="required", field=field)
    return text


def validate_email_address(value, *, field: str) -> str:
    address = (value or "").strip().lower()
    try:
        validate_email(address)
    except ValidationError:
        raise InvalidInput(f"{field} must be a valid email address.", code="invalid_email", field=field) from None
    return address


def validate_coordinate(value, *, field: str, limit: int) -> Decimal | None:
    """A latitude (limit 90) or longitude (limit 180), or None when not given."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value)).quantize(COORDINATE_PLACES)
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"{field} must be a number.", code="invalid_number", field=field) from None
    if not -limit <= number <= limit:
        raise InvalidInput(f"{field} must be between -{limit} and {limit}.", code="out_of_range", field=field)
    return number


# Users and profiles ---------------------------------------------------------------------------


@transaction.atomic
def _validated_new_password(password: str, *, user: User, field: str) -> str:
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as error:
        raise InvalidInput(" ".join(error.messages), code="weak_password", field=field) from None
    return password


def user_register(*, email: str, password: str, full_name: str, phone: str = "") -> User:
    address = validate_email_address(email, field="email")
    full_name = validate_required_text(full_name, field="full_name", max_length=150)
    phone = validate_optional_text(phone, field="phone", max_length=32)
    if User.objects.filter(email__iexact=address).exists():
        raise Conflict("An account with this email already exists.", code="email_taken", field="email")
    _validated_new_password(password, user=User(email=address, full_name=full_name, phone=phone), field="password")
    user = User.objects.create_user(email=address, password=password, full_name=full_name, phone=phone)
    Profile.objects.create(user=user)
    return user


def user_authenticate(*, email: str, password: str) -> User:
    """The same refusal for an unknown email and a wrong password, so nobody can probe which accounts exist.
    Suspension is only revealed to someone who knows the password."""
    user = User.objects.filter(email__iexact=(email or "").strip()).first()
    if user is None:
        # Hash anyway so an unknown email takes as long as a wrong password.
        User().set_password(password)
        raise InvalidInput("Email or password is incorrect.", code="invalid_credentials")
    if not user.check_password(password):
        raise InvalidInput("Email or password is incorrect.", code="invalid_credentials")
    if user.is_suspended or not user.is_active:
        raise RuleViolation("This account is suspended.", code="account_suspended")
    return user


@transaction.atomic
def profile_update(*, user: User, seen_version=None, **fields) -> Profile:
    """`seen_version` refuses the change if the profile changed since that version (another device)."""
    unknown = sorted(set(fields) - set(PROFILE_FIELDS))
    if unknown:
        raise InvalidInput(f"{unknown[0]} cannot be changed here.", code="unknown_field", field=unknown[0])
    profile, _created = Profile.objects.select_for_update().get_or_create(user=user)
    ensure_unchanged(entity=profile, seen_version=seen_version)
    user_changes = []
    if "full_name" in fields:
        user.full_name = validate_required_text(fields["full_name"], field="full_name", max_length=150)
        user_changes.append("full_name")
    if "phone" in fields:
        user.phone = validate_optional_text(fields["phone"], field="phone", max_length=32)
        user_changes.append("phone")
    if "avatar_url" in fields:
        avatar_url = (fields["avatar_url"] or "").strip()
        if avatar_url:
            try:
                URLValidator(schemes=["https", "http"])(avatar_url)
            except ValidationError:
                raise InvalidInput(
                    "avatar_url must be a web address.", code="invalid_url", field="avatar_url"
                ) from None
        profile.avatar_url = avatar_url
    if "default_address" in fields:
        profile.default_address = (fields["default_address"] or "").strip()
    if "default_lat" in fields:
        profile.default_lat = validate_coordinate(fields["default_lat"], field="default_lat", limit=90)
    if "default_lng" in fields:
        profile.default_lng = validate_coordinate(fields["default_lng"], field="default_lng", limit=180)
    if user_changes:
        user.save(update_fields=user_changes)
    profile.save()
    return profile


@transaction.atomic
def user_set_suspended(
    *, actor: User, user: User, suspended: bool, reason: str = "", seen_version=None, request_meta=None
) -> User:
    """Suspending also revokes every API token, so open app sessions stop working at once."""
    require_platform_admin(actor)
    if user.pk == actor.pk:
        raise RuleViolation("Admins cannot suspend themselves.", code="self_suspension", field="user")
    user = User.objects.select_for_update().get(pk=user.pk)
    ensure_unchanged(entity=user, seen_version=seen_version, current_version=user_version(user))
    if user.is_suspended != suspended:
        user.is_suspended = suspended
        user.save(update_fields=["is_suspended"])
        if suspended:
            for token in user.api_tokens.filter(revoked_at__isnull=True):
                api_token_revoke(token=token)
    activity_log_record(
        admin=actor,
        action="user.suspended" if suspended else "user.reinstated",
        category=AdminActivityLog.Category.USER,
        entity=user,
        details={"reason": reason},
        request_meta=request_meta,
    )
    return user


@transaction.atomic
def user_set_platform_admin(*, actor: User, user: User, is_admin: bool, seen_version=None, request_meta=None) -> User:
    """Grants or takes away platform-admin rights (`is_staff`). An admin cannot change their own,
    so the platform is never left without the admin who could undo it. The user's open sockets
    follow at once: the change is captured as an access event (realtime/capture.py)."""
    require_platform_admin(actor)
    if user.pk == actor.pk:
        raise RuleViolation("Admins cannot change their own admin rights.", code="self_admin_change", field="user")
    user = User.objects.select_for_update().get(pk=user.pk)
    ensure_unchanged(entity=user, seen_version=seen_version, current_version=user_version(user))
    if user.is_staff != is_admin:
        user.is_staff = is_admin
        user.save(update_fields=["is_staff"])
    activity_log_record(
        admin=actor,
        action="user.admin_granted" if is_admin else "user.admin_revoked",
        category=AdminActivityLog.Category.USER,
        entity=user,
        request_meta=request_meta,
    )
    return user


# API tokens -----------------------------------------------------------------------------------


@transaction.atomic
def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    name = validate_optional_text(name, field="name", max_length=100)
    key = ApiToken.generate_key()
    token = ApiToken.objects.create(user=user, name=name, key_hash=ApiToken.hash_key(key), prefix=key[:8])
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def _revoke_devices(user: User, *, keep: ApiToken | None = None) -> int:
    """Every signed-in device of `user` but `keep`: each revocation closes that device's sockets."""
    revoked = 0
    for token in ApiToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True).order_by("id"):
        if keep is None or token.pk != keep.pk:
            api_token_revoke(token=token)
            revoked += 1
    return revoked


@transaction.atomic
def user_change_password(*, user: User, current_password: str, new_password: str, keep: ApiToken | None = None) -> int:
    """A new password, given the current one; every other signed-in device is signed out (a stolen
    phone's token must not outlive the password it was made with). Returns how many were."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.check_password(current_password or ""):
        raise InvalidInput("This is not your current password.", code="wrong_password", field="current_password")
    if current_password == new_password:
        raise InvalidInput("Choose a password different from the current one.", code="unchanged", field="new_password")
    user.set_password(_validated_new_password(new_password, user=user, field="new_password"))
    user.save(update_fields=["password"])
    return _revoke_devices(user, keep=keep)


def password_reset_request(*, email: str, domain: str, use_https: bool) -> None:
    """Mails a reset link to the account with this address, if there is one and it may sign in; the
    caller's answer never says which (no account discovery). The link opens the portal's reset page;
    the app may instead read uid and token from it and call the confirm endpoint."""
    address = validate_email_address(email, field="email")
    form = PasswordResetForm(data={"email": address})
    if not form.is_valid():
        return
    transaction.on_commit(
        lambda: form.save(
            domain_override=domain,
            use_https=use_https,
            email_template_name=PASSWORD_RESET_EMAIL,
            subject_template_name=PASSWORD_RESET_SUBJECT,
        )
    )


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """The reset link's uid and token with the new password; every signed-in device is signed out."""
    refused = InvalidInput(
        "This reset link is invalid or has expired: ask for a new one.", code="invalid_token", field="token"
    )
    try:
        user_id = urlsafe_base64_decode(uid or "").decode()
        user = User.objects.select_for_update().get(pk=int(user_id))
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError, User.DoesNotExist):
        raise refused from None
    if not default_token_generator.check_token(user, token or ""):
        raise refused
    user.set_password(_validated_new_password(new_password, user=user, field="new_password"))
    user.save(update_fields=["password"])
    _revoke_devices(user)
    return user


@transaction.atomic
def api_token_revoke_device(*, user: User, token_id) -> ApiToken:
    """One of the user's own devices, signed out from another; someone else's token is not found."""
    token = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).first()
    if token is None:
        raise NotFound("No such signed-in device.", field="id")
    return api_token_revoke(token=token)


# Notifications --------------------------------------------------------------------------------


@transaction.atomic
def notification_create(
    *, user: User, type: str, title: str, body: str = "", action_url: str = "", data=None
) -> Notification:
    validate_choice(type, Notification.Type.choices, field="type")
    title = validate_required_text(title, field="title", max_length=200)
    action_url = validate_optional_text(action_url, field="action_url", max_length=500)
    return Notification.objects.create(
        user=user, type=type, title=title, body=body, action_url=action_url, data=data or {}
    )


@transaction.atomic
def notification_create_for_vendor_staff(
    *, vendor, type: str, title: str, body: str = "", action_url: str = "", data=None
) -> list[Notification]:
    members = vendor.staff.select_related("user").order_by("id")
    return [
        notification_create(user=member.user, type=type, title=title, body=body, action_url=action_url, data=data)
        for member in members
    ]


@transaction.atomic
def notification_mark_read(*, user: User, notification_id) -> Notification:
    notification = Notification.objects.select_for_update().filter(pk=notification_id, user=user).first()
    if notification is None:
        raise NotFound("Notification not found.", field="notification_id")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def notification_mark_all_read(*, user: User) -> int:
    now = timezone.now()
    unread = list(Notification.objects.select_for_update().filter(user=user, read_at__isnull=True))
    for notification in unread:
        notification.read_at = now
        notification.save(update_fields=["read_at"])
    return len(unread)


# Admin activity log ---------------------------------------------------------------------------


def _client_ip(request_meta) -> str | None:
    """A malformed address from a proxy header must not block the admin's action, so it is dropped."""
    ip = (request_meta or {}).get("ip") or None
    if ip is None:
        return None
    try:
        validate_ipv46_address(ip)
    except ValidationError:
        return None
    return ip


@transaction.atomic
def activity_log_record(
    *,
    admin: User,
    action: str,
    category: str,
    entity=None,
    entity_type: str = "",
    entity_id="",
    details=None,
    request_meta=None,
) -> AdminActivityLog:
    action = validate_required_text(action, field="action", max_length=100)
    validate_choice(category, AdminActivityLog.Category.choices, field="category")
    if entity is not None:
        entity_type = entity._meta.label_lower
        entity_id = entity.pk
    return AdminActivityLog.objects.create(
        admin=admin,
        admin_name=admin.get_full_name(),
        admin_role=role_of(admin),
        action=action,
        category=category,
        entity_type=entity_type,
        entity_id="" if entity_id in (None, "") else str(entity_id),
        details=details or {},
        ip_address=_client_ip(request_meta),
        user_agent=((request_meta or {}).get("user_agent") or "")[:USER_AGENT_MAX_LENGTH],
    )


# Announcements --------------------------------------------------------------------------------

ANNOUNCEMENT_EVENT = "announcement"


@transaction.atomic
def announcement_send(*, actor: User, title: str, message: str, level: str, request_meta=None) -> Announcement:
    """Every connected portal page shows it as a banner. It is broadcast only once the row is
    committed, so a page never shows an announcement the list does not have."""
    require_platform_admin(actor)
    title = validate_required_text(title, field="title", max_length=Announcement._meta.get_field("title").max_length)
    message = validate_required_text(
        message, field="message", max_length=Announcement._meta.get_field("message").max_length
    )
    validate_choice(level, Announcement.Level.choices, field="level")
    announcement = Announcement.objects.create(author=actor, title=title, message=message, level=level)
    activity_log_record(
        admin=actor,
        action="announcement.sent",
        category=AdminActivityLog.Category.OTHER,
        entity=announcement,
        details={"title": title, "level": level},
        request_meta=request_meta,
    )
    payload = {"title": title, "message": message, "level": level}
    # robust: the row is committed by then; a channel layer hiccup must not turn the admin's page into an error.
    transaction.on_commit(
        lambda: broadcast_send(topic=ANNOUNCEMENTS, event=ANNOUNCEMENT_EVENT, payload=payload), robust=True
    )
    return announcement
