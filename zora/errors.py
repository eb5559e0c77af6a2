"""Errors every service raises when it refuses a request.

Each carries a machine-readable `code`, a sentence a person can act on, and
the input `field` at fault when there is one. The API turns them into JSON
responses with `status_code`; portals show the message.
"""


class ServiceError(Exception):
    status_code = 422
    default_code = "rule_violation"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None, **details):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field
        self.details = details

    def as_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(ServiceError):
    """The input itself is wrong (a negative quantity, an unknown product)."""

    status_code = 400
    default_code = "invalid"


class NotFound(ServiceError):
    """The object does not exist or the actor may not know it exists."""

    status_code = 404
    default_code = "not_found"


class Conflict(ServiceError):
    """The request clashes with the current state (stale status, not enough stock)."""

    status_code = 409
    default_code = "conflict"


class RuleViolation(ServiceError):
    """A business rule forbids it (a review without a delivered order)."""

    status_code = 422
    default_code = "rule_violation"
