from django.urls import path

from .views import audit, exports, imports, members, portfolio, rubric

urlpatterns = [
    path("portfolio/", portfolio.portfolio, name="portfolio"),
    path("", portfolio.portfolio, name="home"),
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
    path("rubric/", rubric.rubric, name="rubric"),
    path("rubric/<int:version_id>/activate/", rubric.rubric_activate, name="rubric_activate"),
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
]
