from django.core.management.base import BaseCommand

from zora.scheduling import run_all_timed_changes


class Command(BaseCommand):
    help = "Apply every timed change that is due now (deadlines, pauses ending, stock restored), once."

    def handle(self, *args, **options):
        for name, applied in run_all_timed_changes().items():
            self.stdout.write(f"{name}: {applied} applied")
