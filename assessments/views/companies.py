"""The company page: header, tasks, "why it sits there" charts, evidence entry and live
re-scoring; create, edit and delete of companies and tasks."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling, reswap, retarget

from .. import access, models, scoring, selectors, services
from ..forms import CompanyForm, EvidenceForm, TaskForm, evidence_form_for
from ..models import Company, Evidence, Fund, Task
from ..selectors import company as company_selectors

PAGE = "assessments/company_detail.html"
EDIT_ROW = "assessments/evidence_edit.html"


def _company(request: HttpRequest, pk: int) -> Company:
    return access.get_scoped_or_404(
        Company.objects.select_related("fund", "lead_partner"), request.user, pk=pk
    )


def _task(request: HttpRequest, pk: int) -> Task:
    return access.get_scoped_or_404(
        Task.objects.select_related("company__fund", "company__lead_partner"), request.user, pk=pk
    )


def _evidence(request: HttpRequest, pk: int) -> Evidence:
    return access.get_scoped_or_404(
        Evidence.objects.select_related("task__company__fund", "author", "verified_by"),
        request.user,
        pk=pk,
    )


# One rule for the pages and the API (access.py).
_require_evidence_edit = access.require_evidence_edit


def _permissions(user, fund_id: int) -> dict:
    return {
        "can_add": access.can(user, access.ADD_EVIDENCE, fund_id),
        "can_edit_companies": access.can(user, access.EDIT_COMPANIES, fund_id),
        "can_edit_any": access.can(user, access.EDIT_ANY_EVIDENCE, fund_id),
        "can_review": access.can(user, access.VERIFY_EVIDENCE, fund_id),
    }


def _page_context(request: HttpRequest, company: Company, task_id: int | None = None) -> dict:
    return {
        **company_selectors.company_page(company, task_id=task_id),
        **_permissions(request.user, company.fund_id),
    }


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def describe_move(before: scoring.Score, after: scoring.Score, rubric: scoring.Rubric) -> str:
    """What a recompute moved, in words: "y 61 → 68, now Untrainable"."""
    if not after.is_scored:
        return "now Unscored" if before.is_scored else "still Unscored"
    if not before.is_scored:
        return f"now scored: x {_fmt(after.x)}, y {_fmt(after.y)}, {rubric.label(after.quadrant)}"
    parts = [
        f"{axis} {_fmt(old)} → {_fmt(new)}"
        for axis, old, new in (("x", before.x, after.x), ("y", before.y, after.y))
        if _fmt(old) != _fmt(new)
    ]
    if before.quadrant != after.quadrant:
        parts.append(f"now {rubric.label(after.quadrant)}")
    return ", ".join(parts) or "scores unchanged"


def _score_params(prefix: str, score: scoring.Score) -> dict:
    if not score.is_scored:
        return {f"{prefix}q": scoring.UNSCORED}
    return {
        f"{prefix}x": f"{score.x:.4f}",
        f"{prefix}y": f"{score.y:.4f}",
        f"{prefix}q": score.quadrant,
    }


def _score_from_params(prefix: str, params: QueryDict) -> scoring.Score | None:
    quadrant = params.get(f"{prefix}q")
    if quadrant not in (*scoring.QUADRANTS, scoring.UNSCORED):
        return None
    if quadrant == scoring.UNSCORED:
        return scoring.Score(50.0, 50.0, 0.0, scoring.UNSCORED, None, None)
    try:
        x, y = float(params[f"{prefix}x"]), float(params[f"{prefix}y"])
    except (KeyError, ValueError):
        return None
    return scoring.Score(x, y, 0.0, quadrant, None, None)


def _moves(context: dict, task_before, company_before, task_view) -> dict:
    """The 'what moved' sentence once re-scored, or the poll parameters while pending."""
    if task_view.is_pending:
        return {
            "poll_query": urlencode(
                {**_score_params("t", task_before), **_score_params("c", company_before)}
            )
        }
    rubric = context["rubric"]
    company = context["company"]
    task_move = describe_move(task_before, selectors.stored_score(task_view.task), rubric)
    company_move = describe_move(company_before, selectors.stored_score(company), rubric)
    return {"moved": f"Task: {task_move}. Company: {company_move}."}


def _task_view(context: dict, task_id: int):
    return next(tv for tv in context["tasks"] if tv.task.pk == task_id)


def _after_evidence_change(
    request: HttpRequest, company_id: int, task_id: int, task_before, company_before, **extra
) -> HttpResponse:
    """The response to an evidence save or delete: the task's scores and the company header
    swapped in place (out of band), with what moved, or a poller while a worker re-scores."""
    company = Company.objects.select_related("fund", "lead_partner").get(pk=company_id)
    if not request.htmx:
        return redirect("company_detail", pk=company_id)
    context = _page_context(request, company, task_id)
    tv = _task_view(context, task_id)
    context.update(tv=tv, oob=True, **_moves(context, task_before, company_before, tv), **extra)
    return render(request, f"{PAGE}#evidence-saved", context)


# --- Company ------------------------------------------------------------------------------


@login_required
def company_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A company: header, tasks with scores, charts, evidence and the evidence form."""
    company = _company(request, pk)
    context = _page_context(request, company)
    for tv in context["tasks"]:
        tv.form = evidence_form_for(tv.task.pk)
    return render(request, PAGE, context)


