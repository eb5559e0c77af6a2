"""Page-number pagination for every API list: `?page=2&page_size=50`.

Kept apart from zora.api because DRF reads it while defining its own views.
"""

from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError

PAGE_SIZE_RULE = "A whole number from 1 to {maximum}."


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        """A page that does not exist (0, -1, past the end, not a number) is bad input naming `page`."""
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound as error:
            raise ValidationError({self.page_query_param: [str(error.detail)]}) from None

    def get_page_size(self, request):
        """A page size that is not a whole number from 1 to the maximum is bad input naming
        `page_size`, as a bad `page` is: silently serving 20 rows hides the app's mistake."""
        given = request.query_params.get(self.page_size_query_param)
        if given is None:
            return self.page_size
        if not (given.isascii() and given.isdigit() and 1 <= int(given) <= self.max_page_size):
            raise ValidationError({self.page_size_query_param: [PAGE_SIZE_RULE.format(maximum=self.max_page_size)]})
        return int(given)
