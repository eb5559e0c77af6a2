"""Calling the channel layer from synchronous code without paying for a new event loop each time.

`async_to_sync`, called from a thread that no event loop lent out, runs the
coroutine in a brand-new loop, and channels-redis opens a new Redis pool for
every loop it sees: a fresh connection and a few milliseconds on every
commit's publish. Redis layers are instead driven here from one long-lived
loop per process, on its own thread, so their connections stay open.

The in-memory layer (the embedded single-process run) keeps `async_to_sync`:
its queues belong to the server's loop and must only be touched from it.
"""

import asyncio
import os
import threading

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None


def _layer_loop() -> asyncio.AbstractEventLoop:
    """This process's publishing loop; a forked child starts its own."""
    global _loop, _loop_pid
    with _lock:
        if _loop is None or _loop_pid != os.getpid():
            _loop, _loop_pid = asyncio.new_event_loop(), os.getpid()
            threading.Thread(target=_loop.run_forever, name="channel-layer-loop", daemon=True).start()
        return _loop


def run_on_layer_loop(coroutine_function, *args):
    """Runs `coroutine_function(*args)` to completion and returns its result, from synchronous code."""
    if isinstance(get_channel_layer(), InMemoryChannelLayer):
        return async_to_sync(coroutine_function)(*args)
    return asyncio.run_coroutine_threadsafe(coroutine_function(*args), _layer_loop()).result()
