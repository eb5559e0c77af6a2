"""The shop's own pages (status, hours and holidays; profile) and the applicant's page before there is a shop.

Live regions are partials, each with one view that the live refresh calls
again; a status button or a form answers an htmx request with the same
partial, and anything else with a redirect (POST/redirect/GET).
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from vendors import selectors, services
from vendors.access import user_owns_vendor, user_vendor
from vendors.models import HolidayClosure, Vendor, VendorApplication
from vendors.portal.access import vendor_portal_view
from zora.errors import NotFound, ServiceError
from zora.forms import add_service_error

from .forms import DocumentUploadForm, HolidayForm, ShopProfileForm, ShopStatusForm, WeeklyHours

STATUS = "vendor/shop/status.html"
PROFILE = "vendor/shop/profile.html"
APPLICATION = "vendor/application/status.html"
STATUS_PAGE = "vendor:shop-status"
PROFILE_FIELDS = ("name", "description", "address", "lat", "lng", "delivery_radius_km")


def _changed(request, news: str, *, partial: str, context, page: str):
    """After a change: for htmx the re-rendered partial (`context()`) with the news as a toast,
    otherwise back to the page, where the news waits as a message."""
    if request.htmx:
        response = render(request, partial, context())
        return trigger_client_event(response, "zora:toast", {"message": news, "kind": "success"})
    messages.success(request, news)
    return redirect(page)


# Shop status, hours and holidays -------------------------------------------------------------


def _now_context(vendor: Vendor, status_form=None) -> dict:
    now = timezone.now()
    return {
        "vendor": vendor,
        "state": selectors.vendor_open_state(vendor=vendor, at=now),
        "paused": selectors.vendor_is_paused(vendor, at=now),
        "status_form": status_form or ShopStatusForm(),
    }


def _hours_context(vendor: Vendor, hours=None) -> dict:
    return {"hours": hours or WeeklyHours(hours=list(vendor.opening_hours.all()))}


def _holidays_context(vendor: Vendor, holiday_form=None) -> dict:
    return {"holidays": selectors.holiday_closures_ahead(vendor=vendor), "holiday_form": holiday_form or HolidayForm()}


def _status_page(request, **forms):
    vendor = request.vendor
    context = {
        **_now_context(vendor, forms.get("status_form")),
        **_hours_context(vendor, forms.get("hours")),
        **_holidays_context(vendor, forms.get("holiday_form")),
    }
    return render(request, STATUS, context)


@vendor_portal_view
@require_GET
def shop_status_page(request):
    return _status_page(request)


@vendor_portal_view
@require_GET
def shop_status_now(request):
    return render(request, f"{STATUS}#now", _now_context(request.vendor))


def _status_news(vendor: Vendor) -> str:
    if vendor.opening_status == Vendor.OpeningStatus.BUSY:
        return f"Busy: prep times are {vendor.busy_extra_minutes} minutes longer."
    if vendor.opening_status == Vendor.OpeningStatus.CLOSED:
        return "Paused: the shop takes no orders until it opens again."
    return "Open: the shop takes orders."


@vendor_portal_view
@require_POST
def shop_status_set(request):
    form = ShopStatusForm(request.POST)
    if form.is_valid():
        try:
            vendor = services.vendor_set_status(actor=request.user, vendor=request.vendor, **form.status())
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            return _changed(
                request,
                _status_news(vendor),
                partial=f"{STATUS}#now",
                context=lambda: _now_context(vendor),
                page=STATUS_PAGE,
            )
    if request.htmx:
        return render(request, f"{STATUS}#now", _now_context(request.vendor, form), status=422)
    return _status_page(request, status_form=form)


@vendor_portal_view
def shop_hours(request):
    """The hours editor: GET for the live refresh, POST replaces the whole week."""
    vendor = request.vendor
    if request.method != "POST":
        return render(request, f"{STATUS}#hours", _hours_context(vendor))
    hours = WeeklyHours(request.POST, hours=list(vendor.opening_hours.all()))
    if hours.is_valid():
        try:
            services.opening_hours_set(actor=request.user, vendor=vendor, openings=hours.openings())
        except ServiceError as exc:
            hours.add_service_error(exc)
        else:
            return _changed(
                request,
                "Opening hours saved.",
                partial=f"{STATUS}#hours",
                context=lambda: _hours_context(vendor),
                page=STATUS_PAGE,
            )
    if request.htmx:
        return render(request, f"{STATUS}#hours", _hours_context(vendor, hours), status=422)
    return _status_page(request, hours=hours)


@vendor_portal_view
@require_GET
def shop_holidays(request):
    return render(request, f"{STATUS}#holidays", _holidays_context(request.vendor))


@vendor_portal_view
@require_POST
def shop_holiday_add(request):
    form = HolidayForm(request.POST)
    if form.is_valid():
        try:
            services.holiday_closure_add(actor=request.user, vendor=request.vendor, **form.cleaned_data)
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            return _changed(
                request,
                "Holiday closure added.",
                partial=f"{STATUS}#holidays",
                context=lambda: _holidays_context(request.vendor),
                page=STATUS_PAGE,
            )
    if request.htmx:
        return render(request, f"{STATUS}#holidays", _holidays_context(request.vendor, form), status=422)
    return _status_page(request, holiday_form=form)


@vendor_portal_view
@require_POST
def shop_holiday_remove(request, pk):
    closure = get_object_or_404(HolidayClosure, pk=pk, vendor=request.vendor)
    services.holiday_closure_remove(actor=request.user, closure=closure)
    return _changed(
        request,
        "Holiday closure removed.",
        partial=f"{STATUS}#holidays",
        context=lambda: _holidays_context(request.vendor),
        page=STATUS_PAGE,
    )


# Shop profile ---------------------------------------------------------------------------------


@vendor_portal_view
def shop_profile(request):
    """Everyone on the team sees the profile; its owners change it (the service says so too)."""
    vendor = request.vendor
    editable = user_owns_vendor(user=request.user, vendor=vendor)
    initial = {name: getattr(vendor, name) for name in PROFILE_FIELDS}
    data = (request.POST, request.FILES) if request.method == "POST" else ()
    form = ShopProfileForm(*data, editable=editable, has_logo=bool(vendor.logo), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.vendor_update(actor=request.user, vendor=vendor, **form.changes())
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Shop profile saved.")
            return redirect("vendor:shop-profile")
    status = 422 if request.htmx and form.errors else 200
    return render(request, PROFILE, {"form": form, "editable": editable, "vendor": vendor}, status=status)


# The applicant's page -------------------------------------------------------------------------


def applicant_view(view):
    """A signed-in user with an application and no shop yet. Once the shop exists its portal takes
    over (an htmx refresh is told to load it whole rather than swap it into a region)."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if user_vendor(user=user) is not None:
            return HttpResponseClientRedirect("/vendor/") if request.htmx else redirect("vendor:dashboard")
        application = selectors.application_for_user(user=user)
        if application is None:
            messages.error(request, "This account has no shop and no application to open one.")
            return redirect_to_login(request.get_full_path())
        request.application = application
        return view(request, *args, **kwargs)

    return guarded


