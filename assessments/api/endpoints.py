"""The API's operations. Thin, like the views: scope with access.py, validate with the
pages' forms, write with services.py, read with selectors/."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.http import QueryDict
from django.urls import reverse
from ninja import Status

from .. import access, scoring, services
from ..forms import CompanyForm, EvidenceForm, TaskForm
from ..models import EVIDENCE_FIELDS, Company, Evidence, Task, score_values
from ..selectors import stored_score, today
from . import FieldErrors, api
from . import selectors as reads
from .schemas import (
    EARLIEST,
    LATEST,
    STANCE_NAMES,
    STANCE_VALUES,
    AlertOut,
    AsOf,
    CompanyIn,
    CompanyOut,
    CompanyPatch,
    Conflict,
    Error,
    EvidenceIn,
    EvidenceOut,
    EvidencePatch,
    FundOut,
    Id,
    Page,
    PageSize,
    QuadrantEnum,
    StatusEnum,
    TaskIn,
    TaskOut,
    TaskPatch,
    page_of,
)

ERRORS = {400: Error, 401: Error, 404: Error}
WRITE_ERRORS = {**ERRORS, 403: Error, 409: Conflict}
DEFAULT_PAGE_SIZE = settings.API_PAGE_SIZE


# --- helpers ------------------------------------------------------------------------------


def _page(items, page: int, page_size: int, convert) -> dict:
    count = len(items) if isinstance(items, list) else items.count()
    start = (page - 1) * page_size
    return {
        "count": count,
        "page": page,
        "page_size": page_size,
        "items": [convert(item) for item in items[start : start + page_size]],
    }


def _as_of(value: date | None) -> date | None:
    if value is not None and not EARLIEST <= value <= LATEST:
        raise FieldErrors({"as_of": [f"Give a date from {EARLIEST} to {LATEST}."]})
    return value


def _require_write(request) -> None:
    if not request.auth.can_write:
        raise access.PermissionDenied("This API token is read-only: create a read-write token.")


def _valid(form) -> dict:
    if not form.is_valid():
        raise FieldErrors({field: list(messages) for field, messages in form.errors.items()})
    # The version is checked apart; the one-time form token is for browsers only.
    return {k: v for k, v in form.cleaned_data.items() if k not in ("version", "submission")}


def _form_data(values: dict) -> QueryDict:
    """Values as a form posts them: text, with nothing for null."""
    data = QueryDict(mutable=True)
    for name, value in values.items():
        if value is None:
            data[name] = ""
        elif hasattr(value, "isoformat"):
            data[name] = value.isoformat()
        elif hasattr(value, "value"):  # an enum member
            data[name] = str(value.value)
        else:
            data[name] = str(value)
    return data


def _company_out(
    request,
    company: Company,
    score: scoring.Score,
    shares: scoring.ValueShares | None,
    as_of: date | None,
) -> dict:
    return {
        "id": company.pk,
        "fund": company.fund_id,
        "name": company.name,
        "sector": company.sector,
        "stage": company.stage,
        "status": company.status,
        "lead_partner": company.lead_partner_id,
        "check_size": int(company.check_size) if company.check_size is not None else None,
        "arr": int(company.arr) if company.arr is not None else None,
        "description": company.description,
        "version": company.version,
        "as_of": as_of or today(),
        "score": score_values(score),
        **(shares.as_dict() if shares else dict.fromkeys(scoring.VALUE_SHARE_FIELDS)),
        "url": request.build_absolute_uri(reverse("company_detail", args=[company.pk])),
    }


def _task_out(task: Task, score: scoring.Score, as_of: date | None) -> dict:
    return {
        "id": task.pk,
        "company": task.company_id,
        "fund": task.company.fund_id,
        "name": task.name,
        "description": task.description,
        "weight": task.weight,
        "version": task.version,
        "stale": task.stale_since is not None,
        "as_of": as_of or today(),
        "score": score_values(score),
    }


def _evidence_out(ev: Evidence) -> dict:
    return {
        "id": ev.pk,
        "task": ev.task_id,
        "company": ev.task.company_id,
        "fund": ev.task.company.fund_id,
        "factor": ev.factor,
        "stance": STANCE_NAMES[ev.stance],
        "strength": ev.strength,
        "confidence": ev.confidence,
        "observed_on": ev.observed_on,
        "source": ev.source,
        "note": ev.note,
        "author": ev.author.get_username() if ev.author else None,
        "verified": ev.is_verified,
        "verified_by": ev.verified_by.get_username() if ev.verified_by else None,
        "verified_at": ev.verified_at,
        "review_comment": ev.review_comment,
        "version": ev.version,
        "created_at": ev.created_at,
        "updated_at": ev.updated_at,
    }


def _alert_out(alert) -> dict:
    event = getattr(alert, "event", None)
    return {
        "id": alert.pk,
        "fund": alert.company.fund_id,
        "company": alert.company_id,
        "task": alert.task_id,
        "kind": alert.kind,
        "message": alert.message,
        "as_of": alert.as_of,
        "created_at": alert.created_at,
        "read": alert.read_at is not None,
        "previous": event.previous if event else None,
        "current": event.current if event else None,
    }


def _company(request, pk: int) -> Company:
    return access.get_scoped_or_404(Company.objects.select_related("fund"), request.user, pk=pk)


def _task(request, pk: int) -> Task:
    return access.get_scoped_or_404(Task.objects.select_related("company"), request.user, pk=pk)


def _evidence(request, pk: int) -> Evidence:
    return access.get_scoped_or_404(
        Evidence.objects.select_related("task__company", "author", "verified_by"),
        request.user,
        pk=pk,
    )


# --- funds --------------------------------------------------------------------------------


@api.get("/funds", response={200: page_of(FundOut), **ERRORS}, url_name="funds", tags=["funds"])
def list_funds(request, page: Page = 1, page_size: PageSize = DEFAULT_PAGE_SIZE):
    """The funds you are a member of, with your role in each."""
    return _page(
        reads.funds(request.user),
        page,
        page_size,
        lambda f: {
            "id": f.pk,
            "name": f.name,
            "description": f.description,
            "role": access.role_in(request.user, f.pk),
        },
    )


@api.get("/funds/{fund_id}", response={200: FundOut, **ERRORS}, url_name="fund", tags=["funds"])
def get_fund(request, fund_id: Id):
    fund = reads.fund_or_404(request.user, fund_id)
    return {
        "id": fund.pk,
        "name": fund.name,
        "description": fund.description,
        "role": access.role_in(request.user, fund.pk),
    }


# --- companies ----------------------------------------------------------------------------


@api.get(
    "/companies",
    response={200: page_of(CompanyOut), **ERRORS},
    url_name="companies",
    tags=["companies"],
)
def list_companies(
    request,
    fund: Id | None = None,
    status: StatusEnum | None = None,
    quadrant: QuadrantEnum | None = None,
    sector: str = "",
    as_of: AsOf | None = None,
    page: Page = 1,
    page_size: PageSize = DEFAULT_PAGE_SIZE,
):
    """Companies of your funds with their scores today, or as of a date (`as_of`)."""
    as_of = _as_of(as_of)
    rows = reads.companies(
        request.user,
        fund=fund,
        status=status.value if status else "",
        quadrant=quadrant.value if quadrant else "",
        sector=sector,
        as_of=as_of,
    )
    return _page(rows, page, page_size, lambda row: _company_out(request, *row, as_of))


@api.post(
    "/companies",
    response={201: CompanyOut, **WRITE_ERRORS},
    url_name="companies",
    tags=["companies"],
)
def create_company(request, payload: CompanyIn):
    """Add a company to a fund (associates and partners)."""
    _require_write(request)
    fund = reads.fund_or_404(request.user, payload.fund)
    access.require(request.user, access.EDIT_COMPANIES, fund.pk)
    fields = payload.model_dump(exclude={"fund"})
    data = _valid(CompanyForm(_form_data(fields), fund_id=fund.pk))
    company = services.company_create(fund_id=fund.pk, user=request.user, **data)
    return Status(
        201, _company_out(request, company, stored_score(company), company.value_shares, None)
    )


@api.get(
    "/companies/{company_id}",
    response={200: CompanyOut, **ERRORS},
    url_name="company",
    tags=["companies"],
)
def get_company(request, company_id: Id, as_of: AsOf | None = None):
    as_of = _as_of(as_of)
    company = _company(request, company_id)
    return _company_out(request, company, *reads.company_score(request.user, company, as_of), as_of)


@api.patch(
    "/companies/{company_id}",
    response={200: CompanyOut, **WRITE_ERRORS},
    url_name="company",
    tags=["companies"],
)
def edit_company(request, company_id: Id, payload: CompanyPatch):
    """Change some fields; `version` is the one you read (a newer save answers 409)."""
    _require_write(request)
    company = _company(request, company_id)
    access.require(request.user, access.EDIT_COMPANIES, company.fund_id)
    changes = payload.model_dump(exclude_unset=True, exclude={"version"})
    current = {name: getattr(company, name) for name in services.COMPANY_FIELDS}
    current["lead_partner"] = company.lead_partner_id
    form = CompanyForm(
        _form_data({**current, **changes, "version": payload.version}),
        instance=company,
        fund_id=company.fund_id,
    )
    data = _valid(form)
    company = services.company_update(
        company=company, editor=request.user, expected_version=payload.version, **data
    )
    return _company_out(request, company, stored_score(company), company.value_shares, None)


# --- tasks --------------------------------------------------------------------------------


@api.get("/tasks", response={200: page_of(TaskOut), **ERRORS}, url_name="tasks", tags=["tasks"])
def list_tasks(
    request,
    fund: Id | None = None,
    company: Id | None = None,
    as_of: AsOf | None = None,
    page: Page = 1,
    page_size: PageSize = DEFAULT_PAGE_SIZE,
):
    """Tasks of your funds' companies with their scores today, or as of a date."""
    as_of = _as_of(as_of)
    queryset = reads.tasks(request.user, fund=fund, company=company)
    start = (page - 1) * page_size
    chunk = list(queryset[start : start + page_size])
    scores = reads.task_scores(chunk, as_of)
    return {
        "count": queryset.count(),
        "page": page,
        "page_size": page_size,
        "items": [_task_out(t, scores[t.pk], as_of) for t in chunk],
    }


