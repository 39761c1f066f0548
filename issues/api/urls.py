from django.urls import path

from issues.api import views

urlpatterns = [
    path("orders/<str:order_id>/issues", views.OrderIssueListCreateView.as_view(), name="order-issue-list"),
    path(
        "orders/<str:order_id>/issues/<str:issue_id>", views.OrderIssueDetailView.as_view(), name="order-issue-detail"
    ),
    path(
        "orders/<str:order_id>/issues/<str:issue_id>/history",
        views.OrderIssueHistoryView.as_view(),
        name="order-issue-history",
    ),
    path("issues", views.IssueListView.as_view(), name="issue-list"),
    path("issues/metrics", views.IssueMetricsView.as_view(), name="issue-metrics"),
    path("approvals", views.ApprovalListView.as_view(), name="approval-list"),
    path("approvals/<str:approval_id>/approve", views.ApprovalApproveView.as_view(), name="approval-approve"),
    path("approvals/<str:approval_id>/reject", views.ApprovalRejectView.as_view(), name="approval-reject"),
    path("approvals/<str:approval_id>/cancel", views.ApprovalCancelView.as_view(), name="approval-cancel"),
]