def _application_context(application: VendorApplication, upload_form=None) -> dict:
    requested_at = selectors.documents_requested_at(application=application)
    documents = list(application.uploaded_documents.all())
    return {
        "application": application,
        "documents": documents,
        "unsent": [d for d in documents if requested_at is not None and d.uploaded_at > requested_at],
        "collecting": application.status == VendorApplication.Status.DOCUMENTS_REQUIRED,
        "upload_form": upload_form or DocumentUploadForm(),
    }


def _application_changed(request, news: str):
    return _changed(
        request,
        news,
        partial=f"{APPLICATION}#status",
        context=lambda: _application_context(selectors.application_for_user(user=request.user)),
        page="vendor:application",
    )


def _application_refused(request, *, upload_form=None, refusal: str = ""):
    application = selectors.application_for_user(user=request.user)
    context = {**_application_context(application, upload_form), "refusal": refusal}
    if request.htmx:
        return render(request, f"{APPLICATION}#status", context, status=422)
    return render(request, APPLICATION, context)


@applicant_view
@require_GET
def application_page(request):
    return render(request, APPLICATION, _application_context(request.application))


@applicant_view
@require_GET
def application_status(request):
    return render(request, f"{APPLICATION}#status", _application_context(request.application))


@applicant_view
@require_POST
def application_document_upload(request):
    form = DocumentUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.application_document_upload(
                applicant=request.user, application=request.application, upload=form.cleaned_data["file"]
            )
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            return _application_changed(request, "Document added. Press Resubmit when everything is there.")
    return _application_refused(request, upload_form=form)


@applicant_view
@require_POST
def application_document_remove(request, pk):
    document = get_object_or_404(request.application.uploaded_documents, pk=pk)
    try:
        services.application_document_remove(applicant=request.user, document=document)
    except ServiceError as exc:
        return _application_refused(request, refusal=exc.message)
    return _application_changed(request, f"{document.name} removed.")


@applicant_view
@require_POST
def application_resubmit(request):
    try:
        services.application_resubmit_documents(applicant=request.user, application=request.application)
    except ServiceError as exc:
        return _application_refused(request, refusal=exc.message)
    return _application_changed(request, "Sent: the Zora team is reviewing your application again.")


@require_GET
def application_document_download(request, pk):
    """A private file, for its applicant and the platform team; to anyone else it does not exist."""
    try:
        document = selectors.application_document_for(user=request.user, document_id=pk)
        content = document.file.open("rb")
    except (NotFound, FileNotFoundError):
        raise Http404("No such document.") from None
    response = FileResponse(content, as_attachment=True, filename=document.name, content_type=document.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
