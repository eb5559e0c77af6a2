import hashlib
import secrets

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """Logs in with an email address; `is_staff` marks a platform admin."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    is_suspended = models.BooleanField(default=False, help_text="Suspended users cannot sign in or use the API.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.email

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return (self.full_name or self.email).split(" ")[0]


class Profile(models.Model):
    """The customer-facing part of a user: default delivery address and avatar."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    avatar_url = models.URLField(blank=True)
    default_address = models.TextField(blank=True)
    default_lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    default_lng = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(default_lat__isnull=True) | models.Q(default_lat__gte=-90, default_lat__lte=90),
                name="profile_lat_range",
            ),
            models.CheckConstraint(
                condition=models.Q(default_lng__isnull=True) | models.Q(default_lng__gte=-180, default_lng__lte=180),
                name="profile_lng_range",
            ),
        ]

    def __str__(self):
        return f"Profile of {self.user}"


class ApiToken(models.Model):
    """A device's bearer token. Only its SHA-256 is stored; the plain key is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True, help_text="The device, e.g. 'iPhone'.")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="First characters of the key, to tell tokens apart.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self):
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def generate_key() -> str:
        return secrets.token_urlsafe(32)

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotentRequest(models.Model):
    """An API write a user sent with an `Idempotency-Key`, and the answer it got, kept for
    IDEMPOTENCY_KEY_TTL_HOURS so a replay of it gets that answer again (zora/idempotency.py)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.TextField(help_text="With the query string.")
    body_digest = models.CharField(max_length=64, help_text="SHA-256 of the request body as parsed.")
    status_code = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=255, blank=True)
    body = models.BinaryField(help_text="The response body exactly as it was sent.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotent_request_unique_user_key")]

    def __str__(self):
        return f"{self.method} {self.path} ({self.key})"


class Notification(models.Model):
    class Type(models.TextChoices):
        ORDER = "order"
        APPLICATION = "application"
        SUPPORT = "support"
        STOCK = "stock"
        SYSTEM = "system"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    type = models.CharField(max_length=20, choices=Type.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    action_url = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["user"], condition=models.Q(read_at__isnull=True), name="notification_unread_idx"),
        ]

    def __str__(self):
        return f"{self.type}: {self.title}"


class AdminActivityLog(models.Model):
    """What a platform admin did. Immutable: the model refuses updates and deletes,
    and on PostgreSQL a trigger rejects them in the database too."""

    class Category(models.TextChoices):
        ORDER = "order"
        VENDOR = "vendor"
        CUSTOMER = "customer"
        PRODUCT = "product"
        REVIEW = "review"
        REFUND = "refund"
        SETTINGS = "settings"
        USER = "user"
        OTHER = "other"

    class Role(models.TextChoices):
        SUPERUSER = "superuser"
        ADMIN = "admin"
        USER = "user"

    admin = models.ForeignKey(User, on_delete=models.PROTECT, related_name="admin_activity")
    # Who the admin was when they acted: names change and rights are revoked, the trail must not.
    # Entries written before these columns existed keep them blank (the table refuses updates).
    admin_name = models.CharField(max_length=150, blank=True, default="")
    admin_role = models.CharField(max_length=20, choices=Role.choices, blank=True, default="")
    action = models.CharField(max_length=100)
    category = models.CharField(max_length=20, choices=Category.choices)
    entity_type = models.CharField(max_length=50, blank=True)
    entity_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at"]),
            models.Index(fields=["category", "-created_at"]),
            models.Index(fields=["entity_type", "entity_id"]),
        ]

    def __str__(self):
        return f"{self.admin} {self.action} {self.entity_type}#{self.entity_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValidationError("The admin activity log is immutable: entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("The admin activity log is immutable: entries cannot be deleted.")

    @property
    def admin_name_shown(self) -> str:
        """The name at the time; for entries older than the snapshot, the admin's name today."""
        return self.admin_name or self.admin.get_full_name()

    @property
    def admin_role_shown(self) -> str:
        if self.admin_role:
            return self.admin_role
        return f"{role_of(self.admin)} (today)"


def role_of(user: User) -> str:
    if user.is_superuser:
        return AdminActivityLog.Role.SUPERUSER
    if user.is_staff:
        return AdminActivityLog.Role.ADMIN
    return AdminActivityLog.Role.USER


class Announcement(models.Model):
    """A message the platform team sent to every connected portal page, shown there as a banner."""

    class Level(models.TextChoices):
        INFO = "info"
        WARNING = "warning"
        CRITICAL = "critical"

    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="announcements")
    title = models.CharField(max_length=120)
    message = models.TextField(max_length=1000)
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.INFO)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at", "-id"]

    def __str__(self):
        return self.title
