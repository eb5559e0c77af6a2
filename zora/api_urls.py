"""Every endpoint of the mobile API, under /api/v1/."""

from django.urls import path, re_path, register_converter

from accounts.api import views as accounts
from catalog.api import views as catalog
from orders.api import views as orders
from support.api import views as support
from vendors.api import views as vendors
from zora.api import ObjectIdConverter, endpoint_not_found
from zora.views import ApiIndexView

register_converter(ObjectIdConverter, "id")

urlpatterns = [
    path("", ApiIndexView.as_view(), name="api-index"),
    # Accounts
    path("auth/register", accounts.RegisterView.as_view(), name="auth-register"),
    path("auth/token", accounts.TokenView.as_view(), name="auth-token"),
    path("auth/logout", accounts.LogoutView.as_view(), name="auth-logout"),
    path("auth/password", accounts.PasswordChangeView.as_view(), name="auth-password"),
    path("auth/password-reset", accounts.PasswordResetRequestView.as_view(), name="auth-password-reset"),
    path(
        "auth/password-reset/confirm", accounts.PasswordResetConfirmView.as_view(), name="auth-password-reset-confirm"
    ),
    path("auth/devices", accounts.DeviceListView.as_view(), name="auth-devices"),
    path("auth/devices/<id:pk>", accounts.DeviceView.as_view(), name="auth-device"),
    path("me", accounts.MeView.as_view(), name="me"),
    path("notifications", accounts.NotificationListView.as_view(), name="notifications"),
    path("notifications/read-all", accounts.NotificationReadAllView.as_view(), name="notifications-read-all"),
    path("notifications/<id:pk>/read", accounts.NotificationReadView.as_view(), name="notification-read"),
    # Catalog
    path("categories", catalog.CategoryListView.as_view(), name="categories"),
    path("products", catalog.ProductListView.as_view(), name="products"),
    path("products/<id:pk>", catalog.ProductDetailView.as_view(), name="product-detail"),
    path("products/<id:pk>/reviews", catalog.ProductReviewListView.as_view(), name="product-reviews"),
    path("reviews", catalog.ReviewCreateView.as_view(), name="reviews"),
    path("wishlist", catalog.WishlistView.as_view(), name="wishlist"),
    path("wishlist/<id:product_id>", catalog.WishlistItemView.as_view(), name="wishlist-item"),
    # Vendors
    path("vendors", vendors.VendorListView.as_view(), name="vendors"),
    path("vendors/<slug:slug>", vendors.VendorDetailView.as_view(), name="vendor-detail"),
    path("vendor-applications", vendors.VendorApplicationCreateView.as_view(), name="vendor-applications"),
    path("vendor-applications/mine", vendors.MyVendorApplicationView.as_view(), name="vendor-application-mine"),
    # Cart and orders
    path("cart", orders.CartView.as_view(), name="cart"),
    path("cart/items", orders.CartItemListView.as_view(), name="cart-items"),
    path("cart/items/<id:pk>", orders.CartItemDetailView.as_view(), name="cart-item"),
    path("orders", orders.OrderListView.as_view(), name="orders"),
    path("orders/checkout", orders.CheckoutView.as_view(), name="checkout"),
    path("orders/<id:pk>", orders.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<id:pk>/cancel", orders.OrderCancelView.as_view(), name="order-cancel"),
    # The shop's side
    path("vendor/orders", orders.VendorOrderListView.as_view(), name="vendor-orders"),
    path(
        "vendor/orders/<id:pk>/transition", orders.VendorOrderTransitionView.as_view(), name="vendor-order-transition"
    ),
    path("vendor/products", catalog.VendorProductListView.as_view(), name="vendor-products"),
    path("vendor/products/<id:pk>", catalog.VendorProductDetailView.as_view(), name="vendor-product"),
    path("vendor/products/<id:pk>/stock", catalog.VendorProductStockView.as_view(), name="vendor-product-stock"),
    path(
        "vendor/products/<id:pk>/stock-movements",
        catalog.VendorProductStockMovementListView.as_view(),
        name="vendor-product-stock-movements",
    ),
    path(
        "vendor/products/<id:pk>/out-of-stock",
        catalog.VendorProductOutOfStockView.as_view(),
        name="vendor-product-out-of-stock",
    ),
    path(
        "vendor/products/<id:pk>/back-in-stock",
        catalog.VendorProductBackInStockView.as_view(),
        name="vendor-product-back-in-stock",
    ),
    path("vendor/products/<id:pk>/images", catalog.VendorProductImageListView.as_view(), name="vendor-product-images"),
    path(
        "vendor/products/<id:pk>/images/order",
        catalog.VendorProductImageOrderView.as_view(),
        name="vendor-product-images-order",
    ),
    path(
        "vendor/products/<id:pk>/images/<id:image_id>",
        catalog.VendorProductImageView.as_view(),
        name="vendor-product-image",
    ),
    path("vendor/inventory-alerts", catalog.VendorInventoryAlertListView.as_view(), name="vendor-inventory-alerts"),
    path(
        "vendor/inventory-alerts/<id:pk>/acknowledge",
        catalog.VendorInventoryAlertAcknowledgeView.as_view(),
        name="vendor-inventory-alert-acknowledge",
    ),
    path("vendor/reviews", catalog.VendorReviewListView.as_view(), name="vendor-reviews"),
    path("vendor/reviews/<id:pk>/reply", catalog.VendorReviewReplyView.as_view(), name="vendor-review-reply"),
    # Support and chat
    path("support/threads", support.SupportThreadListView.as_view(), name="support-threads"),
    path(
        "support/threads/<id:pk>/messages", support.SupportThreadMessagesView.as_view(), name="support-thread-messages"
    ),
    path("support/inbound", support.SupportInboundMailView.as_view(), name="support-inbound"),
    path("conversations", support.ConversationListView.as_view(), name="conversations"),
    path("conversations/<id:pk>/messages", support.ConversationMessagesView.as_view(), name="conversation-messages"),
    path("conversations/<id:pk>/read", support.ConversationReadView.as_view(), name="conversation-read"),
    path("message-attachments/<id:pk>", support.MessageAttachmentView.as_view(), name="message-attachment"),
    # Anything else under /api/v1/ answers in the API's error shape.
    # [\s\S], not ".": a path with a newline in it must get the JSON 404 too, not the HTML one.
    re_path(r"^(?P<path>[\s\S]*)$", endpoint_not_found),
]
