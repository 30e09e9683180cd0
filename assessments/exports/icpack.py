"""IC packs: one PDF for a fund, the map first, then a page per company.

Built by a Celery job (tasks.build_ic_pack) page by page, so the page that asked
for it can show progress; kept for a day, then swept.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from .. import scoring
from ..charts import memo
from ..models import Evidence, ICPack, ICPackStatus, Task
from ..selectors import map as map_selectors
from . import data as export_data
from . import render as rendering

KEEP_FOR = timedelta(days=1)
NOTES_PER_COMPANY = 5


def pack_path(pack: ICPack) -> Path:
    return Path(settings.MEDIA_ROOT) / pack.file


def _company_pages(data: export_data.MapExport):
    """Per company: the facts, its five most influential notes, its largest task's waterfall."""
    as_of, rubric = data.as_of, data.rubric
    company_ids = [p.company_id for p in data.points]
    tasks = list(Task.objects.filter(company_id__in=company_ids).order_by("-weight", "name"))
    evidence = list(
        Evidence.objects.filter(
            task__company_id__in=company_ids, observed_day__lte=as_of.toordinal()
        ).order_by("-observed_on", "id")
    )
    footnote = export_data.map_text(data).footnote
    for point in data.points:
        score = point.score
        own_tasks = [t for t in tasks if t.company_id == point.company_id]
        largest = own_tasks[0] if own_tasks else None
        own_task_ids = {t.id for t in own_tasks}
        own_evidence = [e for e in evidence if e.task_id in own_task_ids]
        influence = sorted(
            own_evidence,
            key=lambda e: -abs(scoring.contribution(e.as_scoring_row(), as_of, rubric)),
        )[:NOTES_PER_COMPANY]
        runway = "—" if score.runway_years is None else f"{score.runway_years:.1f} years"
        facts = [
            ("Frontier", "—" if not score.is_scored else f"{score.x:.0f}"),
            ("Proprietary", "—" if not score.is_scored else f"{score.y:.0f}"),
            ("Quadrant", rubric.label(score.quadrant)),
            ("Runway", runway),
            ("Confidence", f"{score.confidence:.2f}"),
        ]
        notes = [
            f"{e.factor.replace('_', ' ')} ({e.get_stance_display()}, {e.observed_on:%d %b %Y}): "
            f"{e.note or e.source or 'no note'}"
            for e in influence
        ]
        contributions = export_data.task_contributions(
            [e for e in own_evidence if largest and e.task_id == largest.id], as_of, rubric
        )
        yield memo.company_page_figure(
            name=point.name,
            facts=facts,
            notes=notes,
            contributions=contributions,
            task_name=largest.name if largest else "no tasks yet",
            rubric=rubric,
            text=memo.ChartText(point.name, point.fund, footnote),
        )


def build(pack_id: int) -> str:
    """Render every page, merge them, store the file; progress is saved after each page."""
    pack = ICPack.objects.select_related("fund", "requested_by").get(id=pack_id)
    if pack.status == ICPackStatus.DONE:
        return pack.file
    # The job reads the fund the pack was requested for (the view checked membership).
    filters = map_selectors.MapFilters(fund=pack.fund_id, as_of=pack.as_of)
    data = export_data.map_data(_Operator(), filters)
    ICPack.objects.filter(id=pack.id).update(
        status=ICPackStatus.RUNNING, pages_total=1 + len(data.points), pages_done=0
    )
    try:
        pages = [rendering.render(export_data.map_chart(data, preset="slide"), "pdf")]
        ICPack.objects.filter(id=pack.id).update(pages_done=1)
        for figure in _company_pages(data):
            pages.append(rendering.render(figure, "pdf"))
            ICPack.objects.filter(id=pack.id).update(pages_done=F("pages_done") + 1)
        relative = f"packs/{uuid.uuid4().hex}.pdf"
        target = Path(settings.MEDIA_ROOT) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(rendering.merge_pdfs(pages))
    except Exception as error:
        ICPack.objects.filter(id=pack.id).update(
            status=ICPackStatus.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        if isinstance(error, rendering.ExportUnavailable):
            return ""
        raise
    ICPack.objects.filter(id=pack.id).update(
        status=ICPackStatus.DONE, file=relative, finished_at=timezone.now()
    )
    return relative


class _Operator:
    """The job acts for the system, like the command line: it sees the pack's fund."""

    is_authenticated = True
    is_superuser = True


def sweep_expired(now=None) -> int:
    """Delete packs older than a day, with their files."""
    cutoff = (now or timezone.now()) - KEEP_FOR
    expired = list(ICPack.objects.filter(created_at__lt=cutoff))
    for pack in expired:
        if pack.file:
            pack_path(pack).unlink(missing_ok=True)
    ICPack.objects.filter(id__in=[p.id for p in expired]).delete()
    return len(expired)
