from django import forms

from support.services import MESSAGE_MAX_LENGTH
from zora.uploads import IMAGE_FORMATS_IN_WORDS


class ReplyForm(forms.Form):
    """The shape of a reply; whether it says enough (text, a photo or both) is the service's rule."""

    body = forms.CharField(
        label="Reply",
        required=False,
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Write a reply…"}),
    )
    attachments = forms.FileField(
        label="Photo",
        required=False,
        help_text=f"Optional: {IMAGE_FORMATS_IN_WORDS}.",
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
    )

    def attachment_list(self) -> list:
        image = self.cleaned_data.get("attachments")
        return [image] if image else []


class ConversationSearchForm(forms.Form):
    q = forms.CharField(
        label="Search conversations",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Customer, order number or words"}),
    )

    def query(self) -> str:
        return self.cleaned_data.get("q", "") if self.is_valid() else ""
