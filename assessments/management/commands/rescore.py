from django.core.management.base import BaseCommand

from assessments import selectors

from ... import recompute
from ._dates import add_as_of


class Command(BaseCommand):
    help = (
        "Re-score every task and company from its evidence with the active rubric. With --as-of, "
        "records snapshots as of that date; current scores change only for today's date."
    )

    def add_arguments(self, parser):
        add_as_of(parser)

    def handle(self, *args, as_of=None, **options):
        as_of = as_of or selectors.today()
        count = recompute.rescore_everything(as_of=as_of)
        self.stdout.write(f"Re-scored {count} tasks as of {as_of}.")
