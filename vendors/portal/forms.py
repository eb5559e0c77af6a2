"""The shapes of the shop's portal forms; the rules are the services'."""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.utils import timezone

from vendors.models import OpeningHours, Vendor
from vendors.schedule import WEEKDAY_NAMES, end_of_local_day
from vendors.services import DOCUMENT_CONTENT_TYPES, PAUSE_REASON_MAX_LENGTH
from zora.errors import ServiceError
from zora.forms import add_service_error

BUSY_CHOICES = [(15, "+15 min"), (30, "+30 min"), (45, "+45 min")]
REST_OF_THE_DAY = "day"
PAUSE_CHOICES = [("15", "15 min"), ("30", "30 min"), ("60", "1 hour"), (REST_OF_THE_DAY, "Rest of today")]
TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
SLOTS_SHOWN = 3
DOCUMENT_MEGABYTES = settings.UPLOAD_MAX_DOCUMENT_BYTES // (1024 * 1024)


class ShopStatusForm(forms.Form):
    """One of the status buttons: Open, Busy +N, or Pause for a while (with an optional reason)."""

    opening_status = forms.ChoiceField(choices=Vendor.OpeningStatus.choices)
    busy_extra_minutes = forms.TypedChoiceField(choices=BUSY_CHOICES, coerce=int, required=False, empty_value=None)
    pause_for = forms.ChoiceField(choices=PAUSE_CHOICES, required=False)
    pause_reason = forms.CharField(
        label="Reason (optional, only your team sees it)",
        max_length=PAUSE_REASON_MAX_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Oven repair"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("opening_status") == Vendor.OpeningStatus.CLOSED and not data.get("pause_for"):
            self.add_error("pause_for", "Choose how long to pause.")
        return data

    def status(self) -> dict:
        """The service's arguments for the button pressed."""
        data = self.cleaned_data
        status = {"opening_status": data["opening_status"]}
        if data["opening_status"] == Vendor.OpeningStatus.BUSY:
            status["busy_extra_minutes"] = data["busy_extra_minutes"]
        elif data["opening_status"] == Vendor.OpeningStatus.CLOSED:
            now = timezone.now()
            pause_for = data["pause_for"]
            until = end_of_local_day(now) if pause_for == REST_OF_THE_DAY else now + timedelta(minutes=int(pause_for))
            status.update(paused_until=until, pause_reason=data["pause_reason"])
        return status


class HoursModeForm(forms.Form):
    mode = forms.ChoiceField(
        label="Opening hours",
        choices=[
            ("always", "No fixed hours: open whenever the status above is Open or Busy"),
            ("weekly", "Weekly hours"),
        ],
        widget=forms.RadioSelect,
    )


class OpeningDayForm(forms.Form):
    """One weekday: up to `slots` openings, or closed all day. A closing time before the opening
    time means the next day (open 18:00, close 02:00)."""

    closed = forms.BooleanField(label="Closed", required=False)

    def __init__(self, *args, weekday: int, slots: int = SLOTS_SHOWN, **kwargs):
        super().__init__(*args, **kwargs)
        self.weekday = weekday
        self.day_name = WEEKDAY_NAMES[weekday]
        self.slots = range(1, slots + 1)
        for slot in self.slots:
            self.fields[f"opens_{slot}"] = forms.TimeField(
                label=f"{self.day_name} opening {slot} from", required=False, widget=TIME_WIDGET
            )
            self.fields[f"closes_{slot}"] = forms.TimeField(
                label=f"{self.day_name} opening {slot} until", required=False, widget=TIME_WIDGET
            )

    def slot_fields(self):
        return [(self[f"opens_{slot}"], self[f"closes_{slot}"]) for slot in self.slots]

    def clean(self):
        data = super().clean()
        if data.get("closed"):
            return data
        filled = 0
        for slot in self.slots:
            opens_at, closes_at = data.get(f"opens_{slot}"), data.get(f"closes_{slot}")
            if (opens_at is None) != (closes_at is None):
                missing = f"closes_{slot}" if closes_at is None else f"opens_{slot}"
                self.add_error(missing, "Give both times of this opening, or neither.")
            filled += opens_at is not None and closes_at is not None
        if not filled and not self.errors:
            raise forms.ValidationError(f"Give {self.day_name}'s hours, or tick Closed.")
        return data

    def openings(self) -> list[tuple[str, dict]]:
        """(slot, opening for the service) for each filled slot; none when closed."""
        if self.cleaned_data.get("closed"):
            return []
        found = []
        for slot in self.slots:
            opens_at, closes_at = self.cleaned_data.get(f"opens_{slot}"), self.cleaned_data.get(f"closes_{slot}")
            if opens_at is not None and closes_at is not None:
                found.append((slot, {"weekday": self.weekday, "opens_at": opens_at, "closes_at": closes_at}))
        return found


class BaseWeekFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "weekday": index}


