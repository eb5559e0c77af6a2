"""Page-number pagination for every API list: `?page=2&page_size=50`.

Kept apart from zora.api because DRF reads it while defining its own views.
"""

from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        """A page that does not exist (0, -1, past the end, not a number) is bad input naming `page`."""
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound as error:
            raise ValidationError({self.page_query_param: [str(error.detail)]}) from None
