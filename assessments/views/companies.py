"""The company page: header, tasks, "why it sits there" charts, evidence entry and live
re-scoring; create, edit and delete of companies and tasks."""

from __future__ import annotations

import contextlib
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import HttpResponseStopPolling, reswap, retarget, trigger_client_event

from .. import access, directions, models, scoring, selectors, services
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
        "directions": directions.table(),
    }


def _sticky_key(task_id: int) -> str:
    return f"evidence-form:{task_id}"


def _sticky(request: HttpRequest, task_id: int) -> dict:
    """Source, strength and confidence as this user last saved them on this task's form."""
    saved = request.session.get(_sticky_key(task_id))
    return saved if isinstance(saved, dict) else {}


def _remember_sticky(request: HttpRequest, task_id: int, form: EvidenceForm) -> dict:
    request.session[_sticky_key(task_id)] = form.sticky()
    return form.sticky()


def _full_page(request: HttpRequest, company: Company, bound: dict | None = None, status=200):
    """The whole company page, each task's evidence form primed with this user's last choices;
    with bound {task id: form}, those forms as posted (a non-htmx post with errors)."""
    context = _page_context(request, company)
    bound = bound or {}
    for tv in context["tasks"]:
        tv.form = bound.get(tv.task.pk) or evidence_form_for(
            tv.task.pk, initial=_sticky(request, tv.task.pk)
        )
    return render(request, PAGE, context, status=status)


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
        return scoring.Score.unscored()
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
@require_safe
def company_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A company: header, tasks with scores, charts, evidence and the evidence form."""
    return _full_page(request, _company(request, pk))


@login_required
@require_safe
def company_header(request: HttpRequest, pk: int) -> HttpResponse:
    """The header's scores, re-read when the page hears scoresChanged."""
    company = _company(request, pk)
    context = {
        "company": company,
        "task_mix": company_selectors.task_mix(company.tasks.all()),
        "rubric": selectors.active_rubric_version().to_rubric(),
        **_permissions(request.user, company.fund_id),
    }
    return render(request, f"{PAGE}#company-header", context)


def _create(request: HttpRequest, form, create, said) -> HttpResponse | None:
    """Run a create from a valid form: the company page with a message, or None with the
    clash on the name field when an identical create just won (a double submit)."""
    try:
        made = create()
    except services.AlreadyExists as clash:
        form.add_error("name", str(clash))
        return None
    company_id, message = said(made)
    messages.success(request, message)
    return redirect("company_detail", pk=company_id)


@login_required
@require_http_methods(["GET", "POST"])
def company_create(request: HttpRequest, fund_id: int) -> HttpResponse:
    fund = access.get_scoped_or_404(Fund.objects.all(), request.user, pk=fund_id)
    access.require(request.user, access.EDIT_COMPANIES, fund.pk)
    form = CompanyForm(request.POST or None, fund_id=fund.pk)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        done = _create(
            request,
            form,
            lambda: services.company_create(fund_id=fund.pk, user=request.user, **data),
            lambda company: (company.pk, f"{company.name} added to {fund.name}."),
        )
        if done:
            return done
    return render(request, "assessments/company_form.html", {"form": form, "fund": fund})


@login_required
@require_http_methods(["GET", "POST"])
def company_edit(request: HttpRequest, pk: int) -> HttpResponse:
    company = _company(request, pk)
    access.require(request.user, access.EDIT_COMPANIES, company.fund_id)
    form = CompanyForm(request.POST or None, instance=company, fund_id=company.fund_id)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        expected = form.cleaned_data.get("version") or 0
        try:
            services.company_update(
                company=company, editor=request.user, expected_version=expected, **data
            )
        except services.ConflictError as error:
            form, conflict = _edit_conflict(
                request,
                error,
                data,
                CompanyForm.Meta.fields,
                CompanyForm,
                instance=error.current,
                fund_id=company.fund_id,
            )
            return render(
                request,
                "assessments/company_form.html",
                {"form": form, "fund": company.fund, "company": company, **conflict},
                status=409,
            )
        messages.success(request, "Company saved.")
        return redirect("company_detail", pk=company.pk)
    return render(
        request,
        "assessments/company_form.html",
        {"form": form, "fund": company.fund, "company": company},
    )


