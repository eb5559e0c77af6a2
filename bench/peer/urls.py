"""The peer serves WebSockets only; Zora's URLs are listed so the services it shares can name
pages (notification links) as they do in Zora."""

from zora.urls import urlpatterns  # noqa: F401
