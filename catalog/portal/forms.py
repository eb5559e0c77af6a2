"""The shapes of the catalogue's portal forms; the rules are the services'."""

from django import forms
from django.utils.text import capfirst

from catalog.models import Category, OutOfStockFor
from catalog.selectors import PRODUCT_STATES, REVIEW_SUBJECTS
from catalog.services import MANUAL_STOCK_REASONS, MAX_STOCK, REPLY_MAX_LENGTH, STOCK_NOTE_MAX_LENGTH
from zora.errors import ServiceError
from zora.forms import add_service_error
from zora.uploads import IMAGE_FORMATS_IN_WORDS

IMAGE_ACCEPT = "image/jpeg,image/png,image/webp,image/gif"
PRODUCT_STATE_LABELS = {
    "all": "All products",
    "active": "Active",
    "inactive": "Inactive",
    "low": "Low stock",
    "sold_out": "Sold out",
}
REVIEW_SUBJECT_LABELS = {"all": "All", "shop": "The shop", "products": "Products", "unanswered": "Awaiting a reply"}


class ProductSearchForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or description"}),
    )
    state = forms.ChoiceField(
        label="Show", required=False, choices=[(state, PRODUCT_STATE_LABELS[state]) for state in PRODUCT_STATES]
    )

    def filters(self) -> dict:
        """Whatever was valid of the query; a bad value shows everything rather than an error page."""
        data = self.cleaned_data if self.is_valid() else {}
        return {"search": data.get("q", ""), "state": data.get("state") or "all"}


class ProductForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 4}))
    category = forms.ModelChoiceField(
        queryset=Category.objects.filter(is_active=True), required=False, empty_label="No category"
    )
    price = forms.DecimalField(label="Price (£)", min_value=0, max_digits=10, decimal_places=2)
    low_stock_threshold = forms.IntegerField(
        label="Low-stock threshold",
        min_value=0,
        max_value=MAX_STOCK,
        help_text="An alert is raised at or below this many; 0 turns low-stock alerts off.",
    )


class ProductCreateForm(ProductForm):
    stock = forms.IntegerField(label="Stock now", min_value=0, max_value=MAX_STOCK, initial=0)
    is_active = forms.BooleanField(
        label="On sale straight away", required=False, initial=True, help_text="Untick to prepare it unseen."
    )


class ProductImageForm(forms.Form):
    # A plain file field: whether it is an image is judged by its content, in zora/uploads.py.
    image = forms.FileField(
        label="Add a photo",
        help_text=f"{capfirst(IMAGE_FORMATS_IN_WORDS)}; the first photo is the main one.",
        widget=forms.FileInput(attrs={"accept": IMAGE_ACCEPT}),
    )


class StockAdjustForm(forms.Form):
    mode = forms.ChoiceField(
        label="Change",
        choices=[("change", "Add or take away"), ("set", "Set the count to")],
        initial="change",
        widget=forms.RadioSelect,
    )
    quantity = forms.IntegerField(
        label="Quantity",
        min_value=-MAX_STOCK,
        max_value=MAX_STOCK,
        help_text="To take stock away, use a minus sign: −3.",
    )
    reason = forms.ChoiceField(label="Why", choices=MANUAL_STOCK_REASONS)
    note = forms.CharField(label="Note", required=False, max_length=STOCK_NOTE_MAX_LENGTH)

    def adjustment(self) -> dict:
        data = self.cleaned_data
        amount = {"stock": data["quantity"]} if data["mode"] == "set" else {"delta": data["quantity"]}
        return {**amount, "reason": data["reason"], "note": data["note"]}

    def add_refusal(self, exc: ServiceError) -> None:
        """The service speaks of delta or stock; on this form both are the quantity box."""
        if exc.field in ("delta", "stock"):
            self.add_error("quantity", exc.message)
        else:
            add_service_error(self, exc)


class OutOfStockForm(forms.Form):
    until = forms.ChoiceField(choices=OutOfStockFor.choices)
    next = forms.CharField(required=False)


class ReviewFilterForm(forms.Form):
    about = forms.ChoiceField(
        required=False, choices=[(subject, REVIEW_SUBJECT_LABELS[subject]) for subject in REVIEW_SUBJECTS]
    )

    def subject(self) -> str:
        return (self.cleaned_data.get("about") if self.is_valid() else "") or "all"


class ReviewReplyForm(forms.Form):
    body = forms.CharField(
        label="Public reply",
        max_length=REPLY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Thank them, or say what you will put right"}),
        help_text="Everyone who reads the review sees it.",
    )
