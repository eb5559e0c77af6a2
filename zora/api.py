"""The REST API's shared conventions: one error shape, ids in URLs and bodies, the base endpoint.

Every refusal is JSON `{"error": {"code", "message", ...}}` so a mobile client
has a single thing to parse, whatever went wrong and wherever it was caught.
"""

import logging
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import (
    ObjectDoesNotExist,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.fields import get_error_detail
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from zora.errors import NotFound, ServiceError
from zora.idempotency import IdempotentWrites
from zora.json_input import unportable_part

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- errors


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable reason, e.g. `invalid`, `stale_status`.")
    message = serializers.CharField(help_text="A sentence a person can act on.")
    field = serializers.CharField(required=False, allow_null=True, help_text="The input at fault, when one is.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="For `invalid`: each bad field (dotted path for nested input) and what is wrong with it.",
    )
    details = serializers.DictField(required=False, help_text="Extra facts about the refusal.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


_ERROR_DESCRIPTIONS = {
    400: "Bad input: `error.fields` names each bad field.",
    401: "Missing, invalid or revoked token.",
    403: "The account is suspended.",
    404: "No such object, or it is not yours.",
    409: "Clashes with the current state (stale status, not enough stock, ...).",
    422: "A business rule forbids it.",
    429: "Too many requests; retry after the `Retry-After` seconds.",
}


def error_responses(*status_codes: int) -> dict:
    """The documented error responses of an endpoint, for `extend_schema(responses=...)`."""
    return {code: OpenApiResponse(ErrorSerializer, description=_ERROR_DESCRIPTIONS[code]) for code in status_codes}


def _flatten_field_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF nests errors like the input; clients get one flat `{"a.0.b": [...]}` map."""
    if isinstance(detail, dict):
        flat = {}
        for name, sub in detail.items():
            flat.update(_flatten_field_errors(sub, f"{prefix}.{name}" if prefix else str(name)))
        return flat
    if isinstance(detail, list) and any(isinstance(item, (dict, list)) for item in detail):
        flat = {}
        for index, sub in enumerate(detail):
            if sub:
                flat.update(_flatten_field_errors(sub, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or api_settings.NON_FIELD_ERRORS_KEY: [str(message) for message in messages]}


def _describe(exc: exceptions.APIException) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten_field_errors(exc.detail)
        return {
            "code": "invalid",
            "message": "Check these fields: " + ", ".join(fields) + ".",
            "fields": fields,
        }
    codes = exc.get_codes()
    return {
        "code": codes if isinstance(codes, str) else exc.default_code,
        "message": str(exc.detail),
    }


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def _suspicious_request(exc: SuspiciousOperation) -> Response:
    """Django's refusals of a request it will not read (its DATA_UPLOAD_* limits above all), raised
    while the body or the query string is read, in the API's shape instead of a 500."""
    if isinstance(exc, RequestDataTooBig):
        limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        body = error_body("too_large", f"The request body (uploaded files aside) is larger than {limit}.")
        return Response(body, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        body = error_body("too_many_fields", f"More than {limit} form fields or query parameters were sent.")
    elif isinstance(exc, TooManyFilesSent):
        body = error_body("too_many_files", f"More than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files were sent.")
    else:
        body = error_body("bad_request", str(exc))
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


# Seconds a client is told to wait before retrying a request the database failed.
DATABASE_RETRY_AFTER = 1

# Refusals an HTTP client should read as "forbidden", whichever service error class carries them.
_STATUS_BY_CODE = {"account_suspended": status.HTTP_403_FORBIDDEN}


def api_exception_handler(exc, context):
    """DRF's handler (headers such as WWW-Authenticate and Retry-After), our body."""
    if isinstance(exc, ServiceError):
        return Response({"error": exc.as_dict()}, status=_STATUS_BY_CODE.get(exc.code, exc.status_code))
    if isinstance(exc, SuspiciousOperation):
        return _suspicious_request(exc)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=get_error_detail(exc))
    elif isinstance(exc, (Http404, ObjectDoesNotExist)):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = {"error": _describe(exc)}
        return response
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The database went away under the request (restarted, failed over, the connection killed).
        # Each transaction committed whole or not at all, so retrying is safe (a checkout with the
        # same Idempotency-Key answers with the orders it placed, if it did).
        logger.warning("API request failed on the database: %s", exc)
        return Response(
            error_body("unavailable", "The service is briefly unavailable; retry shortly."),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
        )
    # The last guard: input that slipped past validation must not become a 500.
    if isinstance(exc, DataError):
        return Response(error_body("invalid", "A value is out of range."), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IntegrityError):
        return Response(
            error_body("conflict", "The request clashes with the current state; reload and retry."),
            status=status.HTTP_409_CONFLICT,
        )
    logger.exception("Unhandled API error", exc_info=exc)
    return Response(
        error_body("server_error", "Something went wrong on our side."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


@csrf_exempt
def endpoint_not_found(request, path=""):
    """Unknown URLs under /api/ answer in the API's error shape, not an HTML page."""
    return JsonResponse(error_body("not_found", "No such endpoint."), status=404)


# ------------------------------------------------------------------- ids

# Every primary key is a PostgreSQL bigint: a larger number can name no row.
BIGINT_MAX = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_object_id(value) -> int | None:
    """The id a client sent, or None when no row could have it (wrong type, zero, negative, too big)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        value = int(value)
    if isinstance(value, int) and 1 <= value <= BIGINT_MAX:
        return value
    return None


class ObjectIdConverter:
    """`<id:pk>` in URLs: ids a row could have; anything else falls through to a JSON 404."""

    regex = "[0-9]{1,19}"

    def to_python(self, value):
        object_id = parse_object_id(value)
        if object_id is None:
            raise ValueError(value)
        return object_id

    def to_url(self, value):
        return str(value)


class ObjectIdRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object by id, refusing ids out of range before they reach the database."""

    def to_internal_value(self, data):
        object_id = parse_object_id(data)
        if object_id is None:
            if isinstance(data, int) and not isinstance(data, bool):
                self.fail("does_not_exist", pk_value=data)
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(object_id)


def coordinate_field(limit: int, **kwargs) -> serializers.DecimalField:
    """A latitude (limit 90) or longitude (limit 180) at any precision a phone's GPS gives."""
    return serializers.DecimalField(
        max_digits=None, decimal_places=None, min_value=Decimal(-limit), max_value=Decimal(limit), **kwargs
    )


class JsonParser(JSONParser):
    """DRF's JSON parser, refusing two bodies it lets through to a 500: one nested too deep for the
    decoder (a RecursionError, which DRF does not catch), and one holding a lone UTF-16 surrogate,
    which fails wherever it is encoded next (the throttle's key, the database, the error reply
    echoing it); that one is refused naming the field it is in."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the body nests too deeply.") from None
        found = unportable_part(data)
        if found:
            path, why = found
            raise exceptions.ValidationError({path or api_settings.NON_FIELD_ERRORS_KEY: [f"This value {why}."]})
        return data


class ApiView(IdempotentWrites, GenericAPIView):
    """An endpoint: validates input with a serializer, calls a service or selector, renders.

    JSON in, JSON out. Query parameters are validated by serializers and filtered by the
    selectors, so no filter backends; the OpenAPI schema, not OPTIONS, describes each endpoint.
    Every unsafe handler honours `Idempotency-Key` (zora/idempotency.py).
    """

    parser_classes = [JsonParser]
    filter_backends = ()
    metadata_class = None

    def validated(self, serializer_class, data) -> dict:
        serializer = serializer_class(data=data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def validated_query(self, serializer_class) -> dict:
        # A plain dict: a QueryDict would make DRF read an absent boolean as False.
        return self.validated(serializer_class, self.request.query_params.dict())

    def render(self, instance, status_code=status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(instance).data, status=status_code)

    def render_page(self, queryset) -> Response:
        """One page of `queryset` in the paginated envelope."""
        return self.get_paginated_response(self.get_serializer(self.paginate_queryset(queryset), many=True).data)


class MarkedReadSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many were newly marked read.")


def object_or_404(queryset, *, message: str = "Not found.", field: str | None = None, **lookup):
    """The one row matching `lookup` in `queryset` (already narrowed to what the user may see)."""
    found = queryset.filter(**lookup).first()
    if found is None:
        raise NotFound(message, field=field)
    return found
