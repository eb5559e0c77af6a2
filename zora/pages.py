"""What every filtered list page of the portals shares."""

from django.core.paginator import Paginator


def filtered_page(request, items, *, per_page: int) -> dict:
    """The requested page of `items`, and the query string without `page`, so pager links keep the filters."""
    query = request.GET.copy()
    query.pop("page", None)
    return {"page": Paginator(items, per_page).get_page(request.GET.get("page")), "query": query.urlencode()}
