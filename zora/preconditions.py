"""Stale writes from the app: a write made on data the phone loaded earlier says which version it saw.

The app edits what it last loaded, perhaps hours before, offline. Where a
write replaces a value (a product's details, a stock-take, a cart line's
quantity, the profile, the shop's reply to a review), sending it blindly
would silently undo whatever changed since. So such a write may carry the
`updated_at` the app saw, as `If-Match: "<updated_at>"` or as
`expected_updated_at` in the body. The service compares it with the row
under its lock, like the portals' `seen_version` (zora/versions.py), and a
mismatch is refused with 409 `stale_version` whose `details.current` is the
object as the endpoint would answer now, so the app can show or re-apply
its change without another request. Without either, the write is
last-write-wins, as before. (Order moves have `expected_status` instead.)
"""

from collections.abc import Callable
from contextlib import contextmanager

from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from zora.errors import Conflict, InvalidInput
from zora.versions import version_at

IF_MATCH_HEADER = "If-Match"
EXPECTED_FIELD = "expected_updated_at"
STALE_CODE = "stale_version"

IF_MATCH_PARAMETER = OpenApiParameter(
    IF_MATCH_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=f'The `updated_at` the app saw, e.g. `"2026-05-01T09:30:00.123456Z"` (or send `{EXPECTED_FIELD}`): '
    "409 `stale_version`, with the current state in `error.details.current`, when it has changed since.",
)


class ExpectedVersionSerializer(serializers.Serializer):
    """Input of a write that may say which version of its object the app saw."""

    expected_updated_at = serializers.DateTimeField(
        required=False,
        help_text="The object's `updated_at` as the app saw it; refused with 409 `stale_version` if it changed since.",
    )


def seen_version(request, data: dict) -> str | None:
    """The version the write was made on, from `If-Match` or `expected_updated_at` (taken out of `data`)."""
    moments = []
    header = request.headers.get(IF_MATCH_HEADER, "").strip()
    if header and header != "*":
        try:
            moments.append(serializers.DateTimeField().run_validation(header.strip('"')))
        except serializers.ValidationError:
            raise InvalidInput(
                f'{IF_MATCH_HEADER} takes the `updated_at` you saw, in quotes: "2026-05-01T09:30:00.123456Z".',
                field=IF_MATCH_HEADER,
            ) from None
    if data.get(EXPECTED_FIELD) is not None:
        moments.append(data.pop(EXPECTED_FIELD))
    if len({version_at(moment) for moment in moments}) > 1:
        raise InvalidInput(
            f"{IF_MATCH_HEADER} and {EXPECTED_FIELD} name different versions; send one of them.",
            field=IF_MATCH_HEADER,
        )
    return version_at(moments[0]) if moments else None


@contextmanager
def answering_stale_writes(request, current: Callable[[], object]):
    """Completes a `stale_version` refusal raised inside the block for the app: the field it sent,
    and `details.current`, the object as it is now (rendered after the refused write rolled back)."""
    try:
        yield
    except Conflict as refusal:
        if refusal.code != STALE_CODE:
            raise
        refusal.field = IF_MATCH_HEADER if request.headers.get(IF_MATCH_HEADER, "").strip() else EXPECTED_FIELD
        refusal.message = (
            "This has changed since the version you sent; nothing was changed. `details.current` is how it is now: "
            "apply your change to that and send it with its `updated_at`, or drop it."
        )
        refusal.details["current"] = current()
        raise