@api.post("/tasks", response={201: TaskOut, **WRITE_ERRORS}, url_name="tasks", tags=["tasks"])
def create_task(request, payload: TaskIn):
    """Add a task to a company (associates and partners)."""
    _require_write(request)
    company = _company(request, payload.company)
    access.require(request.user, access.EDIT_COMPANIES, company.fund_id)
    data = _valid(TaskForm(_form_data(payload.model_dump(exclude={"company"})), company=company))
    task = services.task_create(company=company, user=request.user, **data)
    return Status(201, _task_out(task, stored_score(task), None))


@api.get("/tasks/{task_id}", response={200: TaskOut, **ERRORS}, url_name="task", tags=["tasks"])
def get_task(request, task_id: Id, as_of: AsOf | None = None):
    as_of = _as_of(as_of)
    task = _task(request, task_id)
    return _task_out(task, reads.task_scores([task], as_of)[task.pk], as_of)


@api.patch(
    "/tasks/{task_id}", response={200: TaskOut, **WRITE_ERRORS}, url_name="task", tags=["tasks"]
)
def edit_task(request, task_id: Id, payload: TaskPatch):
    """Rename a task or change its weight (a new weight re-scores the company)."""
    _require_write(request)
    task = _task(request, task_id)
    access.require(request.user, access.EDIT_COMPANIES, task.company.fund_id)
    current = {"name": task.name, "weight": task.weight, "description": task.description}
    changes = payload.model_dump(exclude_unset=True)
    data = _valid(TaskForm(_form_data({**current, **changes}), instance=task, company=task.company))
    task = services.task_update(task=task, user=request.user, **data)
    return _task_out(task, stored_score(task), None)


