"""The peer serves WebSockets only."""

urlpatterns = []
