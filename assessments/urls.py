from django.urls import path

from .views import portfolio

urlpatterns = [
    path("portfolio/", portfolio.portfolio, name="portfolio"),
    path("", portfolio.portfolio, name="home"),
]
