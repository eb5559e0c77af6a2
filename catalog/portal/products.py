"""Products: the shop's catalogue, each product's photos, and its stock with the history of every change.

The list, the product's stock and its stock history are live regions, each one partial with one
view that the live refresh calls again; the forms sit outside them, so an update never
touches what someone is typing.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import dateformat, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from catalog import selectors, services
from catalog.models import Product, ProductImage
from vendors.portal.access import vendor_portal_view
from zora.errors import ServiceError
from zora.forms import add_service_error
from zora.pages import filtered_page

from .forms import OutOfStockForm, ProductCreateForm, ProductForm, ProductImageForm, ProductSearchForm, StockAdjustForm

LIST = "vendor/products/list.html"
CREATE = "vendor/products/create.html"
EDIT = "vendor/products/edit.html"
PRODUCTS_PER_PAGE = 50
MOVEMENTS_SHOWN = 25
PRODUCT_FIELDS = ("name", "description", "category", "price", "low_stock_threshold")


def _own_product(request, pk) -> Product:
    return get_object_or_404(
        Product.objects.select_related("category").prefetch_related("uploaded_images"), pk=pk, vendor=request.vendor
    )


def _list_context(request) -> dict:
    search = ProductSearchForm(request.GET)
    products = selectors.product_search_for_vendor(vendor=request.vendor, **search.filters())
    return {"search": search, **filtered_page(request, products, per_page=PRODUCTS_PER_PAGE)}


@vendor_portal_view
def products_page(request):
    return render(request, LIST, _list_context(request))


@vendor_portal_view
def products_list(request):
    return render(request, f"{LIST}#list", _list_context(request))


@vendor_portal_view
def product_create(request):
    form = ProductCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(actor=request.user, vendor=request.vendor, **form.cleaned_data)
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"{product.name} created. Add its photos below.")
            return redirect("vendor:product-edit", pk=product.pk)
    return render(request, CREATE, {"form": form})


def _history_context(product: Product) -> dict:
    return {"product": product, "movements": selectors.stock_movements_for_product(product=product)[:MOVEMENTS_SHOWN]}


def _edit_page(request, product: Product, *, form=None, image_form=None, stock_form=None):
    context = {
        **_history_context(product),
        "form": form or ProductForm(initial={name: getattr(product, name) for name in PRODUCT_FIELDS}),
        "image_form": image_form or ProductImageForm(),
        "stock_form": stock_form or StockAdjustForm(),
        "next": request.path,
    }
    return render(request, EDIT, context)


@vendor_portal_view
def product_edit(request, pk):
    product = _own_product(request, pk)
    if request.method != "POST":
        return _edit_page(request, product)
    form = ProductForm(request.POST)
    if form.is_valid():
        try:
            services.product_update(actor=request.user, product=product, **form.cleaned_data)
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Product saved.")
            return redirect("vendor:product-edit", pk=product.pk)
    return _edit_page(request, product, form=form)


@vendor_portal_view
@require_POST
def product_set_active(request, pk):
    product = _own_product(request, pk)
    active = request.POST.get("active") == "1"
    try:
        services.product_update(actor=request.user, product=product, is_active=active)
    except ServiceError as exc:  # e.g. the Zora team took it off sale: theirs to undo
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{product.name} is {'on sale again' if active else 'hidden from customers'}.")
    return redirect("vendor:product-edit", pk=product.pk)


@vendor_portal_view
def product_stock(request, pk):
    return render(request, f"{EDIT}#stock", {"product": _own_product(request, pk)})


@vendor_portal_view
def product_stock_history(request, pk):
    return render(request, f"{EDIT}#history", _history_context(_own_product(request, pk)))


@vendor_portal_view
@require_POST
def product_stock_adjust(request, pk):
    product = _own_product(request, pk)
    form = StockAdjustForm(request.POST)
    if form.is_valid():
        try:
            product = services.product_adjust_stock(actor=request.user, product=product, **form.adjustment())
        except ServiceError as exc:
            form.add_refusal(exc)
        else:
            if request.htmx:
                response = render(request, f"{EDIT}#stock-form", {"product": product, "stock_form": StockAdjustForm()})
                response["HX-Trigger"] = "zora:stock-adjusted"  # the stock and its history refresh without waiting
                return response
            messages.success(request, f"Stock of {product.name} is now {product.stock}.")
            return redirect("vendor:product-edit", pk=product.pk)
    if request.htmx:
        return render(request, f"{EDIT}#stock-form", {"product": product, "stock_form": form}, status=422)
    return _edit_page(request, product, stock_form=form)


def _back_to(request, product: Product):
    """Where the out-of-stock form was embedded (an order's page), when that is this site."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("vendor:product-edit", pk=product.pk)


def _comes_back(product: Product) -> str:
    if product.out_of_stock_until is None:
        return "bring it back when it is ready"
    until = timezone.localtime(product.out_of_stock_until)
    when = dateformat.format(until, "H:i")
    if until.date() != timezone.localdate():
        when += " on " + dateformat.format(until, "D j M")
    return f"it comes back at {when}"


@vendor_portal_view
@require_POST
def product_out_of_stock(request, pk):
    product = _own_product(request, pk)
    form = OutOfStockForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose how long it is out of stock.")
        return _back_to(request, product)
    try:
        product = services.product_mark_out_of_stock(
            actor=request.user, product=product, until=form.cleaned_data["until"]
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{product.name} is out of stock: {_comes_back(product)}.")
    return _back_to(request, product)


@vendor_portal_view
@require_POST
def product_back_in_stock(request, pk):
    product = _own_product(request, pk)
    try:
        product = services.product_back_in_stock(actor=request.user, product=product)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{product.name} is back in stock ({product.stock}).")
    return _back_to(request, product)


@vendor_portal_view
@require_POST
def product_image_add(request, pk):
    product = _own_product(request, pk)
    form = ProductImageForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.product_image_add(actor=request.user, product=product, upload=form.cleaned_data["image"])
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Photo added.")
            return redirect("vendor:product-edit", pk=product.pk)
    return _edit_page(request, product, image_form=form)


def _own_image(product: Product, image_id) -> ProductImage:
    return get_object_or_404(ProductImage, pk=image_id, product=product)


@vendor_portal_view
@require_POST
def product_image_remove(request, pk, image_id):
    product = _own_product(request, pk)
    services.product_image_remove(actor=request.user, image=_own_image(product, image_id))
    messages.success(request, "Photo removed.")
    return redirect("vendor:product-edit", pk=product.pk)


@vendor_portal_view
@require_POST
def product_image_make_main(request, pk, image_id):
    product = _own_product(request, pk)
    main = _own_image(product, image_id)
    others = [image.pk for image in product.uploaded_images.all() if image.pk != main.pk]
    services.product_images_reorder(actor=request.user, product=product, image_ids=[main.pk, *others])
    messages.success(request, "Main photo changed.")
    return redirect("vendor:product-edit", pk=product.pk)
