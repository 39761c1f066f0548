from django.urls import path

from returns.fabric import views

urlpatterns = [
    path("orders/return", views.FabricOrderReturnView.as_view(), name="fabric-order-return"),
    path("orders/cancel", views.FabricOrderCancelView.as_view(), name="fabric-order-cancel"),
    path("orders/<str:order_id>", views.FabricOrderDetailView.as_view(), name="fabric-order-detail"),
]
