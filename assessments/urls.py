from django.urls import path

from .views import map as map_views
from .views import portfolio

urlpatterns = [
    path("portfolio/", portfolio.portfolio, name="portfolio"),
    path("", map_views.map_page, name="home"),
    path("map/companies/<int:pk>/panel/", map_views.map_company_panel, name="map_company_panel"),
]