# --- evidence -----------------------------------------------------------------------------


@api.get(
    "/evidence",
    response={200: page_of(EvidenceOut), **ERRORS},
    url_name="evidence_list",
    tags=["evidence"],
)
def list_evidence(
    request,
    fund: Id | None = None,
    company: Id | None = None,
    task: Id | None = None,
    verified: bool | None = None,
    page: Page = 1,
    page_size: PageSize = DEFAULT_PAGE_SIZE,
):
    """Evidence of your funds, newest observation first."""
    queryset = reads.evidence(
        request.user, fund=fund, company=company, task=task, verified=verified
    )
    return _page(queryset, page, page_size, _evidence_out)


@api.post(
    "/evidence",
    response={201: EvidenceOut, **WRITE_ERRORS},
    url_name="evidence_list",
    tags=["evidence"],
)
def create_evidence(request, payload: EvidenceIn):
    """Record one note of evidence; its task is re-scored after the save."""
    _require_write(request)
    task = _task(request, payload.task)
    access.require(request.user, access.ADD_EVIDENCE, task.company.fund_id)
    fields = payload.model_dump(exclude={"task"})
    fields["stance"] = STANCE_VALUES[payload.stance.value]
    data = _valid(EvidenceForm(_form_data(fields)))
    evidence = services.evidence_create(task=task, author=request.user, **data)
    return Status(201, _evidence_out(_evidence(request, evidence.pk)))


@api.get(
    "/evidence/{evidence_id}",
    response={200: EvidenceOut, **ERRORS},
    url_name="evidence",
    tags=["evidence"],
)
def get_evidence(request, evidence_id: Id):
    return _evidence_out(_evidence(request, evidence_id))


@api.patch(
    "/evidence/{evidence_id}",
    response={200: EvidenceOut, **WRITE_ERRORS},
    url_name="evidence",
    tags=["evidence"],
)
def edit_evidence(request, evidence_id: Id, payload: EvidencePatch):
    """Edit evidence (partners any, associates their own); `version` as read, else 409."""
    _require_write(request)
    evidence = _evidence(request, evidence_id)
    access.require_evidence_edit(request.user, evidence)
    changes = payload.model_dump(exclude_unset=True, exclude={"version"})
    if changes.get("stance") is not None:
        changes["stance"] = STANCE_VALUES[payload.stance.value]
    current = {name: getattr(evidence, name) for name in EVIDENCE_FIELDS}
    data = _valid(EvidenceForm(_form_data({**current, **changes})))
    updated = services.evidence_update(
        evidence=evidence, editor=request.user, expected_version=payload.version, **data
    )
    return _evidence_out(_evidence(request, updated.pk))


# --- alerts -------------------------------------------------------------------------------


@api.get("/alerts", response={200: page_of(AlertOut), **ERRORS}, url_name="alerts", tags=["alerts"])
def list_alerts(
    request,
    fund: Id | None = None,
    company: Id | None = None,
    unread: bool | None = None,
    page: Page = 1,
    page_size: PageSize = DEFAULT_PAGE_SIZE,
):
    """Alerts raised by re-scores, newest first, with the values before and after."""
    queryset = reads.alerts(request.user, fund=fund, company=company, unread=unread)
    return _page(queryset, page, page_size, _alert_out)
