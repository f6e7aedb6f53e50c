"""The catalog's one page: every product with its picture."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from products.models import Product


def catalog(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog.html", {"products": Product.objects.order_by("pk")})
