from django.urls import path

from .views import (
    audit,
    companies,
    exports,
    health,
    imports,
    members,
    portfolio,
    review,
    rubric,
)
from .views import map as map_views

urlpatterns = [
    path("portfolio/", portfolio.portfolio, name="portfolio"),
    path("", map_views.map_page, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("funds/<int:fund_id>/members/", members.fund_members, name="fund_members"),
    path(
        "funds/<int:fund_id>/members/<int:membership_id>/role/",
        members.fund_member_role,
        name="fund_member_role",
    ),
    path(
        "funds/<int:fund_id>/members/<int:membership_id>/remove/",
        members.fund_member_remove,
        name="fund_member_remove",
    ),
    path("funds/<int:fund_id>/audit/", audit.fund_audit, name="fund_audit"),
    path("funds/<int:fund_id>/import/", imports.evidence_import, name="evidence_import"),
    path(
        "funds/<int:fund_id>/import/<int:import_id>/progress/",
        imports.evidence_import_progress,
        name="evidence_import_progress",
    ),
    path("rubric/", rubric.rubric, name="rubric"),
    path("rubric/<int:version_id>/", rubric.rubric_draft, name="rubric_draft"),
    path(
        "rubric/<int:version_id>/discard/", rubric.rubric_draft_discard, name="rubric_draft_discard"
    ),
    path("rubric/<int:version_id>/preview/", rubric.rubric_preview, name="rubric_preview"),
    path("rubric/<int:version_id>/activate/", rubric.rubric_activate, name="rubric_activate"),
    path("rubric/<int:version_id>/activation/", rubric.rubric_activation, name="rubric_activation"),
    path("exports/map.<str:fmt>", exports.export_map, name="export_map"),
    path(
        "exports/task/<int:task_id>/waterfall.<str:fmt>",
        exports.export_task_waterfall,
        name="export_task_waterfall",
    ),
    path(
        "exports/company/<int:company_id>/history.<str:fmt>",
        exports.export_company_history,
        name="export_company_history",
    ),
    path("exports/ic-pack/<int:fund_id>/", exports.ic_pack, name="ic_pack"),
    path(
        "exports/ic-pack/progress/<int:pack_id>/",
        exports.ic_pack_progress,
        name="ic_pack_progress",
    ),
    path(
        "exports/ic-pack/download/<int:pack_id>/",
        exports.ic_pack_download,
        name="ic_pack_download",
    ),
    # Company pages and evidence entry
    path("companies/<int:pk>/", companies.company_detail, name="company_detail"),
    path("companies/<int:pk>/header/", companies.company_header, name="company_header"),
    path("companies/<int:pk>/why-it-moved/", rubric.company_insight, name="company_insight"),
    path("companies/<int:pk>/edit/", companies.company_edit, name="company_edit"),
    path("companies/<int:pk>/delete/", companies.company_delete, name="company_delete"),
    path("companies/<int:pk>/tasks/new/", companies.task_create, name="task_create"),
    path("funds/<int:fund_id>/companies/new/", companies.company_create, name="company_create"),
    path("tasks/<int:pk>/edit/", companies.task_edit, name="task_edit"),
    path("tasks/<int:pk>/delete/", companies.task_delete, name="task_delete"),
    path("tasks/<int:pk>/scores/", companies.task_scores, name="task_scores"),
    path(
        "tasks/<int:pk>/evidence/history/",
        companies.task_evidence_history,
        name="task_evidence_history",
    ),
    path("tasks/<int:pk>/evidence/new/", companies.evidence_create, name="evidence_create"),
    path("evidence/<int:pk>/", companies.evidence_row, name="evidence_row"),
    path("evidence/<int:pk>/edit/", companies.evidence_edit, name="evidence_edit"),
    path("evidence/<int:pk>/delete/", companies.evidence_delete, name="evidence_delete"),
    path("evidence/<int:pk>/history/", companies.evidence_history, name="evidence_history"),
    # The partners' review queue
    path("review/", review.review_queue, name="review_queue"),
    path("review/bulk/", review.review_bulk, name="review_bulk"),
    path("review/evidence/<int:pk>/verify/", review.evidence_verify, name="evidence_verify"),
    path(
        "review/evidence/<int:pk>/send-back/",
        review.evidence_send_back,
        name="evidence_send_back",
    ),
    path("review/alerts/<int:pk>/read/", review.alert_read, name="alert_read"),
    path("review/alerts/read/", review.alerts_read_all, name="alerts_read_all"),
    path(
        "review/contradictions/resolve/",
        review.contradiction_resolve,
        name="contradiction_resolve",
    ),
]
