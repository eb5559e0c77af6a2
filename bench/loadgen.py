"""Load generator: many WebSocket clients in one asyncio process, recording what each receives.

Run by bench/run.py, never by hand. It reads a plan (one entry per socket:
URL, protocol, join payload), opens and joins every socket, prints `ready`,
then obeys one command per stdin line:

    drop S   close every socket, remembering the last seq each one saw, at least S: the seq
             its app's state was loaded at (X-Realtime-Seq) when it saw no change yet
    rejoin   reconnect every socket, joining with `since` = that seq
    count    print `count N`: the changes received so far, all sockets together
    stop     close everything, write the results file, print `done`, exit

Each received change is recorded as [table, key, status, seq, receive time]
with time.time(), the same clock the writer stamps commits with.
"""

import argparse
import asyncio
import json
import sys
import time

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake

HEARTBEAT_SECONDS = 25
CONNECT_CONCURRENCY = 50
# realtime-js's reconnectAfterMs, in seconds.
RETRY_DELAYS = (1, 2, 5, 10)


def event_key(table: str, record: dict) -> tuple[str, object, object]:
    """What identifies a change across Zora, the peer and the ceiling: the order and status it is about."""
    if table == "orders":
        return table, record["id"], record["status"]
    if table == "notifications":
        data = record.get("data") or {}
        if "order_id" in data:
            return table, data["order_id"], data.get("status", "pending")
    if table == "products":
        return table, record["id"], record["price"]
    return table, record.get("id"), None


class BenchSocket:
    """One client: Zora's Phoenix protocol (also the ceiling's), or the peer's DCRF actions."""

    def __init__(self, index: int, spec: dict):
        self.index = index
        self.spec = spec
        self.received: list[list] = []
        self.messages = 0
        self.last_seq = 0
        self.connection = None
        self.tasks: list[asyncio.Task] = []
        self.ref = 0
        self.retried = 0

    def _next_ref(self) -> str:
        self.ref += 1
        return str(self.ref)

    async def open(self, *, since: int | None = None) -> None:
        self.connection = await self._connect()
        if self.spec["protocol"] == "dcrf":
            await self.connection.send(json.dumps({"action": "subscribe", "request_id": self.index}))
        else:
            config = dict(self.spec["config"])
            if since is not None:
                config["since"] = since
            ref = self._next_ref()
            join = {"topic": self.spec["topic"], "event": "phx_join", "payload": {"config": config}}
            await self.connection.send(json.dumps({**join, "ref": ref, "join_ref": ref}))
        await self._await_join()
        self.tasks = [asyncio.create_task(self._read())]
        if self.spec["protocol"] == "phoenix":
            self.tasks.append(asyncio.create_task(self._heartbeat()))

    async def _connect(self):
        """Retries a handshake the server dropped, after realtime-js's delays; each retry is counted."""
        for delay in (*RETRY_DELAYS, None):
            try:
                return await connect(self.spec["url"], open_timeout=120, ping_interval=None, max_size=2**22)
            except (InvalidHandshake, OSError):
                if delay is None:
                    raise
                self.retried += 1
                await asyncio.sleep(delay)

    async def _await_join(self) -> None:
        while True:
            message = json.loads(await self.connection.recv())
            if message.get("event") == "phx_reply" or message.get("action") == "subscribe":
                ok = message.get("payload", {}).get("status") == "ok" or message.get("response_status") == 200
                if not ok:
                    raise RuntimeError(f"socket {self.index} join refused: {message}")
                return
            self._record(message)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            await self.connection.send(
                json.dumps({"topic": "phoenix", "event": "heartbeat", "payload": {}, "ref": self._next_ref()})
            )

    async def _read(self) -> None:
        async for text in self.connection:
            self._record(json.loads(text))

    def _record(self, message: dict) -> None:
        now = time.time()
        self.messages += 1
        if message.get("event") == "postgres_changes":
            data = message["payload"]["data"]
            seq = data.get("seq")
            if seq is not None:
                self.last_seq = max(self.last_seq, seq)
            record = data["record"] or data["old_record"]
            self.received.append([*event_key(data["table"], record), seq, now])
        elif message.get("event") == "broadcast":
            self.received.append(["broadcast", message["payload"]["event"], None, None, now])
        elif "table" in message:
            self.received.append([*event_key(message["table"], message["record"]), None, now])

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        if self.connection is not None:
            await self.connection.close()

    def result(self) -> dict:
        return {"index": self.index, "messages": self.messages, "retried": self.retried, "received": self.received}


async def _open_all(sockets: list[BenchSocket], *, resume: bool) -> None:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def open_one(socket: BenchSocket) -> None:
        async with gate:
            await socket.open(since=socket.last_seq if resume else None)

    await asyncio.gather(*(open_one(socket) for socket in sockets))


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def main(plan_path: str, out_path: str) -> None:
    with open(plan_path) as plan_file:
        plan = json.load(plan_file)
    sockets = [BenchSocket(index, spec) for index, spec in plan["sockets"]]
    started = time.time()
    await _open_all(sockets, resume=False)
    _say(f"ready {time.time() - started:.3f}")
    loop = asyncio.get_running_loop()
    marks = {}
    while True:
        command, *arguments = (await loop.run_in_executor(None, sys.stdin.readline)).split() or [""]
        if command == "drop":
            await asyncio.gather(*(socket.close() for socket in sockets))
            for socket in sockets:
                socket.last_seq = max(socket.last_seq, int(arguments[0]) if arguments else 0)
            marks["dropped_at"] = time.time()
            _say("dropped")
        elif command == "count":
            _say(f"count {sum(len(socket.received) for socket in sockets)}")
        elif command == "rejoin":
            marks["rejoin_at"] = time.time()
            await _open_all(sockets, resume=True)
            _say("rejoined")
        elif command in ("stop", ""):
            await asyncio.gather(*(socket.close() for socket in sockets))
            with open(out_path, "w") as out_file:
                json.dump({"marks": marks, "sockets": [socket.result() for socket in sockets]}, out_file)
            _say("done")
            return


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", required=True)
    parser.add_argument("--out", required=True)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.plan, arguments.out))
