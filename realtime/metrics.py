"""Prometheus metrics of the real-time layer, served by `/metrics`.

One module owns every metric so that the relay, the socket consumer and the
sweep count into the same registry; each server process exposes its own
numbers (scrape every process, sum in Prometheus).
"""

from prometheus_client import Counter, Gauge

SOCKETS_OPEN = Gauge("zora_realtime_sockets_open", "WebSocket connections open in this process.")
CHANNELS_JOINED = Gauge("zora_realtime_channels_joined", "Realtime channels joined on this process's sockets.")

EVENTS_CAPTURED = Counter(
    "zora_realtime_events_captured_total", "Change events written to the outbox, by table.", ["table"]
)
EVENTS_PUBLISHED = Counter(
    "zora_realtime_events_published_total", "Change events the relay numbered and sent to the channel layer."
)
EVENTS_DELIVERED = Counter("zora_realtime_events_delivered_total", "postgres_changes frames sent to WebSocket clients.")
REPLAYS = Counter("zora_realtime_replays_total", "Replays served after a resume (socket join or REST catch-up).")
REPAIRS = Counter(
    "zora_realtime_repairs_total", "Gaps in the event stream this process's dispatcher filled from the outbox."
)
REPAIRED_EVENTS = Counter(
    "zora_realtime_repaired_events_total", "Events the dispatcher read from the outbox to fill gaps."
)

RELAY_LAG_SEQ = Gauge(
    "zora_realtime_relay_lag_seq", "Committed events not yet numbered by the relay, at its last look."
)
RELAY_LAG_SECONDS = Gauge(
    "zora_realtime_relay_lag_seconds", "Age of the oldest event the relay published in its last batch."
)
