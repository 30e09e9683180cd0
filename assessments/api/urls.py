"""The JSON API, its OpenAPI schema (openapi.json) and its docs (docs)."""

from django.urls import path

from . import api

urlpatterns = [path("api/v1/", api.urls)]
