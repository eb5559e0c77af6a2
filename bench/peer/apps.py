from django.apps import AppConfig


class PeerConfig(AppConfig):
    # The module holds two configs; this is the one "bench.peer" in INSTALLED_APPS means.
    default = True
    name = "bench.peer"
    label = "bench_peer"
    verbose_name = "Benchmark peer"

    def ready(self):
        # Observers hook the models' signals when their consumer class is defined: in the
        # server and equally in the writer, whose saves must reach the groups.
        from bench.peer import consumers  # noqa: F401


class RealtimeModelsOnly(AppConfig):
    """The realtime app's models (services import them) without its change capture:
    the peer pays none of the outbox's costs."""

    name = "realtime"
    verbose_name = "Real-time (models only)"
