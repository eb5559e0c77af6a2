"""Backpressure for WebSocket frames sent under daphne.

ASGI lets a server make `send` wait until the client can take more, and
uvicorn does; daphne does not: its `send` hands the frame to Twisted, which
keeps whatever the client has not read in the connection's buffer, without
limit. A client that stopped reading (an app frozen in the background, a
phone whose network went away without a close) grew the server's memory by
every event sent to it until a timeout closed the socket, and a `since`
replay of thousands of events was buffered whole, however slow the client.

`install()` makes daphne's `send` of a WebSocket frame return only once the
connection's buffer is no longer over Twisted's high-water mark
(`bufferSize`, 64 KiB). Twisted marks a connection's producer paused
(`producerPaused`) when its buffer passes that mark and clears it once the
buffer has drained; daphne's HTTP channel is that producer for every
connection it upgrades. So a socket waits on a slow client as on any awaited
write: its events back up in its dispatcher queue, which is bounded
(realtime/socket/dispatcher.py), and a client that does not read is closed
there and resumes with `since`. A transport without that flag (TLS or
HTTP/2 wrappers) is not waited on, as before.
"""

import asyncio

DRAIN_POLL_SECONDS = 0.02


def install() -> None:
    """Wraps daphne's reply path once per process; harmless when another server runs the app."""
    from daphne.server import Server

    if getattr(Server.handle_reply, "waits_for_drain", False):
        return
    send_without_waiting = Server.handle_reply

    async def handle_reply(self, protocol, message):
        await send_without_waiting(self, protocol, message)
        if message.get("type") == "websocket.send":
            await _drained(protocol)

    handle_reply.waits_for_drain = True
    Server.handle_reply = handle_reply


async def _drained(protocol) -> None:
    """Returns once the connection's send buffer is under the high-water mark, or the connection is gone."""
    while (transport := protocol.transport) is not None and transport.connected:
        if not getattr(transport, "producerPaused", False):
            return
        await asyncio.sleep(DRAIN_POLL_SECONDS)
