"""The sidebars of the two portals: each item, the pages it is current on, and the tables that earn it a "new" badge."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavItem:
    name: str
    label: str
    url_names: tuple[str, ...]
    tables: str = ""


def nav_links(namespace: str, items: tuple[NavItem, ...]) -> list[dict]:
    """The items whose pages exist, with their URLs, as the base templates draw them."""
    links = []
    for item in items:
        try:
            url = reverse(f"{namespace}:{item.url_names[0]}")
        except NoReverseMatch:
            continue
        links.append(
            {"name": item.name, "label": item.label, "url": url, "url_names": item.url_names, "tables": item.tables}
        )
    return links
