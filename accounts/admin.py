from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm

from accounts import services
from accounts.admin_base import (
    PublishedModelAdmin,
    ReadOnlyAdmin,
    ReasonActionForm,
    ServiceCreatedAdmin,
    action_reason,
    adopt_created,
    request_meta,
    service_action,
)
from accounts.models import AdminActivityLog, ApiToken, Notification, Profile, User


class UserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["full_name"].required = True

    def clean_email(self):
        # Stored addresses are lower-case, so the model's unique check then catches every duplicate.
        return self.cleaned_data["email"].strip().lower()


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


def suspension_action(suspended: bool, description: str, done: str):
    return service_action(
        "suspend_users" if suspended else "reinstate_users",
        description,
        lambda request, user: services.user_set_suspended(
            actor=request.user,
            user=user,
            suspended=suspended,
            reason=action_reason(request),
            request_meta=request_meta(request),
        ),
        done,
    )


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    fields = ("default_address", "default_lat", "default_lng", "avatar_url")


@admin.register(User)
class UserAdmin(PublishedModelAdmin, DjangoUserAdmin):
    """Email login, no username. Suspension goes through the service so it is logged."""

    form = UserEditForm
    add_form = UserCreationForm
    inlines = [ProfileInline]
    list_display = ("email", "full_name", "phone", "is_staff", "is_suspended", "is_active", "date_joined", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_suspended", "is_active")
    search_fields = ("email", "full_name", "phone")
    ordering = ("-date_joined", "-id")
    date_hierarchy = "date_joined"
    readonly_fields = ("is_suspended", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal", {"fields": ("full_name", "phone")}),
        ("Status", {"fields": ("is_active", "is_suspended")}),
        ("Permissions", {"fields": ("is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),)
    action_form = ReasonActionForm
    actions = [
        suspension_action(True, "Suspend selected users (give a reason)", "Suspended"),
        suspension_action(False, "Reinstate selected users", "Reinstated"),
    ]

    def get_inlines(self, request, obj):
        # A new user's profile is created with the user; it is edited afterwards.
        return self.inlines if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        registered = services.user_register(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            full_name=form.cleaned_data["full_name"],
        )
        adopt_created(obj, registered)


@admin.register(Profile)
class ProfileAdmin(ServiceCreatedAdmin):
    list_display = ("user", "default_address", "default_lat", "default_lng", "updated_at")
    search_fields = ("user__email", "user__full_name", "default_address")
    autocomplete_fields = ("user",)
    list_select_related = ("user",)


@admin.register(ApiToken)
class ApiTokenAdmin(ServiceCreatedAdmin):
    """Tokens are issued to devices by the API (the key is shown once); here they are only revoked."""

    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("prefix", "name", "user__email")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = [
        service_action(
            "revoke_tokens",
            "Revoke selected tokens",
            lambda request, token: services.api_token_revoke(token=token),
            "Revoked",
        )
    ]


@admin.register(Notification)
class NotificationAdmin(PublishedModelAdmin):
    list_display = ("title", "user", "type", "created_at", "read_at")
    list_filter = ("type", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("title", "body", "user__email")
    date_hierarchy = "created_at"
    autocomplete_fields = ("user",)
    list_select_related = ("user",)
    readonly_fields = ("read_at", "created_at")


@admin.register(AdminActivityLog)
class AdminActivityLogAdmin(ReadOnlyAdmin):
    """The audit trail: nobody adds, edits or deletes entries, superusers included."""

    list_display = ("created_at", "admin", "action", "category", "entity_type", "entity_id", "ip_address")
    list_filter = ("category", "action")
    search_fields = ("action", "entity_type", "entity_id", "admin__email", "ip_address")
    date_hierarchy = "created_at"
    list_select_related = ("admin",)
