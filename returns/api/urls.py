from django.urls import path

from returns.api import views

urlpatterns = [
    path("orders/<str:order_id>/returns", views.OrderReturnsView.as_view(), name="order-returns"),
]
