"""Evidence CSV import: parse and validate every row, then write all or nothing."""

from __future__ import annotations

import csv
import difflib
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Now
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from . import access, enqueue, notes, recompute, scoring, selectors, vocabulary
from .models import Company, Evidence, EvidenceImport, Fund, ImportStatus, Role, Task
from .text import clean_text

REQUIRED_COLUMNS = (
    "fund",
    "company",
    "task",
    "factor",
    "stance",
    "strength",
    "confidence",
    "observed_on",
)
OPTIONAL_COLUMNS = ("sector", "stage", "task_weight", "verified", "source", "note")
STANCES = {"supports": scoring.SUPPORTS, "contradicts": scoring.CONTRADICTS}
YES_NO = {"yes": True, "no": False, "": False}
# Free text keeps its lines; every other cell is a one-line name or code.
MULTI_LINE = {"note"}
# Each cell checked by the models' own validation, as a form's save is: which field of
# which model a column fills.
MODEL_FIELDS = {
    "company": (Company, "name"),
    "sector": (Company, "sector"),
    "stage": (Company, "stage"),
    "task": (Task, "name"),
    "task_weight": (Task, "weight"),
    "observed_on": (Evidence, "observed_on"),
    "source": (Evidence, "source"),
    "note": (Evidence, "note"),
    "fund": (Fund, "name"),
}


class ImportRejected(Exception):
    """The file was refused as a whole; nothing was written."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class EvidenceLine:
    line: int
    fund: str
    company: str
    task: str
    factor: str
    stance: int
    strength: int
    confidence: str
    observed_on: date
    verified: bool
    task_weight: float | None
    sector: str = ""
    stage: str = ""
    source: str = ""
    note: str = ""


@dataclass
class ImportResult:
    evidence: int = 0
    funds: list[str] = field(default_factory=list)
    companies: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)


# How often a long check reports its progress (rows).
PROGRESS_EVERY = 1000


def count_rows(text: str) -> int:
    """The rows of a file, roughly (a quoted cell may hold line breaks): for progress only."""
    return max(text.count("\n") - 1, 0) + (0 if text.endswith("\n") else 1)


def parse_evidence_csv(
    text: str, *, today: date | None = None, progress: Callable[[int], None] | None = None
) -> list[EvidenceLine]:
    """Every row of the file, validated; raises ImportRejected naming each bad line.
    progress, if given, is called with the number of rows checked so far."""
    today = today or selectors.today()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [name.strip().lower() for name in (reader.fieldnames or [])]
    except csv.Error as error:
        raise ImportRejected([f"line 1: {_csv_problem(error)}"]) from error
    twice = sorted(name for name, n in Counter(header).items() if n > 1 and name)
    if twice:
        raise ImportRejected([f"line 1: column(s) given more than once: {', '.join(twice)}"])
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise ImportRejected([f"line 1: missing column(s): {', '.join(missing)}"])
    unknown = [n for n in header if n not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise ImportRejected([f"line 1: unknown column(s): {', '.join(unknown)}"])
    reader.fieldnames = header
    lines, errors = [], []
    weights: dict[tuple[str, str, str], tuple[float, int]] = {}
    rows = iter(reader)
    while True:
        try:
            raw = next(rows)
        except StopIteration:
            break
        except csv.Error as error:  # the reader cannot go on after this: report and stop
            errors.append(f"line {reader.line_num + 1}: {_csv_problem(error)}")
            break
        number = reader.line_num
        if progress is not None and (reader.line_num - 1) % PROGRESS_EVERY == 0:
            progress(reader.line_num - 1)
        if raw.get(None):
            errors.append(f"line {number}: more cells than columns")
            continue
        row = {
            key: clean_text(value or "", single_line=key not in MULTI_LINE)
            for key, value in raw.items()
        }
        if not any(row.values()):
            continue
        problems: list[str] = []
        parsed = _parse_row(row, today, problems)
        # Every problem of the row at once: the cells that parsed go through the models'
        # validation even when another cell did not.
        _validate_as_models(parsed, problems)
        if not problems and parsed["task_weight"] is not None:
            key = (parsed["fund"].lower(), parsed["company"].lower(), parsed["task"].lower())
            seen = weights.setdefault(key, (parsed["task_weight"], number))
            if seen[0] != parsed["task_weight"]:
                problems.append(
                    f"task_weight {parsed['task_weight']:g} differs from {seen[0]:g} "
                    f"given for the same task on line {seen[1]}"
                )
        if problems:
            errors.append(f"line {number}: " + "; ".join(problems))
        else:
            lines.append(EvidenceLine(line=number, **parsed))
    if errors:
        raise ImportRejected(errors)
    if not lines:
        raise ImportRejected(["the file has no evidence rows"])
    return lines


def _csv_problem(error: csv.Error) -> str:
    if "field larger than field limit" in str(error):
        return f"a cell is longer than {csv.field_size_limit():,} characters"
    return f"not readable as CSV ({error})"


def _validate_as_models(parsed: dict, problems: list[str]) -> None:
    """The cells through the model fields' own validation (lengths, bounds, clean text),
    the check every form's save runs: import and form cannot disagree on what is valid."""
    for column, (model, name) in MODEL_FIELDS.items():
        value = parsed.get(column)
        if value in (None, ""):
            continue
        model_field = model._meta.get_field(name)
        try:
            model_field.clean(value, None)
        except ValidationError as invalid:
            problems.append(f"{column}: {' '.join(invalid.messages)}")


