"""The ceiling: a bare asyncio `websockets` server that only forwards ready-made frames.

No database, no channel layer, no authorization, no ordering or resume: a
socket names its audience groups in the query string (`user`, `vendor`,
`admin=1`), answers joins and heartbeats with an ok, and receives every frame
the publisher (the writer, on `/publish`) sends to one of its groups. What
Zora delivers per second is reported as a share of what this can.
"""

import argparse
import asyncio
import json
from collections import defaultdict
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import broadcast, serve

members: dict[str, set] = defaultdict(set)


def _groups(path: str) -> set[str]:
    query = {name: values[-1] for name, values in parse_qs(urlsplit(path).query).items()}
    groups = {"public"}
    if query.get("user"):
        groups.add(f"user.{query['user']}")
    if query.get("vendor"):
        groups.add(f"vendor.{query['vendor']}")
    if query.get("admin") == "1":
        groups.add("staff")
    return groups


async def _publisher(connection) -> None:
    async for text in connection:
        message = json.loads(text)
        recipients = set().union(*(members.get(group, ()) for group in message["audience"]))
        broadcast(recipients, message["frame"])


async def _subscriber(connection) -> None:
    groups = _groups(connection.request.path)
    for group in groups:
        members[group].add(connection)
    try:
        async for text in connection:
            frame = json.loads(text)
            if frame.get("event") == "broadcast":
                broadcast(members["public"], json.dumps({**frame, "ref": None}))
                continue
            reply = {"status": "ok", "response": {}}
            await connection.send(json.dumps({**frame, "event": "phx_reply", "payload": reply}))
    finally:
        for group in groups:
            members[group].discard(connection)


async def _handler(connection) -> None:
    if urlsplit(connection.request.path).path == "/publish":
        await _publisher(connection)
    else:
        await _subscriber(connection)


async def main(port: int) -> None:
    async with serve(_handler, "127.0.0.1", port, ping_interval=None, max_size=2**22) as server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(main(parser.parse_args().port))
