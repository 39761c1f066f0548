from django.urls import path

from webhooks.api import views

urlpatterns = [
    path("webhooks/", views.SubscriptionListCreateView.as_view(), name="webhook-list"),
    path("webhooks/<str:subscription_id>", views.SubscriptionDetailView.as_view(), name="webhook-detail"),
    path("webhooks/<str:subscription_id>/rotate-secret", views.SubscriptionRotateView.as_view(), name="webhook-rotate"),
    path("webhooks/<str:subscription_id>/test", views.SubscriptionTestView.as_view(), name="webhook-test"),
    path(
        "webhooks/<str:subscription_id>/deliveries",
        views.SubscriptionDeliveriesView.as_view(),
        name="webhook-deliveries",
    ),
]
