from django.urls import path

from orders.api import views

urlpatterns = [
    path("orders", views.OrderListCreateView.as_view(), name="order-list"),
    path("orders/<str:order_id>", views.OrderDetailView.as_view(), name="order-detail"),
    path(
        "orders/<str:order_id>/order-items/<str:order_item_id>",
        views.OrderItemUpdateView.as_view(),
        name="order-item-update",
    ),
    path("categories", views.CategoryListCreateView.as_view(), name="category-list"),
]
