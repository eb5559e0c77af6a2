"""Who the socket reads as, and how that follows the changes of its user's access.

At connect the socket settles on a credential: an API token in `apikey`, the
session of a signed-in page, or the public key alone. An `access_token`
(in a join or a message) replaces it, and is read again each time it is sent.

A user's access changes while their sockets stay open: a token is revoked
(signing out), a session ends, the account is suspended, a shop membership,
a shop's activation or the admin flag changes. Each such change commits an
access event (realtime/capture.py) that reaches every process's dispatcher
in seq order with all other events. The socket then reads its credential
again from the database: if it no longer proves anything, the socket tells
its channels why and closes with 4001; otherwise it follows the identity's
new groups, and the channels that identity may not have end.

Three places could let an event committed after the change through under
the old rights; each is closed here or in the dispatcher:

- between the change and the socket's reading of it, events queue by the
  old groups: the dispatcher holds the socket (queues it everything) from
  the access event on, and the socket delivers only what its new groups
  allow once it has read them;
- a `since` replay runs ahead of the live queue: it meets the access event
  in the outbox and reads the identity there, before going on;
- a socket reads its identity before it subscribes: the dispatcher's
  memory of recent access events says whether one slipped in between.

`resolved_after` is the last seq handed out before the identity in force was
read, so an access event at or below it is already reflected and is skipped.
"""

from channels.db import database_sync_to_async

from realtime.policies import vendor_ids_of_groups
from realtime.protocol.framing import ClientFrame
from realtime.socket.channels import JoinedChannel, refusal_for
from realtime.socket.dispatcher import process_dispatcher
from realtime.socket.frames import CLOSE_UNAUTHORIZED
from realtime.socket.identity import (
    ANONYMOUS,
    PUBLIC_CREDENTIAL,
    SESSION,
    TOKEN,
    Credential,
    Identity,
    identity_for,
    is_public_key,
)

# Why a socket is closed when the credential it reads with stops proving anything.
ENDED = {
    TOKEN: "the access token was revoked, or its account suspended: sign in again",
    SESSION: "the session has ended (signed out, expired or suspended): sign in again",
}
INVALID_APIKEY = "apikey is neither the public key nor a valid API token"
NO_IDENTITY = "connect with ?apikey=<public key or API token>, or from a signed-in page"


class AccessMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # What the connection itself proved (session or apikey); an access_token may override it.
        self.connection_credential = PUBLIC_CREDENTIAL
        self.credential = PUBLIC_CREDENTIAL
        self.identity = ANONYMOUS
        self.resolved_after = 0

    async def _authenticate(self, apikey: str) -> bool:
        """Settles the connection's identity and subscribes the socket at the process's dispatcher;
        refuses the socket (and returns False) when the connection proves no identity."""
        credential = self._connection_credential(apikey)
        if credential is None:
            await self._refuse(CLOSE_UNAUTHORIZED, NO_IDENTITY)
            return False
        self.dispatcher = process_dispatcher()
        # Before the identity is read: what the dispatcher hands out from here on is what it may miss.
        await self.dispatcher.ready()
        identity = await self._read_identity(credential)
        if identity is not None:
            self.subscription = await self.dispatcher.subscribe(identity.groups, evict=self._evict)
            # Read again, subscribed, when the user's access changed before the socket was subscribed,
            # or when subscribing found the stream restarted (the seq the read was made at is void).
            restarted = self.dispatcher.last < self.resolved_after
            if restarted or self.dispatcher.access_changed(identity.groups, after=self.resolved_after):
                identity = await self._read_identity(credential)
        if identity is None:
            await self._refuse(CLOSE_UNAUTHORIZED, INVALID_APIKEY if credential.kind == TOKEN else ENDED[SESSION])
            return False
        self.connection_credential = self.credential = credential
        self.identity = identity
        return True

    def _connection_credential(self, apikey: str) -> Credential | None:
        """An apikey that is a token, else a signed-in session, else the public key; None: nothing."""
        if apikey and not is_public_key(apikey):
            return Credential(TOKEN, apikey)
        session_user = self.scope.get("user")
        if session_user is not None and session_user.is_authenticated:
            return Credential(SESSION, self.scope["session"].session_key)
        return PUBLIC_CREDENTIAL if apikey else None

    async def _read_identity(self, credential: Credential) -> Identity | None:
        """The identity `credential` proves now (None: nothing any more). A subscribed socket is held
        while the database is read, and follows the identity's groups once it has one."""
        observed = self.dispatcher.last
        if self.subscription is not None:
            self.dispatcher.hold(self.subscription)
        try:
            identity = await database_sync_to_async(identity_for)(credential)
        except Exception:
            if self.subscription is not None:
                # The socket keeps the identity it had, and so its groups: the hold ends.
                self.dispatcher.regroup(self.subscription, self.subscription.groups)
            raise
        if identity is not None:
            self.resolved_after = observed
            if self.subscription is not None:
                self.dispatcher.regroup(self.subscription, identity.groups)
        return identity

    async def _access_changed(self, event) -> bool:
        """An access event of the socket's user, live or met in a replay; returns whether the socket
        stays open."""
        if event.seq <= self.resolved_after:
            return True
        identity = await self._read_identity(self.credential)
        if identity is None:
            reason = ENDED[self.credential.kind]
            for channel in list(self.channels.values()):
                await self._system(channel, "system", "error", reason)
            await self._refuse(CLOSE_UNAUTHORIZED, reason)
            return False
        await self._take_identity(identity)
        return True

    async def _access_token(self, frame: ClientFrame, channel: JoinedChannel) -> None:
        token = frame.payload.get("access_token")
        if not isinstance(token, str):
            await self._reply_error(frame, "access_token message needs {access_token: <token>}")
            return
        if not await self._reauthorize(token) and channel.topic in self.channels:
            await self._system(
                channel, "system", "error", "access_token is invalid or revoked: this socket now reads public rows only"
            )

    async def _reauthorize(self, token: str) -> bool:
        """Switch the socket to the identity `token` proves; an invalid token leaves it anonymous
        and ends the channels that were authorized for a user. The token is checked again even
        when unchanged, since it may have been revoked since."""
        credential = self.connection_credential if is_public_key(token) else Credential(TOKEN, token)
        identity = await self._read_identity(credential)
        valid = identity is not None
        if not valid:
            credential, identity = PUBLIC_CREDENTIAL, ANONYMOUS
            self.dispatcher.regroup(self.subscription, identity.groups)
        self.credential = credential
        await self._take_identity(identity, token_refused=not valid)
        return valid

    async def _take_identity(self, identity: Identity, *, token_refused: bool = False) -> None:
        """The socket now reads as `identity` (its subscription already follows it): every channel
        it may not have ends, and realtime:online shows the user and shops it now stands for."""
        previous, self.identity = self.identity, identity
        for channel in list(self.channels.values()):
            refusal = refusal_for(channel.topic, private=channel.private, identity=identity)
            if refusal is None and token_refused and channel.joined_as is not None:
                refusal = "access_token is invalid or revoked: rejoin with a valid token"
            if refusal is not None:
                await self._system(channel, "system", "error", refusal)
                await self._close_channel(channel)
        shops = vendor_ids_of_groups(identity.groups)
        if previous.user_id != identity.user_id or vendor_ids_of_groups(previous.groups) != shops:
            await self._untrack_online()
            await self._track_online()
