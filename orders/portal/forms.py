"""The shapes of the order desk's filters, status buttons and notes; the rules are the services'."""

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone

from orders.models import Order
from orders.services import NOTE_MAX_LENGTH, REASON_TEXT_MAX_LENGTH, SHOP_REJECT_REASONS

Status = Order.Status

# The tabs over the list: a key, its label and the statuses it shows ("" shows every order).
STATUS_TABS = (
    ("pending", "New", (Status.PENDING,)),
    ("active", "In progress", (Status.CONFIRMED, Status.PREPARING, Status.READY, Status.OUT_FOR_DELIVERY)),
    ("delivered", "Delivered", (Status.DELIVERED,)),
    ("cancelled", "Cancelled", (Status.CANCELLED, Status.REFUNDED)),
    ("", "All", None),
)
PERIOD_DAYS = {"today": 1, "week": 7}
PREP_MINUTES = (10, 15, 20, 30, 45, 60)
DEFAULT_PREP_MINUTES = 20


def _local_midnight(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class OrderFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(key, label) for key, label, _statuses in STATUS_TABS], required=False, widget=forms.HiddenInput
    )
    period = forms.ChoiceField(
        label="Placed",
        choices=[("", "Any time"), ("today", "Today"), ("week", "Last 7 days")],
        required=False,
    )
    placed_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    placed_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Order number, customer name or email"}),
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("placed_from"), cleaned.get("placed_to")
        if start and end and end < start:
            self.add_error("placed_to", "The end date is before the start date.")
        return cleaned

    def window(self) -> dict:
        """The selector's date and search arguments; a field that is not valid filters nothing."""
        self.is_valid()
        cleaned = self.cleaned_data
        starts = []
        if days := PERIOD_DAYS.get(cleaned.get("period", "")):
            starts.append(_local_midnight(timezone.localdate() - timedelta(days=days - 1)))
        if cleaned.get("placed_from"):
            starts.append(_local_midnight(cleaned["placed_from"]))
        end = cleaned.get("placed_to")
        return {
            "placed_since": max(starts, default=None),
            "placed_before": _local_midnight(end + timedelta(days=1)) if end else None,
            "search": cleaned.get("q", ""),
        }

    def tab(self) -> str:
        self.is_valid()
        return self.cleaned_data.get("status", "")


class OrderMoveForm(forms.Form):
    """One status button: where to move the order, from the status the page showed."""

    to_status = forms.ChoiceField(choices=Status.choices, widget=forms.HiddenInput)
    expected_status = forms.ChoiceField(choices=Status.choices, widget=forms.HiddenInput)
    prep_minutes = forms.TypedChoiceField(
        label="Ready in",
        choices=[(minutes, f"{minutes} min") for minutes in PREP_MINUTES],
        coerce=int,
        required=False,
        initial=DEFAULT_PREP_MINUTES,
    )
    reason_code = forms.ChoiceField(
        label="Reason", choices=[("", "Choose a reason…"), *SHOP_REJECT_REASONS], required=False
    )
    reason_text = forms.CharField(
        label="Words for the customer",
        required=False,
        max_length=REASON_TEXT_MAX_LENGTH,
        widget=forms.TextInput(attrs={"placeholder": "Optional, unless the reason is another one"}),
    )

    def clean(self):
        cleaned = super().clean()
        to_status = cleaned.get("to_status")
        if to_status == Status.CONFIRMED and not cleaned.get("prep_minutes"):
            self.add_error("prep_minutes", "Choose how long the order will take to prepare.")
        if to_status == Status.CANCELLED and not cleaned.get("reason_code"):
            self.add_error("reason_code", "Choose a reason: the customer is told it.")
        return cleaned


class OrderNoteForm(forms.Form):
    body = forms.CharField(
        label="Note",
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Write a note…"}),
    )
    visibility = forms.ChoiceField(
        label="Who sees it",
        choices=[("internal", "Staff only"), ("customer", "Also the customer")],
        initial="internal",
        widget=forms.RadioSelect,
    )

    def is_internal(self) -> bool:
        return self.cleaned_data["visibility"] == "internal"
