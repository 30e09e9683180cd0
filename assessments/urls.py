from django.urls import path

from .views import exports, portfolio

urlpatterns = [
    path("portfolio/", portfolio.portfolio, name="portfolio"),
    path("", portfolio.portfolio, name="home"),
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