@login_required
def company_header(request: HttpRequest, pk: int) -> HttpResponse:
    """The header's scores, re-read when the page hears scoresChanged."""
    company = _company(request, pk)
    context = {
        "company": company,
        "rubric": selectors.active_rubric_version().to_rubric(),
        **_permissions(request.user, company.fund_id),
    }
    return render(request, f"{PAGE}#company-header", context)


@login_required
@require_http_methods(["GET", "POST"])
def company_create(request: HttpRequest, fund_id: int) -> HttpResponse:
    fund = access.get_scoped_or_404(Fund.objects.all(), request.user, pk=fund_id)
    access.require(request.user, access.EDIT_COMPANIES, fund.pk)
    form = CompanyForm(request.POST or None, fund_id=fund.pk)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        company = services.company_create(fund_id=fund.pk, user=request.user, **data)
        messages.success(request, f"{company.name} added to {fund.name}.")
        return redirect("company_detail", pk=company.pk)
    return render(request, "assessments/company_form.html", {"form": form, "fund": fund})


@login_required
@require_http_methods(["GET", "POST"])
def company_edit(request: HttpRequest, pk: int) -> HttpResponse:
    company = _company(request, pk)
    access.require(request.user, access.EDIT_COMPANIES, company.fund_id)
    form = CompanyForm(request.POST or None, instance=company, fund_id=company.fund_id)
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        expected = form.cleaned_data.get("version") or 0
        try:
            services.company_update(
                company=company, editor=request.user, expected_version=expected, **data
            )
        except services.ConflictError as error:
            conflict = _conflict_rows(error.current, data, CompanyForm.Meta.fields)
            conflict_message = str(error)
            # Saving again after comparing is a deliberate choice, made from the current version.
            post = request.POST.copy()
            post["version"] = error.current.version
            form = CompanyForm(post, instance=error.current, fund_id=company.fund_id)
            form.is_valid()
            return render(
                request,
                "assessments/company_form.html",
                {
                    "form": form,
                    "fund": company.fund,
                    "company": company,
                    "conflict": conflict,
                    "conflict_message": conflict_message,
                },
                status=409,
            )
        messages.success(request, "Company saved.")
        return redirect("company_detail", pk=company.pk)
    return render(
        request,
        "assessments/company_form.html",
        {"form": form, "fund": company.fund, "company": company},
    )


def _conflict_rows(current, mine: dict, fields) -> list[tuple[str, object, object]]:
    """(field, your value, the current saved value) for the fields that differ."""
    rows = []
    for name in fields:
        theirs = getattr(current, name)
        yours = mine.get(name)
        if str(theirs if theirs is not None else "") != str(yours if yours is not None else ""):
            rows.append((name.replace("_", " "), yours, theirs))
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def company_delete(request: HttpRequest, pk: int) -> HttpResponse:
    company = _company(request, pk)
    access.require(request.user, access.EDIT_COMPANIES, company.fund_id)
    if request.method == "POST":
        name = company.name
        services.company_delete(company=company, user=request.user)
        messages.success(request, f"{name} deleted.")
        return redirect("portfolio")
    return render(
        request, "assessments/confirm_delete.html", {"object": company, "kind": "company"}
    )


# --- Task ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def task_create(request: HttpRequest, pk: int) -> HttpResponse:
    company = _company(request, pk)
    access.require(request.user, access.EDIT_COMPANIES, company.fund_id)
    form = TaskForm(request.POST or None, company=company)
    if request.method == "POST" and form.is_valid():
        services.task_create(company=company, user=request.user, **form.cleaned_data)
        messages.success(request, "Task added.")
        return redirect("company_detail", pk=company.pk)
    return render(request, "assessments/task_form.html", {"form": form, "company": company})


@login_required
@require_http_methods(["GET", "POST"])
def task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    company = task.company
    access.require(request.user, access.EDIT_COMPANIES, company.fund_id)
    form = TaskForm(request.POST or None, instance=task, company=company)
    if request.method == "POST" and form.is_valid():
        services.task_update(task=task, user=request.user, **form.cleaned_data)
        messages.success(request, "Task saved.")
        return redirect("company_detail", pk=company.pk)
    return render(
        request, "assessments/task_form.html", {"form": form, "company": company, "task": task}
    )


