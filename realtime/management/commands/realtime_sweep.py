from django.core.management.base import BaseCommand

from realtime.relay import relay_sweep
from realtime.selectors import high_water_seq, oldest_retained_seq, relay_backlog


class Command(BaseCommand):
    help = (
        "Run the real-time relay's sweep once: number and publish every committed event, re-publish any "
        "left unconfirmed, prune events older than REALTIME_RETENTION_HOURS. Server processes do this "
        "every REALTIME_SWEEP_SECONDS; this is for operators and for deployments with no server running."
    )

    def handle(self, *args, **options):
        published = relay_sweep()
        backlog = relay_backlog()
        self.stdout.write(
            f"published {published} event(s); high-water seq {high_water_seq()}; "
            f"oldest retained seq {oldest_retained_seq()}; {backlog.events} still waiting"
        )
