"""Offline-safe writes: an `Idempotency-Key` makes a replayed API write answer as the first did and change nothing.

The app queues its writes while the phone is offline and sends them when it is
back, and sends one again whenever it did not see the answer (a timeout, a
dropped connection after the server committed). So every unsafe call under
/api/v1/ (POST, PUT, PATCH, DELETE) by a signed-in user may carry the header,
as checkout always could, and each such call runs in one transaction with the
record of its answer (`accounts.IdempotentRequest`):

- The record is inserted first, under a unique (user, key) index. A second
  call with the key while the first runs waits on that index: when the first
  commits, the second answers with the first's stored response; when it rolled
  back, the second runs as if it were the first. Exactly one call has the
  effect, and there is no "in progress" answer to handle. This is checkout's
  own claim (`orders.services._checkout_claim`), made general.
- The handler runs in a savepoint. A 2xx keeps its writes and a 4xx has them
  rolled back (a refused write leaves nothing half-done); either way its
  answer is stored, byte for byte, with the writes it kept. A 5xx rolls
  everything back, record included, so a retry with the key runs again.
- The record holds the method, the path and a digest of the body as parsed
  (JSON key order and spacing do not matter; uploaded files count by
  content). The same key with any other of them is refused with 422, since
  answering another request's response would be wrong either way.
- Keys are per user, and only for signed-in calls: sign-in, sign-up and the
  password reset answer with tokens or secrets that must not be stored, and
  are safe to repeat without a key; an anonymous call sending the header is
  refused with 400 instead of being silently unprotected.
- Records older than IDEMPOTENCY_KEY_TTL_HOURS no longer count and are
  pruned by a timed change (accounts/timed.py).

Checkout keeps its own `Checkout.idempotency_key` as well: its orders stay
tied to the key after the window has passed.
"""

import hashlib
import json
import logging
from contextlib import ExitStack
from datetime import timedelta

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpResponse, JsonResponse, QueryDict
from django.utils import timezone
from rest_framework import serializers

from accounts.models import IdempotentRequest
from zora.errors import InvalidInput, RuleViolation

logger = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"
KEY_MAX_LENGTH = 255
# Set on an answer that is a stored one, so the app (and a person debugging it) can tell.
REPLAYED_HEADER = "Idempotent-Replayed"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Seconds a client is told to wait when the answer could not be committed with its record.
RETRY_AFTER_SECONDS = 1
PRUNE_BATCH = 2000


class IdempotencyKeySerializer(serializers.Serializer):
    """Validates the request headers, so an error names the header itself."""

    def get_fields(self):
        return {IDEMPOTENCY_HEADER: serializers.CharField(max_length=KEY_MAX_LENGTH, required=False)}


def request_key(request) -> str | None:
    """The request's valid Idempotency-Key, None without one; a malformed one is a 400 naming the header."""
    if request.method not in UNSAFE_METHODS or IDEMPOTENCY_HEADER not in request.headers:
        return None
    serializer = IdempotencyKeySerializer(data=request.headers)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data[IDEMPOTENCY_HEADER]


def keys_expire_before(now=None):
    return (now or timezone.now()) - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)


