"""The REST API of a live server, as the mobile app calls it: HTTP with a Bearer token."""

import requests

from tests.live.servers import LiveServer

TIMEOUT = 15


class ApiClient:
    def __init__(self, server: LiveServer, apikey: str | None):
        self.base_url = f"{server.base_url}/api/v1"
        self.session = requests.Session()
        if apikey:
            self.session.headers["Authorization"] = f"Bearer {apikey}"

    def send(self, method: str, path: str, *, timeout: float = TIMEOUT, **kwargs) -> requests.Response:
        """The answer, whatever its status: for tests that judge refusals themselves."""
        return self.session.request(method, f"{self.base_url}{path}", timeout=timeout, **kwargs)

    def request(self, method: str, path: str, expected_status: int, **kwargs) -> requests.Response:
        response = self.send(method, path, **kwargs)
        assert response.status_code == expected_status, (
            f"{method} {path} answered {response.status_code}, expected {expected_status}: {response.text[:1000]}"
        )
        return response

    def get(self, path: str, **params):
        return self.request("GET", path, 200, params=params).json()

    def post(self, path: str, body: dict, expected_status: int = 201, **kwargs):
        return self.request("POST", path, expected_status, json=body, **kwargs).json()

    def checkout(self, *lines: tuple[int, int]) -> list[dict]:
        """Puts (product id, quantity) lines in the cart and checks out: the orders it placed."""
        for product_id, quantity in lines:
            self.post("/cart/items", {"product": product_id, "quantity": quantity})
        return self.post("/orders/checkout", {})["orders"]
