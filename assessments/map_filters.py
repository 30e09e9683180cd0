"""The map's query string read into MapFilters: one parser for the map page and its exports,
so an export is exactly the view it was asked from."""

from __future__ import annotations

from django import forms
from django.http import QueryDict

from . import selectors_map as sm
from .models import CompanyStatus, Quadrant


class MapFilterForm(forms.Form):
    """The query string of the map; anything unreadable falls back to the default."""

    fund = forms.IntegerField(required=False)
    sector = forms.CharField(required=False)
    stage = forms.CharField(required=False)
    status = forms.ChoiceField(required=False, choices=[("", "")] + CompanyStatus.choices)
    lead = forms.IntegerField(required=False)
    quadrant = forms.ChoiceField(required=False, choices=[("", "")] + Quadrant.choices)
    as_of = forms.DateField(required=False)
    since = forms.DateField(required=False)
    per = forms.ChoiceField(required=False, choices=[(sm.COMPANY, ""), (sm.TASK, "")])
    size = forms.ChoiceField(required=False, choices=[(sm.CHECK_SIZE, ""), (sm.ARR, "")])
    colour = forms.ChoiceField(required=False, choices=[(sm.BY_QUADRANT, ""), (sm.BY_SECTOR, "")])
    sort = forms.CharField(required=False)


def parse_filters(query: QueryDict) -> sm.MapFilters:
    form = MapFilterForm(query)
    form.is_valid()
    data = {name: form.cleaned_data.get(name) for name in form.fields if name in form.cleaned_data}
    sort = data.get("sort") or "name"
    return sm.MapFilters(
        fund=data.get("fund"),
        sector=data.get("sector") or "",
        stage=data.get("stage") or "",
        status=data.get("status") or "",
        lead=data.get("lead"),
        quadrant=data.get("quadrant") or "",
        as_of=data.get("as_of"),
        since=data.get("since"),
        per=data.get("per") or sm.COMPANY,
        size_by=data.get("size") or sm.CHECK_SIZE,
        colour_by=data.get("colour") or sm.BY_QUADRANT,
        sort=sort if sort.lstrip("-") in sm.SORT_KEYS else "name",
    )
