"""Reviews of the shop and its products, each with the shop's one public reply.

The list is a live region; a reply form that someone is typing in is left alone by live
updates (the realtime client refreshes around it).
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from catalog import selectors, services
from catalog.models import Review
from vendors.portal.access import vendor_portal_view
from zora.errors import ServiceError
from zora.forms import add_service_error

from .forms import ReviewFilterForm, ReviewReplyForm

PAGE = "vendor/reviews/reviews.html"
REVIEWS_PER_PAGE = 30


def _list_context(request, *, failed: Review | None = None, failed_form: ReviewReplyForm | None = None) -> dict:
    """Each review carries its reply form: the refused one keeps what was typed and its error."""
    filters = ReviewFilterForm(request.GET)
    subject = filters.subject()
    reviews = selectors.review_list_for_vendor_staff(vendor=request.vendor, about=subject)
    page = Paginator(reviews, REVIEWS_PER_PAGE).get_page(request.GET.get("page"))
    for review in page:
        if failed is not None and review.pk == failed.pk:
            review.reply_form = failed_form
        else:
            review.reply_form = ReviewReplyForm(initial={"body": review.reply}, prefix=f"review-{review.pk}")
    unanswered = selectors.review_list_for_vendor_staff(vendor=request.vendor, about="unanswered").count()
    return {"subject": subject, "subjects": filters.fields["about"].choices, "page": page, "unanswered": unanswered}


@vendor_portal_view
def reviews_page(request):
    return render(request, PAGE, _list_context(request))


@vendor_portal_view
def reviews_list(request):
    return render(request, f"{PAGE}#list", _list_context(request))


@vendor_portal_view
@require_POST
def review_reply(request, pk):
    review = get_object_or_404(Review, pk=pk, vendor=request.vendor)
    form = ReviewReplyForm(request.POST, prefix=f"review-{review.pk}")
    if form.is_valid():
        try:
            services.review_reply(actor=request.user, review=review, body=form.cleaned_data["body"])
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            if request.htmx:
                return render(request, f"{PAGE}#list", _list_context(request))
            messages.success(request, "Reply published.")
            return redirect(f"{reverse('vendor:reviews')}?{request.GET.urlencode()}")
    context = _list_context(request, failed=review, failed_form=form)
    return render(request, f"{PAGE}#list" if request.htmx else PAGE, context, status=422 if request.htmx else 200)
