from django.urls import path

from .views import health, portfolio

urlpatterns = [
    path("portfolio/", portfolio.portfolio, name="portfolio"),
    path("", portfolio.portfolio, name="home"),
    path("healthz", health.healthz, name="healthz"),
]
