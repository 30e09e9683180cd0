from django.urls import path

from .views import audit, imports, members, portfolio, rubric

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
]
