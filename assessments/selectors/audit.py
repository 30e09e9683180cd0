"""Reads for the audit trail: every audited change of a fund, newest first, sliced in SQL,
each named by its company and task and told as before → after in words; and the words for
one saved change, which the evidence history shares."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import CharField, OuterRef, Subquery, Value

from .. import scoring
from ..models import Company, Evidence, Membership, RubricVersion, Task

# --- A change in words --------------------------------------------------------------------

# Fields that say nothing to a reader: the lock's counter, timestamps the row keeps itself.
HIDDEN_FIELDS = {"updated_at", "version", "observed_day", "created_at", "submission_token"}
FIELD_LABELS = {
    "observed_on": "observed",
    "verified_by": "verified by",
    "verified_at": "verified at",
    "verified_version": "verification covers",
    "content_version": "content version",
    "review_comment": "partner's comment",
    "sent_back_at": "sent back",
    "superseded_at": "superseded",
    "mixed_acknowledged_at": "acknowledged as mixed",
    "resolution_comment": "resolution comment",
    "lead_partner": "lead partner",
    "check_size": "check size",
    "arr": "ARR",
}
USER_FIELDS = {"verified_by", "lead_partner", "author", "user"}
NOTE_LIMIT = 140


def _in_words(name: str, value, users: dict[int, str], limit: int | None = NOTE_LIMIT) -> str:
    if value is None or value == "":
        return "–"
    if name in USER_FIELDS:
        return users.get(value, f"user #{value}")
    if name == "stance":
        return "supports" if int(value) == scoring.SUPPORTS else "contradicts"
    if name == "factor":
        return str(value).replace("_", " ")
    if name in ("verified_version", "content_version"):
        return f"version {value}"
    if name.endswith("_at"):
        return f"{value:%Y-%m-%d %H:%M}" if hasattr(value, "strftime") else str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = " ".join(str(value).split())
    return text if limit is None or len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


def _raw_changes(record, before) -> list[tuple[str, object, object]]:
    if before is None:
        return []
    delta = record.diff_against(before, excluded_fields=list(HIDDEN_FIELDS & _fields(record)))
    return [(c.field, c.old, c.new) for c in delta.changes]


def _fields(record) -> set[str]:
    return {f.name for f in record.instance_type._meta.fields}


def user_names(ids) -> dict[int, str]:
    """Usernames by id, in one query (the trail names users removed since as user #id)."""
    ids = {i for i in ids if isinstance(i, int)}
    if not ids:
        return {}
    User = get_user_model()
    return {u.pk: u.get_username() for u in User.objects.filter(pk__in=ids)}


def changes_in_words(
    raw: list[tuple[str, object, object]], users: dict[int, str], limit: int | None = NOTE_LIMIT
) -> list[Change]:
    """Each change as (label, before, after) in words; long text cut at limit (None: whole,
    as the evidence history shows it, so an edit near a note's end is visible)."""
    return [
        Change(
            FIELD_LABELS.get(name, name.replace("_", " ")),
            *_from_where_they_differ(
                _in_words(name, old, users, None), _in_words(name, new, users, None), limit
            ),
        )
        for name, old, new in raw
        if name not in HIDDEN_FIELDS
    ]


def _from_where_they_differ(before: str, after: str, limit: int | None) -> tuple[str, str]:
    """Long texts cut to the limit, starting a little before their first difference, so that
    an edit at the end of a long note still shows."""
    if limit is None or max(len(before), len(after)) <= limit:
        return before, after
    same = 0
    while same < min(len(before), len(after)) and before[same] == after[same]:
        same += 1
    start = max(0, same - 30)

    def cut(text: str) -> str:
        part = ("…" if start else "") + text[start:]
        return part if len(part) <= limit else part[: limit - 1].rstrip() + "…"

    return cut(before), cut(after)


# --- Audit trail --------------------------------------------------------------------------


def _audit_histories(fund_id: int, company_id: int | None = None, user_id: int | None = None):
    """Each audited kind's history rows that belong to the fund, deleted objects included,
    narrowed to one company (its tasks and evidence) and to one person's changes.

    Joined through the history tables (not the live ones), so that the trail of a
    deleted company still shows its tasks and evidence.
    """
    companies = Company.history.filter(fund_id=fund_id)
    if company_id:
        companies = companies.filter(id=company_id)
    tasks = Task.history.filter(company_id__in=companies.values("id"))
    histories = {
        "company": companies,
        "task": tasks,
        "evidence": Evidence.history.filter(task_id__in=tasks.values("id")),
    }
    if not company_id:
        histories["membership"] = Membership.history.filter(fund_id=fund_id)
    # A rubric activation re-scores every fund and every company: it belongs in each trail.
    # Its saved record is the one that makes the version active (drafts are never active,
    # and an active version is not edited).
    histories["rubric"] = RubricVersion.history.filter(is_active=True)
    if user_id:
        histories = {kind: qs.filter(history_user_id=user_id) for kind, qs in histories.items()}
    return histories


def audit_index(fund_id: int, *, company_id: int | None = None, user_id: int | None = None):
    """(kind, history_id, history_date) of every audited change in the fund, newest first.

    One UNION query, so that a page is sliced in SQL whatever the mix of kinds.
    """
    parts = [
        qs.order_by()
        .annotate(kind=Value(kind, output_field=CharField()))
        .values("kind", "history_id", "history_date")
        for kind, qs in _audit_histories(fund_id, company_id, user_id).items()
    ]
    first, *rest = parts
    return first.union(*rest, all=True).order_by("-history_date", "-history_id")


@dataclass
class AuditEntry:
    kind: str
    record: object
    action: str  # created, changed, deleted, verified, sent back…
    company: str
    task: str
    subject: str
    changes: list[Change] = field(default_factory=list)


ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


def _action(kind: str, record, raw: list[tuple[str, object, object]]) -> str:
    """The change as a reader names it: an evidence verify or send-back is not an 'edit'."""
    if kind == "rubric":
        return "activated"
    if record.history_type != "~" or kind != "evidence":
        return ACTIONS.get(record.history_type, record.history_type)
    names = {name for name, _, new in raw}
    if "verified_by" in names and record.verified_by_id:
        return f"verified (version {record.verified_version})"
    if "sent_back_at" in names and record.sent_back_at:
        return "sent back"
    if "superseded_at" in names and record.superseded_at:
        return "superseded"
    if "mixed_acknowledged_at" in names and record.mixed_acknowledged_at:
        return "acknowledged as mixed"
    return "changed"


def audit_entries(index_rows: list[dict]) -> list[AuditEntry]:
    """The history records of one page, each with its company, task and changes in words:
    a constant number of queries."""
    wanted: dict[str, list[int]] = defaultdict(list)
    for row in index_rows:
        wanted[row["kind"]].append(row["history_id"])
    models = {
        "company": Company,
        "task": Task,
        "evidence": Evidence,
        "membership": Membership,
        "rubric": RubricVersion,
    }
    records = {}
    for kind, ids in wanted.items():
        history = models[kind].history
        rows = history.filter(history_id__in=ids).select_related("history_user")
        if kind == "rubric":
            # An activation is told by its version and how many scores it moved (kept on the
            # version itself), not by a diff: one query, like every other kind.
            moved = RubricVersion.objects.filter(pk=OuterRef("id")).values("activation_moved")
            rows = list(rows.annotate(moved=Subquery(moved)))
            previous = {}
        else:
            rows = list(rows)
            previous = _previous_records(history, rows)
        for record in rows:
            records[(kind, record.history_id)] = (record, previous.get(record.history_id))
    names = _names(records)
    raw = {key: _raw_changes(record, before) for key, (record, before) in records.items()}
    users = user_names(
        [
            v
            for changes in raw.values()
            for name, old, new in changes
            if name in USER_FIELDS
            for v in (old, new)
        ]
        + [r.user_id for (kind, _), (r, _) in records.items() if kind == "membership"]
    )
    entries = []
    for row in index_rows:
        key = (row["kind"], row["history_id"])
        record, _ = records[key]
        company, task, subject = _subject(row["kind"], record, names, users)
        changes = changes_in_words(raw[key], users)
        if row["kind"] == "rubric":
            changes = [Change("scores moved", "", _moved_in_words(record.moved))]
        entries.append(
            AuditEntry(
                kind=row["kind"],
                record=record,
                action=_action(row["kind"], record, raw[key]),
                company=company,
                task=task,
                subject=subject,
                changes=changes,
            )
        )
    return entries


def _moved_in_words(moved: dict | None) -> str:
    """How many scores an activation's re-score moved: "3 tasks, 1 company (every fund)"."""
    if not moved:
        return "not yet re-scored"
    tasks, companies = moved.get("tasks", 0), moved.get("companies", 0)
    return (
        f"{tasks} task{'s' if tasks != 1 else ''}, "
        f"{companies} compan{'ies' if companies != 1 else 'y'} (every fund)"
    )


def _names(records: dict) -> dict:
    """Task and company names of a page's records, deleted ones included: two queries
    over the history tables (each object's latest saved name)."""
    task_ids = {r.task_id for (kind, _), (r, _) in records.items() if kind == "evidence"}
    task_ids |= {r.id for (kind, _), (r, _) in records.items() if kind == "task"}
    tasks = {}
    for t in Task.history.filter(id__in=task_ids).order_by("history_id"):
        tasks[t.id] = (t.name, t.company_id)
    company_ids = {company for _, company in tasks.values()}
    company_ids |= {r.id for (kind, _), (r, _) in records.items() if kind == "company"}
    companies = {}
    for c in Company.history.filter(id__in=company_ids).order_by("history_id"):
        companies[c.id] = c.name
    return {"tasks": tasks, "companies": companies}


def _subject(kind: str, record, names: dict, users: dict[int, str]) -> tuple[str, str, str]:
    """(company, task, what) of one record."""
    tasks, companies = names["tasks"], names["companies"]
    if kind == "membership":
        who = users.get(record.user_id, "a removed user")
        return "", "", f"{who} ({record.role})"
    if kind == "rubric":
        name = f" ({record.name})" if record.name else ""
        return "", "", f"rubric version {record.number}{name}, re-scoring every fund"
    if kind == "company":
        return companies.get(record.id, record.name), "", "company"
    if kind == "task":
        return companies.get(record.company_id, ""), record.name, "task"
    task_name, company_id = tasks.get(record.task_id, (f"task #{record.task_id}", None))
    return (
        companies.get(company_id, ""),
        task_name,
        f"{record.factor.replace('_', ' ')} note ({_in_words('stance', record.stance, users)})",
    )


def _previous_records(history, rows) -> dict:
    """For each updated record, the history record just before it, in one query."""
    updates = [r for r in rows if r.history_type == "~"]
    if not updates:
        return {}
    object_ids = {r.id for r in updates}
    earlier = history.filter(id__in=object_ids, history_id__lt=max(r.history_id for r in updates))
    by_object = defaultdict(list)
    for record in earlier.order_by("history_id"):
        by_object[record.id].append(record)
    previous = {}
    for record in updates:
        candidates = [r for r in by_object[record.id] if r.history_id < record.history_id]
        if candidates:
            previous[record.history_id] = candidates[-1]
    return previous


def audit_filter_choices(fund_id: int) -> dict:
    """The companies (deleted ones included, by their last name) and the people of the
    fund's trail, for its filters."""
    companies = {}
    for c in Company.history.filter(fund_id=fund_id).order_by("history_id"):
        companies[c.id] = c.name
    people = user_names(
        Membership.objects.filter(fund_id=fund_id).values_list("user_id", flat=True)
    )
    return {
        "companies": sorted(companies.items(), key=lambda item: item[1].lower()),
        "people": sorted(people.items(), key=lambda item: item[1].lower()),
    }
