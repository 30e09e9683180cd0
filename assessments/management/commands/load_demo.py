from django.core.management.base import BaseCommand

from assessments.demo import DEMO_PASSWORD, DEMO_USERS, load_demo
from assessments.models import Company


class Command(BaseCommand):
    help = (
        "Load the demo portfolio: two funds of fictional companies with two years of dated "
        "evidence, and one demo user per role. Safe to run twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when the database already holds any company",
        )

    def handle(self, *args, if_empty=False, **options):
        if if_empty and Company.objects.exists():
            self.stdout.write("The database already holds companies; the demo was not loaded.")
            return
        result = load_demo()
        if result["evidence"]:
            self.stdout.write(
                f"Loaded {result['companies']} companies in {result['funds']} funds with "
                f"{result['evidence']} evidence rows."
            )
        else:
            self.stdout.write("The demo portfolio is already loaded.")
        self.stdout.write(f"Demo logins (password for each: {DEMO_PASSWORD}):")
        for username, role in DEMO_USERS:
            self.stdout.write(f"  {username:<10} {role.label}")