def factor_guide() -> list[dict]:
    """Each factor code with its meaning and which way a supporting note moves its axis,
    for the import page."""
    return [
        {
            "code": f.code,
            "meaning": f.meaning,
            "axis": vocabulary.AXIS_NAMES[f.axis],
            "supports": "raises" if f.polarity > 0 else "lowers",
            "contradicts": "lowers" if f.polarity > 0 else "raises",
        }
        for f in scoring.FACTORS
    ]


def suggest_factor(text: str) -> str | None:
    """The factor code a near miss meant ("private eval" → private_eval), if any."""
    normal = text.strip().lower().replace(" ", "_").replace("-", "_")
    close = difflib.get_close_matches(normal, scoring.FACTORS_BY_CODE, n=1, cutoff=0.6)
    return close[0] if close else None


def _parse_row(row: dict[str, str], today: date, problems: list[str]) -> dict:
    for name in ("fund", "company", "task"):
        if not row.get(name):
            problems.append(f"{name} is empty")
    factor = row.get("factor", "")
    if factor not in scoring.FACTORS_BY_CODE:
        meant = suggest_factor(factor)
        hint = f" — did you mean {meant}?" if meant else " (the import page lists the codes)"
        problems.append(f"unknown factor {factor!r}{hint}")
    stance = STANCES.get(row.get("stance", "").lower())
    if stance is None:
        problems.append(f"stance must be supports or contradicts, not {row.get('stance')!r}")
    strength = _int_in(row.get("strength", ""), 1, 5)
    if strength is None:
        problems.append(f"strength must be a whole number from 1 to 5, not {row.get('strength')!r}")
    confidence = row.get("confidence", "").lower()
    if confidence not in scoring.CONFIDENCE_VALUES:
        problems.append(f"confidence must be low, medium or high, not {row.get('confidence')!r}")
    observed_on = None
    try:
        observed_on = date.fromisoformat(row.get("observed_on", ""))
        if len(row["observed_on"]) != 10:
            raise ValueError
    except ValueError:
        problems.append(f"observed_on must be a date as YYYY-MM-DD, not {row.get('observed_on')!r}")
        observed_on = None
    if observed_on and observed_on > today:
        problems.append(f"observed_on {observed_on} is in the future")
    task_weight = None
    if row.get("task_weight"):
        try:
            task_weight = float(row["task_weight"])
            if task_weight != task_weight:  # NaN
                raise ValueError
        except ValueError:
            problems.append(f"task_weight must be a number, not {row['task_weight']!r}")
    verified = YES_NO.get(row.get("verified", "").lower())
    if verified is None:
        problems.append(f"verified must be yes or no, not {row.get('verified')!r}")
    return {
        "fund": row.get("fund", ""),
        "company": row.get("company", ""),
        "task": row.get("task", ""),
        "factor": factor,
        "stance": stance,
        "strength": strength,
        "confidence": confidence,
        "observed_on": observed_on,
        "verified": verified,
        "task_weight": task_weight,
        "sector": row.get("sector", ""),
        "stage": row.get("stage", ""),
        "source": row.get("source", ""),
        "note": row.get("note", ""),
    }


