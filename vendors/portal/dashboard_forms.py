"""The shapes of the review actions on an application's dashboard page; the rules are the services'.

Every action form carries the version of the application the admin saw
(`seen_version`), so the service can refuse a decision made on a state that
changed meanwhile.
"""

import json

from django import forms

from vendors.models import VendorApplication
from zora.versions import SEEN_VERSION_FIELD, version_of

# Common requests for documents: the select fills the message, which the admin may then edit.
DOCUMENT_REQUESTS = {
    "proof_of_address": (
        "Proof of address",
        "Please upload a proof of address for {business}: a utility bill or bank statement from the last three months.",
    ),
    "food_hygiene": (
        "Food hygiene certificate",
        "Please upload the food hygiene certificate (level 2 or above) of whoever handles food at {business}.",
    ),
    "company_registration": (
        "Company registration",
        "Please upload the certificate of incorporation of {business} from Companies House.",
    ),
    "photo_id": (
        "Photo ID of the owner",
        "Please upload photo ID of the owner of {business}: a passport or a driving licence.",
    ),
    "insurance": (
        "Public liability insurance",
        "Please upload the current public liability insurance certificate of {business}.",
    ),
}

# Why an application is turned down; the admin may add details for the applicant.
REJECTION_REASONS = {
    "outside_area": "The business is outside the area Zora delivers in",
    "not_eligible": "Zora does not sell what the business offers",
    "unverified": "The documents could not be verified",
    "incomplete": "The application stayed incomplete",
    "duplicate": "The business already trades on Zora",
    "other": "Another reason",
}
OTHER_REASON = "other"


class ApplicationActionForm(forms.Form):
    """Start review and Approve: nothing to fill in but the version the page showed."""

    seen_version = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, application: VendorApplication, **kwargs):
        kwargs.setdefault("initial", {})[SEEN_VERSION_FIELD] = version_of(application)
        self.application = application
        super().__init__(*args, **kwargs)

    def arguments(self) -> dict:
        """The service's keyword arguments besides actor and application."""
        return {"seen_version": self.cleaned_data[SEEN_VERSION_FIELD]}


class RequestDocumentsForm(ApplicationActionForm):
    template = forms.ChoiceField(
        label="Common request",
        required=False,
        choices=[("", "Write your own…"), *((key, label) for key, (label, _text) in DOCUMENT_REQUESTS.items())],
    )
    reason = forms.CharField(
        label="Message to the applicant",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The applicant reads this on their application page and in their notification.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # With scripts, choosing a common request writes its message into the textarea to edit.
        self.fields["template"].widget.attrs.update(
            {"data-fills": self["reason"].auto_id, "data-texts": json.dumps(self.template_texts())}
        )

    def template_texts(self) -> dict[str, str]:
        """Each common request's message for this application, for the select to fill the message with."""
        business = self.application.business_name
        return {key: text.format(business=business) for key, (_label, text) in DOCUMENT_REQUESTS.items()}

    def clean(self):
        data = super().clean()
        # Without scripts the select cannot fill the message: an empty message takes the chosen request's.
        if not (data.get("reason") or "").strip() and data.get("template"):
            data["reason"] = self.template_texts()[data["template"]]
        if not (data.get("reason") or "").strip():
            self.add_error("reason", "Tell the applicant which documents to send.")
        return data

    def arguments(self) -> dict:
        return {**super().arguments(), "reason": self.cleaned_data["reason"]}


class RejectForm(ApplicationActionForm):
    reason_code = forms.ChoiceField(label="Reason", choices=[("", "Choose a reason…"), *REJECTION_REASONS.items()])
    details = forms.CharField(
        label="Details for the applicant",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional, unless the reason is another one.",
    )

    def clean(self):
        data = super().clean()
        if data.get("reason_code") == OTHER_REASON and not (data.get("details") or "").strip():
            self.add_error("details", "Say why, when the reason is another one.")
        return data

    def arguments(self) -> dict:
        data = self.cleaned_data
        details = data["details"].strip()
        if data["reason_code"] == OTHER_REASON:
            reason = details
        else:
            reason = REJECTION_REASONS[data["reason_code"]] + (f". {details}" if details else ".")
        return {**super().arguments(), "reason": reason}