def _edit_conflict(request, error: services.ConflictError, mine: dict, fields, form_class, **kw):
    """Someone saved the record after this edit began: the form as posted, re-based on the
    current version (saving again after comparing is a deliberate choice), and the context
    that shows (field, your value, the current saved value) for each field that differs."""
    rows = []
    for name in fields:
        theirs = getattr(error.current, name)
        yours = mine.get(name)
        if str(theirs if theirs is not None else "") != str(yours if yours is not None else ""):
            rows.append((name.replace("_", " "), yours, theirs))
    # Compared first: validating a model form writes the posted values onto its instance.
    post = request.POST.copy()
    post["version"] = error.current.version
    form = form_class(post, **kw)
    form.is_valid()
    return form, {"conflict": rows, "conflict_message": str(error)}


@login_required
@require_http_methods(["GET", "POST"])
def company_delete(request: HttpRequest, pk: int) -> HttpResponse:
    company = _company(request, pk)
    access.require(request.user, access.EDIT_COMPANIES, company.fund_id)
    if request.method == "POST":
        name = company.name
        try:
            services.company_delete(company=company, user=request.user)
        except services.VerifiedEvidenceError as refused:
            return _confirm_delete(request, company, "company", error=str(refused))
        messages.success(request, f"{name} deleted.")
        return redirect("portfolio")
    return _confirm_delete(request, company, "company")


def _confirm_delete(request: HttpRequest, obj, kind: str, error: str = "") -> HttpResponse:
    """The confirm page says what goes, for every role; what partners verified needs a
    partner (refused with 403 and the reason)."""
    summary = company_selectors.deletion_summary(**{kind: obj})
    fund_id = obj.fund_id if kind == "company" else obj.company.fund_id
    may_delete = summary.verified == 0 or access.can(request.user, access.VERIFY_EVIDENCE, fund_id)
    context = {
        "object": obj,
        "kind": kind,
        "summary": summary.sentence(kind),
        "may_delete": may_delete,
        "error": error,
    }
    return render(request, "assessments/confirm_delete.html", context, status=403 if error else 200)


# --- Task ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def task_create(request: HttpRequest, pk: int) -> HttpResponse:
    company = _company(request, pk)
    access.require(request.user, access.EDIT_COMPANIES, company.fund_id)
    form = TaskForm(request.POST or None, company=company)
    if request.method == "POST" and form.is_valid():
        done = _create(
            request,
            form,
            lambda: services.task_create(company=company, user=request.user, **form.cleaned_data),
            lambda task: (company.pk, "Task added."),
        )
        if done:
            return done
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
        try:
            services.task_delete(task=task, user=request.user)
        except services.VerifiedEvidenceError as refused:
            return _confirm_delete(request, task, "task", error=str(refused))
        messages.success(request, f"Task {task.name} deleted.")
        return redirect("company_detail", pk=company.pk)
    return _confirm_delete(request, task, "task")


@login_required
@require_safe
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
        response = trigger_client_event(HttpResponseStopPolling(response.content), "scoresChanged")
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
        if not request.htmx:
            return _full_page(request, task.company, bound={task.pk: form})
        context = {"task": task, "evidence_form": form, "directions": directions.table()}
        return render(request, f"{PAGE}#evidence-form", context)
    task_before = selectors.stored_score(task)
    company_before = selectors.stored_score(task.company)
    # A second identical submit answers as the first did, storing nothing more.
    with contextlib.suppress(services.DuplicateSubmission):
        services.evidence_create(
            task=task,
            author=request.user,
            submission_token=form.cleaned_data.get("submission"),
            **form.evidence_fields(),
        )
    sticky = _remember_sticky(request, task.pk, form)
    # The next note of the same call: same source, strength, confidence and date.
    next_form = evidence_form_for(
        task.pk, focus=True, initial={**sticky, "observed_on": form.cleaned_data["observed_on"]}
    )
    return _after_evidence_change(
        request,
        task.company_id,
        task.pk,
        task_before,
        company_before,
        evidence_form=next_form,
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
        form, conflict = _edit_conflict(
            request,
            error,
            form.evidence_fields(),
            models.EVIDENCE_FIELDS,
            EvidenceForm,
            auto_id=f"id_%s_ev{evidence.pk}",
        )
        return _edit_row(
            request, error.current, form, status=409 if not request.htmx else 200, **conflict
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
@require_safe
def evidence_row(request: HttpRequest, pk: int) -> HttpResponse:
    """One evidence row as shown in the list (to cancel an edit)."""
    evidence = _evidence(request, pk)
    rubric = selectors.active_rubric_version().to_rubric()
    siblings = list(Evidence.objects.filter(task_id=evidence.task_id))
    company_selectors.annotate_effects(siblings, selectors.today(), rubric)
    annotated = next(e for e in siblings if e.pk == evidence.pk)
    evidence.effect_points, evidence.effect_axis = annotated.effect_points, annotated.effect_axis
    evidence.direction = annotated.direction
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
@require_safe
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
@require_safe
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
