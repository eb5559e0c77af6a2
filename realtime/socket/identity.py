"""Who is on the other end of a socket, and which audience groups they read.

A socket proves who it is with the Django session (portal pages), or with an
API token given as the `apikey` query parameter, in a join's `access_token`,
or in an `access_token` message. The configured public key alone makes an
anonymous socket that reads only `public` rows.

The session is an ambient credential: a browser attaches the cookie to any
page's socket. So a socket that carries an `Origin` header (every browser
sends one) must come from one of ALLOWED_HOSTS; a socket without one is a
native client and can only prove itself with a token, which no other site
can make it send.
"""

import secrets
from dataclasses import dataclass

from channels.security.websocket import OriginValidator
from django.conf import settings

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


def identity_for_user(user) -> Identity:
    """A suspended or deactivated user reads what an anonymous socket reads."""
    groups = groups_for_user(user)
    if user is None or not user.is_authenticated or groups == ANONYMOUS.groups:
        return ANONYMOUS
    return Identity(user=user, groups=groups)


def is_public_key(key: str) -> bool:
    return secrets.compare_digest(key.encode(), settings.REALTIME_PUBLIC_KEY.encode())


def identity_for_token(key: str) -> Identity | None:
    """The token's user, ANONYMOUS for the public key, None when the key is neither."""
    if is_public_key(key):
        return ANONYMOUS
    user = api_token_user(key=key)
    return None if user is None else identity_for_user(user)


class BrowserOriginValidator(OriginValidator):
    """Refuses browser sockets from sites outside ALLOWED_HOSTS, so no other site can
    ride a signed-in user's session cookie; sockets without an Origin are native clients."""

    def __init__(self, application):
        super().__init__(application, settings.ALLOWED_HOSTS)

    def valid_origin(self, parsed_origin) -> bool:
        return parsed_origin is None or self.validate_origin(parsed_origin)
