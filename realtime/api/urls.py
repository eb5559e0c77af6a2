from django.urls import path

from realtime.api.views import ChangesView

urlpatterns = [
    path("changes", ChangesView.as_view(), name="changes"),
]
