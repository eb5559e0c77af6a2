from django.apps import AppConfig


class PeerConfig(AppConfig):
    name = "bench.peer"
    label = "bench_peer"
    verbose_name = "Benchmark peer"

    def ready(self):
        # Observers hook the models' signals when their consumer class is defined: in the
        # server and equally in the writer, whose saves must reach the groups.
        from bench.peer import consumers  # noqa: F401
