"""Who is on the other end of a socket, and which audience groups they read.

A socket proves who it is with the Django session (portal pages), or with an
API token given as the `apikey` query parameter, in a join's `access_token`,
or in an `access_token` message. The configured public key alone makes an
anonymous socket that reads only `public` rows.

The socket keeps the credential itself, not just the identity it proved: a
token can be revoked, a session can end and an account can be suspended
while the socket stays open, so each access change of its user makes the
socket read the credential again (`identity_for`). Reading it has no side
effects: unlike Django's own session check, a session that no longer
verifies is not flushed from here, since a socket must never sign its user
out of the page that opened it.

The session is an ambient credential: a browser attaches the cookie to any
page's socket. So a socket that carries an `Origin` header (every browser
sends one) must come from a page of this site (the Origin names the Host the
socket was opened to) or of a site in REALTIME_ALLOWED_ORIGINS; a socket
without one is a native client and can only prove itself with a token, which
no other site can make it send.
"""

import secrets
from dataclasses import dataclass
from importlib import import_module
from urllib.parse import ParseResult, urlparse

from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model, load_backend
from django.utils.crypto import constant_time_compare

from accounts.selectors import api_token_user
from realtime.policies import PUBLIC, STAFF, groups_for_user


@dataclass(frozen=True)
class Identity:
    user: object | None
    groups: frozenset[str]

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None

    @property
    def is_admin(self) -> bool:
        return STAFF in self.groups

    @property
    def user_id(self):
        return None if self.user is None else self.user.pk


ANONYMOUS = Identity(user=None, groups=frozenset({PUBLIC}))


@dataclass(frozen=True)
class Credential:
    """What a socket proved who it is with: the public key, an API token or a session (by its key)."""

    kind: str
    secret: str = ""

    def __repr__(self):
        # The secret never reaches a log line.
        return f"Credential({self.kind})"


PUBLIC_KEY = "public key"
TOKEN = "token"
SESSION = "session"
PUBLIC_CREDENTIAL = Credential(PUBLIC_KEY)


def is_public_key(key: str) -> bool:
    return secrets.compare_digest(key.encode(), settings.REALTIME_PUBLIC_KEY.encode())


def identity_for(credential: Credential) -> Identity | None:
    """The identity `credential` proves as the database has it now; None when it proves nothing
    any more: a revoked or unknown token, an ended session, a suspended or deactivated account."""
    if credential.kind == PUBLIC_KEY:
        return ANONYMOUS
    if credential.kind == TOKEN:
        user = api_token_user(key=credential.secret)
    else:
        user = _session_user(credential.secret)
    if user is None:
        return None
    groups = groups_for_user(user)
    return None if groups == ANONYMOUS.groups else Identity(user=user, groups=groups)


def _session_user(session_key: str):
    """The user the session still signs in, checked as channels.auth.get_user checks it at connect:
    the session exists and has not expired, its backend accepts the user (ActiveAccountBackend
    refuses a suspended one), and its password hash is the user's current one."""
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    try:
        user_id = get_user_model()._meta.pk.to_python(session[SESSION_KEY])
        backend_path = session[BACKEND_SESSION_KEY]
    except KeyError:
        return None
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    user = load_backend(backend_path).get_user(user_id)
    if user is None or not constant_time_compare(session.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()):
        return None
    return user


class BrowserOriginValidator(OriginValidator):
    """Refuses browser sockets opened by other sites' pages, so none can ride a signed-in user's
    session cookie; sockets without an Origin are native clients.

    A page of this site is one whose Origin names the host and port the socket was opened to (its
    Host header); REALTIME_ALLOWED_ORIGINS adds other sites' pages. ALLOWED_HOSTS plays no part:
    it says which names this site answers to, not whose pages may use its cookies, and it is
    often `*` behind a proxy.
    """

    def __init__(self, application):
        super().__init__(application, allowed_origins=())

    async def __call__(self, scope, receive, send):
        origin, host = _header(scope, b"origin"), _header(scope, b"host")
        if origin is None or self.allows(urlparse(origin), host or ""):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)

    def allows(self, origin: ParseResult, host: str) -> bool:
        listed = settings.REALTIME_ALLOWED_ORIGINS
        return _same_origin(origin, host) or any(self.match_allowed_origin(origin, pattern) for pattern in listed)


def _header(scope, name: bytes) -> str | None:
    for header_name, value in scope.get("headers", []):
        if header_name == name:
            return value.decode("latin1")
    return None


def _same_origin(origin: ParseResult, host: str) -> bool:
    """Whether the Origin's host and port are the Host's (a port left out is the scheme's default)."""
    if origin.scheme not in ("http", "https"):
        return False  # "null" (sandboxed frames, files) and anything stranger
    default_port = 443 if origin.scheme == "https" else 80
    requested = urlparse("//" + host)
    try:
        origin_port, requested_port = origin.port or default_port, requested.port or default_port
    except ValueError:  # a port that is not a number
        return False
    return bool(origin.hostname) and (origin.hostname, origin_port) == (requested.hostname, requested_port)
