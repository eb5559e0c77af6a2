"""Drives one unmodified Supabase Python client (`realtime` on PyPI) for Zora's live protocol tests.

    python client.py '<scenario JSON>'

It speaks the line protocol of ../realtime_js/client.mjs (the same scenario, callbacks as
JSON lines on stdout, commands on stdin), plus:
  - each postgres_changes line carries `binding`, the index of the binding it matched, and
    `payload` is the frame's `data` as the client hands it over (no value conversion);
  - {"id", "op": "subscribe", "spec"} joins one more channel;
  - the scenario's `auto_reconnect` (default true) goes to the client;
  - every warning or error the client logs is a {"type": "log"} line: the client logs, then
    drops, each frame its pydantic models refuse.

It runs in a process of its own because the PyPI package is also named `realtime`, like
Zora's app: it is installed apart (scripts/test.sh, tests/realtime_py/requirements.txt) and
found first on this process's PYTHONPATH, never installed where the server can import it.
"""

import asyncio
import json
import logging
import sys
from importlib.metadata import version

from realtime.types import VSN

from realtime import AsyncRealtimeClient


def emit(message: dict):
    sys.stdout.write(json.dumps(message, default=str) + "\n")
    sys.stdout.flush()


class EmitLogs(logging.Handler):
    def emit(self, record: logging.LogRecord):
        emit({"type": "log", "level": record.levelname, "message": record.getMessage()})


class Driver:
    def __init__(self, scenario: dict):
        self.client = AsyncRealtimeClient(
            scenario["url"], token=scenario["apikey"], auto_reconnect=scenario.get("auto_reconnect", True)
        )
        self.channels = {}

    async def join(self, spec: dict):
        """Joins a channel; returns once the server answered (the status line is out by then)."""
        name = spec["name"]
        config = {
            "broadcast": {"self": False, "ack": False},
            "presence": {"key": "", "enabled": False},
            "private": False,
        }
        for key, value in spec.get("config", {}).items():
            config[key] = {**config[key], **value} if isinstance(value, dict) else value
        channel = self.client.channel(name, {"config": config})
        for index, binding in enumerate(spec.get("postgres_changes", ())):
            channel.on_postgres_changes(
                binding["event"],
                lambda change, index=index: emit(
                    {"type": "postgres_changes", "channel": name, "binding": index, "payload": change["data"]}
                ),
                table=binding.get("table"),
                schema=binding.get("schema"),
                filter=binding.get("filter"),
            )
        for event in spec.get("broadcast", ()):
            channel.on_broadcast(
                event, lambda message: emit({"type": "broadcast", "channel": name, "message": message})
            )
        if spec.get("presence"):
            channel.on_presence_sync(
                lambda: emit({"type": "presence", "channel": name, "event": "sync", "state": channel.presence_state()})
            )
            for event, register in (("join", channel.on_presence_join), ("leave", channel.on_presence_leave)):
                register(
                    lambda key, current, changed, event=event: emit(
                        {"type": "presence", "channel": name, "event": event, "key": key, "presences": changed}
                    )
                )
        channel.on_system(lambda payload: emit({"type": "system", "channel": name, "payload": payload.model_dump()}))
        self.channels[name] = channel
        await channel.subscribe(
            lambda status, error: emit(
                {"type": "status", "channel": name, "status": status.value, "error": error and str(error)}
            )
        )

    def channel(self, name: str):
        if name not in self.channels:
            raise LookupError(f"not joined to {name}")
        return self.channels[name]

    async def broadcast(self, channel: str, event: str, payload: dict) -> str:
        """With `broadcast.ack` the server's answer ("ok"), else "sent" at once, as realtime-js resolves."""
        joined = self.channel(channel)
        push = await joined.push("broadcast", {"type": "broadcast", "event": event, "payload": payload})
        if not joined.params["config"]["broadcast"]["ack"]:
            return "sent"
        answer = asyncio.get_running_loop().create_future()
        for status in ("ok", "error", "timeout"):
            push.receive(status, lambda *_, status=status: answer.done() or answer.set_result(status))
        return await answer

    async def leave(self, channel: str):
        await self.channel(channel).unsubscribe()
        del self.channels[channel]

    async def run_command(self, command: dict):
        operations = {
            "subscribe": lambda: self.join(command["spec"]),
            "broadcast": lambda: self.broadcast(command["channel"], command["event"], command.get("payload") or {}),
            "track": lambda: self.channel(command["channel"]).track(command.get("payload") or {}),
            "set_auth": lambda: self.client.set_auth(command["token"]),
            "leave": lambda: self.leave(command["channel"]),
        }
        reply = {"type": "reply", "id": command.get("id"), "op": command.get("op")}
        if command.get("op") not in operations:
            emit({**reply, "ok": False, "error": f"unknown op {command.get('op')!r}"})
            return
        try:
            emit({**reply, "ok": True, "result": await operations[command["op"]]()})
        except Exception as error:
            emit({**reply, "ok": False, "error": f"{type(error).__name__}: {error}"})


async def main(scenario: dict):
    driver = Driver(scenario)
    if scenario.get("access_token"):
        await driver.client.set_auth(scenario["access_token"])
    for spec in scenario.get("channels", ()):
        await driver.join(spec)
    emit({"type": "ready", "package": f"realtime {version('realtime')}", "vsn": VSN})
    while line := await asyncio.to_thread(sys.stdin.readline):
        try:
            command = json.loads(line)
        except json.JSONDecodeError as error:
            emit({"type": "reply", "id": None, "ok": False, "error": f"not JSON: {error}"})
            continue
        if command.get("op") == "exit":
            break
        await driver.run_command(command)
    await driver.client.close()
    emit({"type": "exited"})


if __name__ == "__main__":
    logging.getLogger("realtime").addHandler(EmitLogs(logging.WARNING))
    asyncio.run(main(json.loads(sys.argv[1])))