def _canonical(value):
    """The parsed body as JSON-able data; an upload stands for its name and the SHA-256 of its content."""
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return {"file": value.name, "sha256": digest.hexdigest()}
    if isinstance(value, QueryDict):
        return {name: [_canonical(item) for item in items] for name, items in value.lists()}
    if isinstance(value, dict):
        return {str(name): _canonical(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    return value


def body_digest(request) -> str:
    """SHA-256 of the body as the view will see it (reading it may refuse it: 400, 413, 415)."""
    canonical = json.dumps(_canonical(request.data), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class _Replay(Exception):
    """Ends the request early with the stored answer (raised from `initial`, turned into that answer)."""

    def __init__(self, response):
        super().__init__("replayed")
        self.response = response


def _stored_response(record: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(bytes(record.body), status=record.status_code)
    if record.content_type:
        response["Content-Type"] = record.content_type
    else:
        del response["Content-Type"]
    response[REPLAYED_HEADER] = "true"
    return response


def _refuse_reuse(record: IdempotentRequest, *, method: str, path: str):
    used_for = f"{record.method} {record.path}"
    differs = "with another body" if (record.method, record.path) == (method, path) else f"for {used_for}"
    raise RuleViolation(
        f"This {IDEMPOTENCY_HEADER} was already used {differs}: make a new key for each new write, "
        "and send the same key only with an exact repeat of its request.",
        code="idempotency_key_reused",
        field=IDEMPOTENCY_HEADER,
        used_for=used_for,
    )


class _IdempotentWrite:
    """One keyed write: its transaction, its claim on the key, the savepoint its handler runs in."""

    def __init__(self, request, key: str):
        self.user = request.user
        self.key = key
        self.method = request.method
        self.path = request.get_full_path()
        self.body_digest = body_digest(request)
        self._transaction: ExitStack | None = None

    def begin(self) -> None:
        """Claims the key, or raises the earlier answer (`_Replay`) or the refusal of a reused key."""
        stack = ExitStack()
        stack.enter_context(transaction.atomic())  # SQLite takes its write lock here, and may time out
        self._transaction = stack
        try:
            earlier = self._claim()
        except BaseException as exc:
            self._end_with(exc)
            raise
        if earlier is None:
            self._savepoint = transaction.savepoint()
            return
        self._end_with(None)
        if (earlier.method, earlier.path, earlier.body_digest) != (self.method, self.path, self.body_digest):
            _refuse_reuse(earlier, method=self.method, path=self.path)
        raise _Replay(_stored_response(earlier))

    def _claim(self) -> IdempotentRequest | None:
        """Inserts this call's record and returns None, or returns the committed record of an earlier call."""
        mine = {"user": self.user, "key": self.key}
        earlier = IdempotentRequest.objects.filter(**mine).first()
        if earlier is not None and earlier.created_at >= keys_expire_before():
            return earlier
        if earlier is not None:
            earlier.delete()
        try:
            with transaction.atomic():
                # The answer's fields are filled in by `end`, in this same transaction: no other
                # transaction ever sees the record without them.
                self.record = IdempotentRequest.objects.create(
                    **mine,
                    method=self.method,
                    path=self.path,
                    body_digest=self.body_digest,
                    status_code=0,
                    body=b"",
                )
            return None
        except IntegrityError:
            # Another call with this key committed while this insert waited for it.
            return IdempotentRequest.objects.get(**mine)

    def end(self, response):
        """Keeps or rolls back the handler's writes by its answer's status, stores the answer, commits."""
        if self._transaction is None:
            return response
        status = response.status_code
        try:
            if 200 <= status < 300 or 400 <= status < 500:
                keep = transaction.savepoint_commit if status < 300 else transaction.savepoint_rollback
                keep(self._savepoint)
                self._store(response)
            else:
                transaction.set_rollback(True)
        except DatabaseError as exc:
            self._end_with(exc)
            return self._unavailable(exc)
        except BaseException as exc:
            self._end_with(exc)
            raise
        try:
            self._end_with(None)
        except DatabaseError as exc:
            return self._unavailable(exc)
        return response

    def _store(self, response) -> None:
        if hasattr(response, "render"):
            response.render()
        self.record.status_code = response.status_code
        self.record.content_type = response.get("Content-Type", "")
        self.record.body = response.content
        self.record.save(update_fields=["status_code", "content_type", "body"])

    def abandon(self, exc: BaseException) -> None:
        """Rolls back when an error escaped the view (DRF turns nearly all of them into answers)."""
        if self._transaction is not None:
            self._end_with(exc)

    def _end_with(self, exc: BaseException | None) -> None:
        stack, self._transaction = self._transaction, None
        if exc is None:
            stack.close()
        else:
            stack.__exit__(type(exc), exc, exc.__traceback__)

    @staticmethod
    def _unavailable(exc) -> JsonResponse:
        logger.warning("an idempotent API write could not be committed: %s", exc)
        response = JsonResponse(
            {
                "error": {
                    "code": "unavailable",
                    "message": "The service is briefly unavailable; retry with the same key.",
                }
            },
            status=503,
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


class IdempotentWrites:
    """Mixed into the API's base view: every unsafe handler honours `Idempotency-Key`.

    The key is looked at after authentication, permissions and rate limits, so
    a 401 or a 429 is never stored, and those run outside the key's
    transaction: nothing they write waits on a long request.
    """

    idempotent_write: _IdempotentWrite | None = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        key = request_key(request)
        if key is None or not hasattr(self, request.method.lower()):
            return
        if not request.user.is_authenticated:
            raise InvalidInput(
                f"{IDEMPOTENCY_HEADER} is for signed-in calls only; this one is safe to repeat without it.",
                code="idempotency_key_needs_sign_in",
                field=IDEMPOTENCY_HEADER,
            )
        self.idempotent_write = _IdempotentWrite(request, key)
        self.idempotent_write.begin()

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            return exc.response
        return super().handle_exception(exc)

    def dispatch(self, request, *args, **kwargs):
        try:
            response = super().dispatch(request, *args, **kwargs)
        except BaseException as exc:
            if self.idempotent_write is not None:
                self.idempotent_write.abandon(exc)
            raise
        if self.idempotent_write is not None:
            return self.idempotent_write.end(response)
        return response


def idempotent_requests_prune(*, now=None) -> int:
    """Deletes the records past the window, a batch at a time so no statement holds locks for long."""
    cutoff = keys_expire_before(now)
    deleted = 0
    while True:
        batch = list(IdempotentRequest.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:PRUNE_BATCH])
        if not batch:
            return deleted
        deleted += IdempotentRequest.objects.filter(pk__in=batch).delete()[0]