def _int_in(text: str, low: int, high: int) -> int | None:
    try:
        value = int(text)
    except ValueError:
        return None
    return value if low <= value <= high else None


def import_evidence(lines: list[EvidenceLine], *, user) -> ImportResult:
    """Write every line, creating funds, companies and tasks when missing; all or nothing.

    The user is recorded as author, and as verifier of the lines marked verified
    (they must then be a superuser or a partner of that fund). Scores are then
    recomputed for every company touched.
    """
    _check_permissions(lines, user)
    result = ImportResult()
    with transaction.atomic():
        # Names match case-insensitively, in the database and within the file, as the
        # forms and the constraints do: "LEXBENCH" on one row is the "Lexbench" of another.
        names = {ln.fund.lower() for ln in lines}
        funds = {f.name.lower(): f for f in Fund.objects.all() if f.name.lower() in names}
        companies: dict[tuple[str, str], Company] = {}
        tasks: dict[tuple[str, str, str], Task] = {}
        now = timezone.now()
        evidence = []
        for ln in lines:
            fund_key = ln.fund.lower()
            if fund_key not in funds:
                funds[fund_key] = _created_by(user, Fund(name=ln.fund))
                result.funds.append(ln.fund)
            fund = funds[fund_key]
            company_key = (fund_key, ln.company.lower())
            if company_key not in companies:
                company = Company.objects.filter(fund=fund, name__iexact=ln.company).first()
                created = company is None
                if created:
                    company = _created_by(
                        user, Company(fund=fund, name=ln.company, sector=ln.sector, stage=ln.stage)
                    )
                companies[company_key] = company
                if created:
                    result.companies.append(f"{fund.name} / {ln.company}")
            task_key = (*company_key, ln.task.lower())
            if task_key not in tasks:
                company = companies[company_key]
                task = Task.objects.filter(company=company, name__iexact=ln.task).first()
                created = task is None
                if created:
                    task = _created_by(
                        user, Task(company=company, name=ln.task, weight=ln.task_weight or 1.0)
                    )
                if not created and ln.task_weight and task.weight != ln.task_weight:
                    task.weight = ln.task_weight
                    task._history_user = user
                    task.save(update_fields=["weight", "updated_at"])
                tasks[task_key] = task
                if created:
                    result.tasks.append(f"{fund.name} / {company.name} / {ln.task}")
            evidence.append(
                Evidence(
                    task=tasks[task_key],
                    factor=ln.factor,
                    stance=ln.stance,
                    strength=ln.strength,
                    confidence=ln.confidence,
                    observed_on=ln.observed_on,
                    observed_day=ln.observed_on.toordinal(),
                    source=ln.source,
                    note=ln.note,
                    note_html=notes.render_note_or_text(ln.note),
                    author=user,
                    verified_by=user if ln.verified else None,
                    verified_at=now if ln.verified else None,
                )
            )
        # bulk_create skips save(): observed_day is set above, and the history rows
        # are written alongside so the audit trail misses nothing.
        bulk_create_with_history(evidence, Evidence, batch_size=1000, default_user=user)
        task_ids = [t.id for t in tasks.values()]
        Task.objects.filter(pk__in=task_ids).update(
            input_version=F("input_version") + 1, stale_since=Coalesce(F("stale_since"), Now())
        )
        result.evidence = len(evidence)
    recompute.rescore_companies(company_ids=sorted({c.id for c in companies.values()}))
    return result


