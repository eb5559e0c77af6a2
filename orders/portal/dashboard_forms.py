"""The shapes of the dashboard's order filters, cancel and refund; the rules are the services'."""

from datetime import timedelta

from django import forms

from accounts.portal.dashboard_forms import SeenVersionForm
from orders.models import Order
from orders.services import REASON_TEXT_MAX_LENGTH, SHOP_REJECT_REASONS
from vendors.models import Vendor
from vendors.schedule import local_midnight


class AdminOrderFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Order.Status.choices])
    shop = forms.ModelChoiceField(queryset=Vendor.objects.order_by("name"), required=False, empty_label="Any shop")
    placed_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    placed_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    customer = forms.CharField(
        label="Customer or number",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, email or order number"}),
    )
    late = forms.BooleanField(label="Only late (waiting past the deadline)", required=False)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("placed_from"), cleaned.get("placed_to")
        if start and end and end < start:
            self.add_error("placed_to", "The end date is before the start date.")
        return cleaned

    def filters(self) -> dict:
        """The selector's arguments; an invalid filter set filters nothing, and shows its errors."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "status": data["status"] or None,
            "vendor_id": data["shop"].pk if data["shop"] else None,
            "placed_since": local_midnight(data["placed_from"]) if data["placed_from"] else None,
            "placed_before": local_midnight(data["placed_to"] + timedelta(days=1)) if data["placed_to"] else None,
            "customer": data["customer"],
            "late": data["late"],
        }


class OrderCancelForm(SeenVersionForm):
    reason_code = forms.ChoiceField(label="Reason", choices=[("", "Choose a reason…"), *SHOP_REJECT_REASONS])
    reason_text = forms.CharField(
        label="Words for the customer",
        required=False,
        max_length=REASON_TEXT_MAX_LENGTH,
        widget=forms.TextInput(attrs={"placeholder": "Optional, unless the reason is another one"}),
    )

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {**super().service_arguments(), "reason_code": data["reason_code"], "reason_text": data["reason_text"]}


class OrderRefundForm(SeenVersionForm):
    reason = forms.CharField(
        label="Reason",
        max_length=REASON_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The customer is told it; it stays in the order's history and the activity log.",
    )
    restock = forms.BooleanField(
        label="Put the items back in stock", required=False, help_text="Only if the shop can sell them again."
    )

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {**super().service_arguments(), "reason": data["reason"], "restock": data["restock"]}
