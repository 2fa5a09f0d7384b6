"""The product's URLs plus the benchmark's plain comparison views (ROOT_URLCONF=bench.urls)."""

from django.urls import path

from backend.urls import urlpatterns as product_urlpatterns
from bench import views

urlpatterns = [
    *product_urlpatterns,
    path("bench/plain/me/", views.me, name="bench-me"),
    path("bench/plain/members/", views.members, name="bench-members"),
    path("bench/plain/contacts/", views.contacts, name="bench-contacts"),
]