@login_required
@require_http_methods(["GET", "POST"])
def task_delete(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    company = task.company
    access.require(request.user, access.EDIT_COMPANIES, company.fund_id)
    if request.method == "POST":
        services.task_delete(task=task, user=request.user)
        messages.success(request, f"Task {task.name} deleted.")
        return redirect("company_detail", pk=company.pk)
    return render(request, "assessments/confirm_delete.html", {"object": task, "kind": "task"})


@login_required
def task_scores(request: HttpRequest, pk: int) -> HttpResponse:
    """A task's scores region; polled while its recompute is pending, then stops (286)
    and tells the page that scores changed."""
    task = _task(request, pk)
    company = task.company
    context = _page_context(request, company, task.pk)
    tv = _task_view(context, task.pk)
    task_before = _score_from_params("t", request.GET)
    company_before = _score_from_params("c", request.GET)
    polling = task_before is not None and company_before is not None
    if polling:
        context.update(_moves(context, task_before, company_before, tv))
    context["tv"] = tv
    response = render(request, f"{PAGE}#task-scores", context)
    if polling and not tv.is_pending:
        response = HttpResponseStopPolling(response.content)
        response["HX-Trigger"] = "scoresChanged"
    return response


# --- Evidence -----------------------------------------------------------------------------


@login_required
@require_POST
def evidence_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Save a new evidence row from the inline form; errors come back beside the fields."""
    task = _task(request, pk)
    access.require(request.user, access.ADD_EVIDENCE, task.company.fund_id)
    form = evidence_form_for(task.pk, request.POST, focus=True)
    if not form.is_valid():
        return render(request, f"{PAGE}#evidence-form", {"task": task, "evidence_form": form})
    task_before = selectors.stored_score(task)
    company_before = selectors.stored_score(task.company)
    services.evidence_create(task=task, author=request.user, **form.evidence_fields())
    return _after_evidence_change(
        request,
        task.company_id,
        task.pk,
        task_before,
        company_before,
        evidence_form=evidence_form_for(task.pk, focus=True),
        list_oob=True,
    )


@login_required
@require_http_methods(["GET", "POST"])
def evidence_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit one evidence row in place; a save from an old version is refused and both
    versions are shown."""
    evidence = _evidence(request, pk)
    _require_evidence_edit(request.user, evidence)
    task = evidence.task
    if request.method == "GET":
        form = EvidenceForm(
            auto_id=f"id_%s_ev{evidence.pk}",
            initial={
                **{name: getattr(evidence, name) for name in models.EVIDENCE_FIELDS},
                "version": evidence.version,
            },
        )
        return _edit_row(request, evidence, form)
    form = EvidenceForm(request.POST, auto_id=f"id_%s_ev{evidence.pk}")
    if not form.is_valid():
        return _edit_row(request, evidence, form)
    task_before = selectors.stored_score(task)
    company_before = selectors.stored_score(task.company)
    try:
        services.evidence_update(
            evidence=evidence,
            editor=request.user,
            expected_version=form.cleaned_data.get("version") or 0,
            **form.evidence_fields(),
        )
    except services.ConflictError as error:
        post = request.POST.copy()
        post["version"] = error.current.version
        form = EvidenceForm(post, auto_id=f"id_%s_ev{evidence.pk}")
        form.is_valid()
        return _edit_row(
            request,
            error.current,
            form,
            conflict=_conflict_rows(error.current, form.evidence_fields(), models.EVIDENCE_FIELDS),
            conflict_message=str(error),
            status=409 if not request.htmx else 200,
        )
    return _after_evidence_change(request, task.company_id, task.pk, task_before, company_before)


def _edit_row(request, evidence, form, status: int = 200, **extra) -> HttpResponse:
    template = f"{EDIT_ROW}#edit-row" if request.htmx else EDIT_ROW
    response = render(
        request, template, {"evidence": evidence, "form": form, **extra}, status=status
    )
    if request.htmx:
        # The form posts to the whole list; errors and conflicts replace only this row.
        response = retarget(response, f"#evidence-{evidence.pk}")
        response = reswap(response, "outerHTML")
    return response


@login_required
def evidence_row(request: HttpRequest, pk: int) -> HttpResponse:
    """One evidence row as shown in the list (to cancel an edit)."""
    evidence = _evidence(request, pk)
    context = {"ev": evidence, "user": request.user}
    context.update(_permissions(request.user, evidence.task.company.fund_id))
    return render(request, f"{PAGE}#evidence-row", context)


@login_required
@require_POST
def evidence_delete(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = _evidence(request, pk)
    _require_evidence_edit(request.user, evidence)
    task = evidence.task
    task_before = selectors.stored_score(task)
    company_before = selectors.stored_score(task.company)
    services.evidence_delete(evidence=evidence, user=request.user)
    return _after_evidence_change(
        request, task.company_id, task.pk, task_before, company_before, deleted=True
    )


@login_required
def evidence_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Every saved version of the evidence with what changed; partners only."""
    evidence = _evidence(request, pk)
    access.require(request.user, access.VERIFY_EVIDENCE, evidence.task.company.fund_id)
    return render(
        request,
        "assessments/evidence_history.html",
        {
            "task": evidence.task,
            "title": f"History of evidence #{evidence.pk}",
            "groups": [(evidence.pk, company_selectors.evidence_history(evidence))],
        },
    )


@login_required
def task_evidence_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Every change to the task's evidence, deleted rows included; partners only."""
    task = _task(request, pk)
    access.require(request.user, access.VERIFY_EVIDENCE, task.company.fund_id)
    return render(
        request,
        "assessments/evidence_history.html",
        {
            "task": task,
            "title": f"Evidence history of {task.name}",
            "groups": company_selectors.task_evidence_history(task),
        },
    )
