from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from assessments.imports import ImportRejected, count_rows, import_evidence, parse_evidence_csv


class Command(BaseCommand):
    help = (
        "Import evidence from a CSV file (header row; columns fund, company, sector, stage, task, "
        "task_weight, factor, stance, strength, confidence, observed_on, verified, source, note in "
        "any order). All or nothing: one bad row imports nothing. Then scores are recomputed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the CSV file")
        parser.add_argument("--user", required=True, help="username recorded as author")

    def handle(self, *args, file: Path, user: str, **options):
        User = get_user_model()
        try:
            author = User.objects.get(username=user)
        except User.DoesNotExist as missing:
            raise CommandError(f"No user named {user!r}.") from missing
        if not file.is_file():
            raise CommandError(f"{file} is not a file.")
        if file.stat().st_size > settings.MAX_UPLOAD_BYTES:
            raise CommandError(f"{file} is larger than {settings.MAX_UPLOAD_BYTES} bytes.")
        try:
            text = file.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as bad:
            raise CommandError(f"{file} is not UTF-8 text: {bad}") from bad
        total = count_rows(text)

        def checked(rows: int) -> None:
            # One line rewritten in place: how far the check has come.
            self.stderr.write(f"\rChecked {rows:,} of {total:,} rows", ending="")
            self.stderr.flush()

        try:
            lines = parse_evidence_csv(text, progress=checked)
            checked(total)
            self.stderr.write(f"\nEvery row is right; writing {len(lines):,} rows (all or none)…")
            result = import_evidence(lines, user=author)
        except ImportRejected as rejected:
            self.stderr.write("")
            for error in rejected.errors:
                self.stderr.write(error)
            raise CommandError(
                f"Nothing was imported: {len(rejected.errors)} problem(s) in {file}."
            ) from rejected
        self.stdout.write(
            f"Imported {result.evidence} evidence rows; created {len(result.funds)} funds, "
            f"{len(result.companies)} companies, {len(result.tasks)} tasks. Scores recomputed."
        )
