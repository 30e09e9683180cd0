"""Argument types shared by the commands."""

from datetime import date

from django.core.management.base import CommandError


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as bad:
        raise CommandError(f"{text!r} is not a date as YYYY-MM-DD") from bad


def add_as_of(parser) -> None:
    """The --as-of argument every scoring command takes."""
    parser.add_argument("--as-of", type=iso_date, help="score as of this date (YYYY-MM-DD)")
