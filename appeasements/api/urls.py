from django.urls import path

from appeasements.api import views

urlpatterns = [
    path("appeasements", views.AppeasementListCreateView.as_view(), name="ccagent-appeasements"),
    path("appeasements/initiate", views.AppeasementInitiateView.as_view(), name="ccagent-appeasements-initiate"),
    path("appeasements/submit", views.AppeasementSubmitView.as_view(), name="ccagent-appeasements-submit"),
    path("appeasements/<str:appeasement_id>", views.AppeasementDetailView.as_view(), name="ccagent-appeasement"),
]
