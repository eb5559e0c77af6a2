"""Forms of the dashboard's users, activity log and announcements pages: they check the shape, the services the rules."""

from django import forms

from accounts.models import AdminActivityLog, Announcement
from accounts.selectors import activity_log_admins
from zora.versions import SEEN_VERSION_FIELD

USER_KIND_CHOICES = [
    ("", "Everyone"),
    ("customers", "Customers"),
    ("shop_staff", "Shop staff"),
    ("admins", "Platform admins"),
    ("suspended", "Suspended"),
]


class UserFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=150, label="Name or email")
    kind = forms.ChoiceField(required=False, choices=USER_KIND_CHOICES, label="Show")

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {"text": self.cleaned_data["q"].strip(), "kind": self.cleaned_data["kind"]}


class SeenVersionForm(forms.Form):
    """An action on a user, carrying the version of the user the admin's page showed."""

    seen_version = forms.CharField(widget=forms.HiddenInput)

    def service_arguments(self) -> dict:
        return {SEEN_VERSION_FIELD: self.cleaned_data[SEEN_VERSION_FIELD]}


class UserSuspensionForm(SeenVersionForm):
    suspended = forms.TypedChoiceField(
        choices=[("1", "suspend"), ("0", "reactivate")], coerce=lambda value: value == "1", widget=forms.HiddenInput
    )
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the activity log, so the next admin knows why.",
    )

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {**super().service_arguments(), "suspended": data["suspended"], "reason": data["reason"]}


class UserAdminRightsForm(SeenVersionForm):
    is_admin = forms.TypedChoiceField(
        choices=[("1", "grant"), ("0", "revoke")], coerce=lambda value: value == "1", widget=forms.HiddenInput
    )

    def service_arguments(self) -> dict:
        return {**super().service_arguments(), "is_admin": self.cleaned_data["is_admin"]}


class ActivityFilterForm(forms.Form):
    admin = forms.ModelChoiceField(queryset=None, required=False, empty_label="Any admin")
    category = forms.ChoiceField(required=False, choices=[("", "Any category"), *AdminActivityLog.Category.choices])
    entity_type = forms.CharField(
        required=False, max_length=50, label="Entity type", help_text="e.g. vendors.vendorapplication"
    )
    entity_id = forms.CharField(required=False, max_length=64, label="Entity id")
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["admin"].queryset = activity_log_admins()
        self.fields["admin"].label_from_instance = lambda user: f"{user.get_full_name()} ({user.email})"

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date must be on or after the start date.")
        return data

    def filters(self) -> dict:
        """The selector's filters; only call on a valid form."""
        data = self.cleaned_data
        return {
            "admin": data["admin"],
            "category": data["category"],
            "entity_type": data["entity_type"].strip(),
            "entity_id": data["entity_id"].strip(),
            "date_from": data["date_from"],
            "date_to": data["date_to"],
        }


class AnnouncementForm(forms.Form):
    title = forms.CharField(max_length=Announcement._meta.get_field("title").max_length)
    message = forms.CharField(
        max_length=Announcement._meta.get_field("message").max_length, widget=forms.Textarea(attrs={"rows": 3})
    )
    level = forms.ChoiceField(choices=Announcement.Level.choices, initial=Announcement.Level.INFO)