# Exactly one form per weekday, whatever a tampered management form says.
WeekFormSet = forms.formset_factory(
    OpeningDayForm,
    formset=BaseWeekFormSet,
    extra=0,
    min_num=7,
    max_num=7,
    absolute_max=7,
    validate_min=True,
    validate_max=True,
)


class WeeklyHours:
    """The hours editor: the mode, and a form per weekday. Refusals of the service land on the
    day and time they are about."""

    def __init__(self, data=None, *, hours: list[OpeningHours]):
        by_day: dict[int, list[OpeningHours]] = {weekday: [] for weekday in range(7)}
        for row in hours:
            by_day[row.weekday].append(row)
        slots = max(SLOTS_SHOWN, *(len(rows) for rows in by_day.values()))
        initial = []
        for weekday in range(7):
            day = {"closed": bool(hours) and not by_day[weekday]}
            for slot, row in enumerate(by_day[weekday], start=1):
                day.update({f"opens_{slot}": row.opens_at, f"closes_{slot}": row.closes_at})
            initial.append(day)
        self.mode = HoursModeForm(data, initial={"mode": "weekly" if hours else "always"})
        self.days = WeekFormSet(data, initial=initial, prefix="day", form_kwargs={"slots": slots})
        self._placed: list[tuple[OpeningDayForm, str]] = []

    def is_valid(self) -> bool:
        if not self.mode.is_valid():
            return False
        if self.mode.cleaned_data["mode"] == "always":
            return True
        return self.days.is_valid() and self._has_an_opening()

    def _has_an_opening(self) -> bool:
        if any(day.openings() for day in self.days):
            return True
        self.mode.add_error("mode", "Every day is closed: to stop taking orders, pause the shop or add a holiday.")
        return False

    def openings(self) -> list[dict]:
        """The week for the service, in an order its refusals' `index` can be traced back by."""
        if self.mode.cleaned_data["mode"] == "always":
            return []
        self._placed, week = [], []
        for day in self.days:
            for slot, opening in day.openings():
                self._placed.append((day, slot))
                week.append(opening)
        return week

    def add_service_error(self, exc: ServiceError) -> None:
        index = exc.details.get("index")
        if index is None or index >= len(self._placed):
            add_service_error(self.mode, exc)
            return
        day, slot = self._placed[index]
        field = {"opens_at": f"opens_{slot}", "closes_at": f"closes_{slot}"}.get(exc.field)
        day.add_error(field, exc.message)


class HolidayForm(forms.Form):
    starts_on = forms.DateField(label="First day closed", widget=DATE_WIDGET)
    ends_on = forms.DateField(label="Last day closed", widget=DATE_WIDGET)
    reason = forms.CharField(label="Note (optional, only your team sees it)", max_length=200, required=False)


class ShopProfileForm(forms.Form):
    name = forms.CharField(label="Shop name", max_length=150)
    description = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4}), help_text="Shown in the app."
    )
    address = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    lat = forms.DecimalField(label="Latitude", required=False, max_digits=9, decimal_places=6)
    lng = forms.DecimalField(label="Longitude", required=False, max_digits=9, decimal_places=6)
    delivery_radius_km = forms.DecimalField(
        label="Delivery radius (km)", max_digits=6, decimal_places=2, help_text="How far you deliver from the shop."
    )
    logo = forms.FileField(
        label="New logo",
        required=False,
        help_text="A JPEG, PNG, WebP or GIF image; square ones look best.",
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
    )
    remove_logo = forms.BooleanField(label="Remove the current logo", required=False)

    def __init__(self, *args, editable: bool, has_logo: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not has_logo:
            del self.fields["remove_logo"]
        if not editable:
            for field in self.fields.values():
                field.disabled = True

    def changes(self) -> dict:
        """The service's fields; the logo only when a new one was chosen or the old one removed."""
        changes = {name: value for name, value in self.cleaned_data.items() if name not in ("logo", "remove_logo")}
        if self.cleaned_data.get("logo"):
            changes["logo"] = self.cleaned_data["logo"]
        elif self.cleaned_data.get("remove_logo"):
            changes["logo"] = None
        return changes


class DocumentUploadForm(forms.Form):
    # A plain file field: what the file is, is judged by its content (zora/uploads.py).
    file = forms.FileField(
        label="Add a document",
        help_text=f"A PDF, or a photo of the document as PNG or JPEG; up to {DOCUMENT_MEGABYTES} MB.",
        widget=forms.FileInput(attrs={"accept": ",".join(sorted(DOCUMENT_CONTENT_TYPES.values()))}),
    )
