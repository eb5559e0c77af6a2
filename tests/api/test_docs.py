"""The OpenAPI schema describes every endpoint with its errors, and /api/docs/ shows it."""

import re

from drf_spectacular.generators import SchemaGenerator

from zora import api_urls


def schema_paths() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)["paths"]


def test_every_route_is_in_the_schema_and_every_operation_documents_its_errors(db):
    paths = schema_paths()
    documented = {re.sub(r"\{[^}]+\}", "{}", path) for path in paths}
    for pattern in api_urls.urlpatterns:
        route = getattr(pattern.pattern, "_route", None)
        if route is None:  # the catch-all for unknown URLs
            continue
        assert "/api/v1/" + re.sub(r"<[^>]+>", "{}", route) in documented, route
    for path, operations in paths.items():
        for method, operation in operations.items():
            errors = {code for code in operation["responses"] if code.startswith(("4", "5"))}
            assert errors, f"{method.upper()} {path} documents no error response"
            if method in ("post", "patch", "put", "delete"):
                assert "429" in errors, f"{method.upper()} {path} omits the write rate limit"


def test_interactive_docs_are_served_without_a_cdn(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/api/schema/" in page
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page


def test_the_api_root_points_at_the_docs_instead_of_a_404(api, db):
    index = api.get("/api/v1/")
    assert index.status_code == 200
    body = index.json()
    assert body["docs"] == "http://testserver/api/docs/" and body["schema"] == "http://testserver/api/schema/"
    assert body["realtime_websocket"] == "ws://testserver/realtime/v1/websocket"
    assert api.get(body["sign_in"].removeprefix("http://testserver")).status_code == 405  # POST only
