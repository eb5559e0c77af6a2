from django import template

from catalog.api.serializers import public_name as _public_name

register = template.Library()

PREVIEW_SIDE = 240


@register.filter
def public_name(user) -> str:
    """How a customer appears to a shop: their name, never their email address."""
    return _public_name(user)


@register.filter
def preview_size(attachment) -> tuple[int, int]:
    """A photo's box in a bubble: its own shape, at most PREVIEW_SIDE pixels on its long side,
    so the thread does not jump when the thumbnail arrives."""
    scale = min(1, PREVIEW_SIDE / max(attachment.width, attachment.height))
    return round(attachment.width * scale), round(attachment.height * scale)
