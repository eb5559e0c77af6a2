"""Support mail on the wire: the replies customers receive, and their mail read back in.

Threading follows RFC 5322: each reply carries its own Message-ID, In-Reply-To
(the thread's latest Message-ID) and References (all of the thread's earlier
ones), so mail programs group the conversation and the customer's answer names
the mail it answers, which is how inbound mail finds its thread.
"""

import logging
import re
from dataclasses import dataclass
from email import policy
from email.errors import MessageError
from email.headerregistry import Address
from email.parser import BytesParser
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage as OutgoingMail
from django.core.mail import make_msgid
from django.core.validators import validate_email
from django.utils.html import strip_tags

from zora.errors import InvalidInput

logger = logging.getLogger(__name__)

MESSAGE_ID = re.compile(r"<[^<>\s\x00]+>")
# What EmailMessage.message_id and in_reply_to hold: a longer id names no mail we sent or stored.
MAX_MESSAGE_ID_LENGTH = 255
# "Re:", "RE[2]:", "Fwd:", "Fw:" and the German / Nordic "AW:" / "SV:", however many are stacked.
SUBJECT_PREFIXES = re.compile(r"^\s*(?:(?:re|fwd?|aw|sv)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)
# Where a mail program starts quoting the mail being answered ("On Tue, 4 Mar 2025, Zora wrote:").
QUOTE_INTRO = re.compile(r"^On .+ wrote:$")
NO_SUBJECT = "(no subject)"


def normalized_subject(subject: str) -> str:
    return SUBJECT_PREFIXES.sub("", subject or "").strip()


def reply_subject(subject: str) -> str:
    return f"Re: {normalized_subject(subject)}"


def support_address() -> str:
    """The bare address replies are sent from: SUPPORT_FROM_EMAIL without its display name."""
    return parseaddr(settings.SUPPORT_FROM_EMAIL)[1]


def new_message_id() -> str:
    """A Message-ID on the support address's own domain, so it is unique to us."""
    domain = support_address().rpartition("@")[2] or "zora.test"
    return make_msgid(domain=domain)


def message_ids(header_value) -> list[str]:
    return [found for found in MESSAGE_ID.findall(str(header_value or "")) if len(found) <= MAX_MESSAGE_ID_LENGTH]


def without_quoted_reply(text: str) -> str:
    """What the customer wrote this time: the quoted earlier mail below it is already in the thread."""
    kept = []
    for line in text.splitlines():
        if line.startswith(">") or QUOTE_INTRO.match(line.strip()):
            break
        kept.append(line)
    return "\n".join(kept).strip() or text.strip()


@dataclass(frozen=True)
class InboundMail:
    from_email: str
    subject: str
    body: str
    message_id: str
    in_reply_to: str
    references: tuple[str, ...]

    @property
    def referenced_ids(self) -> list[str]:
        """The mails this one answers, nearest first."""
        ids = [self.in_reply_to] if self.in_reply_to else []
        return ids + [known for known in reversed(self.references) if known not in ids]


def _refused(problem: str) -> InvalidInput:
    return InvalidInput(problem, code="bad_message", field="message")


def _sender_address(mail) -> str:
    try:
        header = mail["From"]
        addresses = getattr(header, "addresses", ()) if header is not None else ()
    except (MessageError, ValueError, IndexError):
        addresses = ()
    address = addresses[0].addr_spec if addresses and isinstance(addresses[0], Address) else ""
    if "@" not in address:
        raise _refused("The message has no sender: its From header names no email address.")
    address = address.strip().lower()
    try:
        validate_email(address)
    except ValidationError:
        raise _refused(f"The message's sender {address!r} (its From header) is not a valid email address.") from None
    return address


def _text_of(mail) -> str:
    part = mail.get_body(preferencelist=("plain", "html"))
    if part is None:
        raise _refused("The message has no text: it needs a text/plain or text/html part.")
    try:
        content = part.get_content()
    except (LookupError, ValueError) as exc:
        raise _refused(f"The message's text cannot be decoded ({exc}).") from None
    if part.get_content_subtype() == "html":
        content = strip_tags(content)
    text = without_quoted_reply(content)
    if not text:
        raise _refused("The message's text is empty.")
    return text


def parse_inbound(raw: bytes) -> InboundMail:
    """Reads a raw RFC 822 mail; refuses, naming the problem, what cannot become a support message."""
    if not raw or not raw.strip():
        raise _refused("The message is empty: send the raw RFC 822 mail.")
    mail = BytesParser(policy=policy.default).parsebytes(raw)
    if not mail.keys():
        raise _refused("The message has no headers: send the raw RFC 822 mail, headers first.")
    from_email = _sender_address(mail)
    replied = message_ids(mail.get("In-Reply-To"))
    inbound = InboundMail(
        from_email=from_email,
        subject=normalized_subject(str(mail.get("Subject", ""))) or NO_SUBJECT,
        body=_text_of(mail),
        message_id=next(iter(message_ids(mail.get("Message-ID"))), ""),
        in_reply_to=replied[0] if replied else "",
        references=tuple(message_ids(mail.get("References"))),
    )
    # The database stores no NUL character: a mail carrying one is refused here, naming where, not by it.
    for part, value in (("subject", inbound.subject), ("text", inbound.body)):
        if "\x00" in value:
            raise _refused(f"The message's {part} holds a NUL character, which cannot be stored.")
    return inbound


def reply_mail(*, subject: str, body: str, to_email: str, message_id: str, references: list[str]) -> OutgoingMail:
    headers = {"Message-ID": message_id}
    if references:
        headers["In-Reply-To"] = references[-1]
        headers["References"] = " ".join(references)
    return OutgoingMail(
        subject=reply_subject(subject),
        body=body,
        from_email=settings.SUPPORT_FROM_EMAIL,
        to=[to_email],
        headers=headers,
    )


def send_quietly(mail: OutgoingMail) -> bool:
    """Runs after the reply committed: the reply stays in the thread (and in the app) even when the
    mail server is down, so a failure is logged for operations rather than undoing the reply."""
    try:
        mail.send()
    except Exception:
        logger.exception("Support reply %s could not be sent", mail.extra_headers.get("Message-ID"))
        return False
    return True
