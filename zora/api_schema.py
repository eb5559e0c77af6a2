"""The OpenAPI schema's shared part: every signed-in write documents `Idempotency-Key`.

The header is honoured by the base view (zora/idempotency.py), not by each
endpoint, so it is documented here once for all of them, with the answers it
can add: 400 for a malformed key, 422 for a key reused with another request,
and 400 or 415 for a body that cannot be read (a keyed write reads its body
before anything else, to compare it with the first one's).
"""

from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import IsAuthenticated

from zora.api import ErrorSerializer, error_responses
from zora.idempotency import IDEMPOTENCY_HEADER, KEY_MAX_LENGTH, UNSAFE_METHODS

IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header",
    "name": IDEMPOTENCY_HEADER,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": KEY_MAX_LENGTH},
    "description": "A fresh key per write the user makes, the same key on every retry of it: a retry answers "
    "with the first answer and changes nothing. 422 `idempotency_key_reused` when the key came with another "
    "request. See the docs' offline queue section.",
}


UNREADABLE_BODY = "The body is not of a type this endpoint reads (JSON; multipart where it takes uploads)."


def _takes_idempotency_keys(view) -> bool:
    """Signed-in calls only: the open ones (sign-in, sign-up, password reset, inbound mail) refuse the header."""
    return any(issubclass(permission, IsAuthenticated) for permission in view.permission_classes)


class ApiSchema(AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None or self.method not in UNSAFE_METHODS or not _takes_idempotency_keys(self.view):
            return operation
        parameters = operation.setdefault("parameters", [])
        if not any(parameter["name"] == IDEMPOTENCY_HEADER for parameter in parameters):
            parameters.append(IDEMPOTENCY_KEY_PARAMETER)
        error_schema = {"application/json": {"schema": self.resolve_serializer(ErrorSerializer, "response").ref}}
        descriptions = {code: documented.description for code, documented in error_responses(400, 422).items()}
        for status_code, description in {**descriptions, 415: UNREADABLE_BODY}.items():
            operation["responses"].setdefault(str(status_code), {"content": error_schema, "description": description})
        return operation
