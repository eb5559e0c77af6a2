"""The support inbox's forms: the shape of each action; the rules are the services'."""

from django import forms

from accounts.models import User
from support.models import EmailTemplate, EmailThread
from support.services import MESSAGE_MAX_LENGTH
from zora.versions import SEEN_VERSION_FIELD, version_of


class InboxView:
    MINE = "mine"
    UNASSIGNED = "unassigned"
    ALL = "all"
    choices = [(MINE, "Mine"), (UNASSIGNED, "Unassigned"), (ALL, "All")]


def _any(choices, label):
    return [("", label), *choices]


class InboxFilterForm(forms.Form):
    view = forms.ChoiceField(choices=InboxView.choices, required=False, widget=forms.HiddenInput)
    status = forms.ChoiceField(label="Status", choices=_any(EmailThread.Status.choices, "Any status"), required=False)
    priority = forms.ChoiceField(
        label="Priority", choices=_any(EmailThread.Priority.choices, "Any priority"), required=False
    )

    def selection(self) -> dict:
        """The filters as the selector takes them; anything malformed reads as "no filter"."""
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "view": data.get("view") or InboxView.ALL,
            "status": data.get("status") or None,
            "priority": data.get("priority") or None,
        }


class SeenVersionForm(forms.Form):
    """Every action on a thread says which version of it the admin was looking at."""

    seen_version = forms.CharField(widget=forms.HiddenInput, required=False)

    def seen(self) -> str | None:
        return self.cleaned_data.get(SEEN_VERSION_FIELD) or None


class ThreadSettingsForm(SeenVersionForm):
    status = forms.ChoiceField(label="Status", choices=EmailThread.Status.choices)
    priority = forms.ChoiceField(label="Priority", choices=EmailThread.Priority.choices)
    assignee = forms.ModelChoiceField(
        label="Assigned to",
        queryset=User.objects.filter(is_staff=True, is_active=True).order_by("full_name"),
        required=False,
        empty_label="Nobody",
    )


class ThreadReplyForm(SeenVersionForm):
    body = forms.CharField(
        label="Reply to the customer",
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Sent by email from the support address, and shown in the customer's app.",
    )


class ThreadNoteForm(SeenVersionForm):
    body = forms.CharField(
        label="Internal note",
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Only the support team sees it; never emailed.",
    )


class EmailTemplateForm(SeenVersionForm):
    name = forms.CharField(label="Name", max_length=100)
    subject = forms.CharField(label="Subject", max_length=250)
    body = forms.CharField(
        label="Body",
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Placeholders: {customer_name}, {order_number}, {admin_name}.",
    )
    is_active = forms.BooleanField(label="Offered in replies", required=False, initial=True)

    @classmethod
    def for_template(cls, template: EmailTemplate, **kwargs):
        initial = {name: getattr(template, name) for name in ("name", "subject", "body", "is_active")}
        return cls(initial={**initial, "seen_version": version_of(template)}, **kwargs)