def _created_by(user, obj):
    """Save a new row with the importing user on its history row: the command line has no
    request for the history middleware to read the user from."""
    obj._history_user = user
    obj.save()
    return obj


def _check_permissions(lines: list[EvidenceLine], user) -> None:
    if user.is_superuser:
        return
    names = {ln.fund.lower() for ln in lines}
    fund_ids = {
        name.lower(): pk
        for name, pk in Fund.objects.values_list("name", "id")
        if name.lower() in names
    }
    errors = []
    for ln in lines:
        fund_id = fund_ids.get(ln.fund.lower())
        if fund_id is None:
            errors.append(
                f"line {ln.line}: fund {ln.fund!r} does not exist and only an "
                "administrator can create funds"
            )
        elif not access.can(user, access.ADD_EVIDENCE, fund_id):
            errors.append(
                f"line {ln.line}: {user.get_username()} may not add evidence to fund {ln.fund!r}"
            )
        elif ln.verified and access.role_in(user, fund_id) != Role.PARTNER:
            errors.append(
                f"line {ln.line}: marked verified, but only a partner of "
                f"{ln.fund!r} may verify evidence"
            )
    if errors:
        raise ImportRejected(errors)


# --- Large files: a background job (run inline when there is no broker) -------------------


def only_this_fund(lines: list[EvidenceLine], fund: Fund) -> None:
    """An upload into one fund may not write to another, even one the user belongs to."""
    errors = [
        f"line {ln.line}: fund {ln.fund!r} is not {fund.name!r}; upload it from that fund's page"
        for ln in lines
        if ln.fund.lower() != fund.name.lower()
    ]
    if errors:
        raise ImportRejected(errors)


def summary(result: ImportResult) -> str:
    return (
        f"Imported {result.evidence:,} evidence rows "
        f"({len(result.companies)} new companies, {len(result.tasks)} new tasks)."
    )


def start_import_job(*, fund: Fund, user, text: str) -> EvidenceImport:
    """Queue a file for the job after commit: the page follows its progress."""
    from . import jobs

    job = EvidenceImport.objects.create(
        fund=fund, requested_by=user, text=text, rows_total=count_rows(text)
    )
    enqueue.after_commit(jobs.run_evidence_import, job.id)
    return job


def run_import_job(import_id: int) -> str:
    """Check every row (progress recorded as it goes), then write them all in one
    transaction; a refusal or an error leaves nothing written and says why."""
    job = EvidenceImport.objects.select_related("fund", "requested_by").get(pk=import_id)
    if not job.is_running:
        return job.status  # a redelivered message for a finished job

    def checked(rows: int) -> None:
        EvidenceImport.objects.filter(pk=job.pk).update(
            status=ImportStatus.CHECKING, rows_checked=min(rows, job.rows_total)
        )

    outcome: dict = {"text": "", "finished_at": timezone.now()}
    try:
        lines = parse_evidence_csv(job.text, progress=checked)
        only_this_fund(lines, job.fund)
        EvidenceImport.objects.filter(pk=job.pk).update(
            status=ImportStatus.WRITING, rows_checked=job.rows_total
        )
        result = import_evidence(lines, user=job.requested_by)
    except ImportRejected as rejected:
        outcome.update(status=ImportStatus.FAILED, errors=rejected.errors)
    else:
        outcome.update(status=ImportStatus.DONE, summary=summary(result))
    outcome["finished_at"] = timezone.now()
    EvidenceImport.objects.filter(pk=job.pk).update(**outcome)
    return outcome["status"]
