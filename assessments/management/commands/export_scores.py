from django.core.management.base import BaseCommand, CommandError

from assessments import selectors
from assessments.exports import csv as score_csv
from assessments.models import Fund

from ...selectors import portfolio as portfolio_selectors
from ._dates import add_as_of


class Command(BaseCommand):
    help = (
        "Write every task's and company's scores as CSV on standard output, computed from the "
        "evidence as of a date (default today) with the active rubric."
    )

    def add_arguments(self, parser):
        add_as_of(parser)
        parser.add_argument("--fund", help="only this fund (by name)")

    def handle(self, *args, as_of=None, fund=None, **options):
        if fund and not Fund.objects.filter(name=fund).exists():
            raise CommandError(f"No fund named {fund!r}.")
        as_of = as_of or selectors.today()
        rubric = selectors.active_rubric_version().to_rubric()
        lines = portfolio_selectors.score_lines(as_of=as_of, fund_name=fund)
        score_csv.write_scores_csv(self.stdout, lines, rubric)
