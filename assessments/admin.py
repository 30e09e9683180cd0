from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    SCORE_FIELDS,
    Alert,
    Company,
    CompanySnapshot,
    Evidence,
    Fund,
    Membership,
    RubricVersion,
    Task,
    TaskSnapshot,
)


@admin.register(Fund)
class FundAdmin(SimpleHistoryAdmin):
    search_fields = ["name"]


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "fund", "role"]
    list_filter = ["fund", "role"]
    autocomplete_fields = ["user", "fund"]


@admin.register(Company)
class CompanyAdmin(SimpleHistoryAdmin):
    list_display = ["name", "fund", "sector", "stage", "status", "quadrant", "x", "y"]
    list_filter = ["fund", "status", "quadrant", "sector"]
    search_fields = ["name"]
    readonly_fields = SCORE_FIELDS


@admin.register(Task)
class TaskAdmin(SimpleHistoryAdmin):
    list_display = ["name", "company", "weight", "quadrant", "x", "y", "stale_since"]
    list_filter = ["company__fund", "quadrant"]
    search_fields = ["name", "company__name"]
    list_select_related = ["company"]
    readonly_fields = (*SCORE_FIELDS, "input_version", "scored_version", "stale_since")


@admin.register(Evidence)
class EvidenceAdmin(SimpleHistoryAdmin):
    list_display = [
        "task",
        "factor",
        "stance",
        "strength",
        "confidence",
        "observed_on",
        "author",
        "verified_at",
    ]
    list_filter = ["factor", "confidence", "task__company__fund"]
    search_fields = ["note", "source", "task__name", "task__company__name"]
    list_select_related = ["task__company", "author"]
    raw_id_fields = ["task"]


@admin.register(RubricVersion)
class RubricVersionAdmin(SimpleHistoryAdmin):
    list_display = ["number", "name", "is_active", "activated_at"]


@admin.register(TaskSnapshot)
class TaskSnapshotAdmin(admin.ModelAdmin):
    list_display = ["task", "as_of", "quadrant", "x", "y"]
    list_filter = ["as_of"]
    raw_id_fields = ["task"]


@admin.register(CompanySnapshot)
class CompanySnapshotAdmin(admin.ModelAdmin):
    list_display = ["company", "as_of", "quadrant", "x", "y"]
    list_filter = ["as_of"]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["company", "task", "kind", "message", "as_of", "read_at"]
    list_filter = ["kind"]
