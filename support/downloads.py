"""Chat images leave the server only through here, for the views that checked who is asking."""

import mimetypes
from pathlib import PurePosixPath

from django.http import FileResponse, Http404

from .models import MessageAttachment


def attachment_response(attachment: MessageAttachment, *, thumbnail: bool) -> FileResponse:
    """The image shown inline but never run: re-encoded when it was uploaded, typed by its detected
    format and not sniffed, sandboxed if opened on its own, cached only by the asker's browser."""
    stored = attachment.thumbnail if thumbnail else attachment.file
    content_type = mimetypes.guess_type(stored.name)[0] if thumbnail else attachment.content_type
    try:
        content = stored.open("rb")
    except FileNotFoundError:
        raise Http404("The image is no longer stored.") from None
    response = FileResponse(
        content, content_type=content_type, filename=f"photo-{attachment.pk}{PurePosixPath(stored.name).suffix}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=86400"
    return response
