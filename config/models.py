"""Rows of the API plumbing: stored idempotent answers (infrastructure, no history) and service accounts' grants."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from config.history import HistoricalRecords


class IdempotencyKey(models.Model):
    """The first answer to a write sent with an ``Idempotency-Key`` header, kept for a retry.

    Unique per caller, key, method and path. The row is inserted before the write runs, in the same
    transaction: a concurrent request with the same key waits on the unique index, then replays.
    """

    caller = models.CharField(max_length=160, help_text="user:<pk> or apikey:<key id>")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=512)
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of the request body and preconditions")
    status_code = models.PositiveSmallIntegerField()
    response_body = models.TextField(blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caller", "key", "method", "path"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.caller} {self.method} {self.path} {self.key}"


def default_act_for() -> list[str]:
    return ["agent"]


class ServiceAccount(models.Model):
    """What a service account may do besides writing as itself (an audited setting: every change is history).

    ``act_for``: the roles of the employees it may name in ``updated_by`` / ``agentId`` / ``created_by`` (agents
    only unless managers were granted explicitly). On anyone's behalf it has at most an agent's powers: deciding
    approvals, manager-only transitions and webhook administration need the manager's own credential.
    ``accounts``: the 24-character account ids whose webhook subscriptions it may create and manage.
    Set with ``create_employee ID --role service --act-for agent,manager --accounts ID,ID`` or by an administrator
    in the admin. A service account without a row acts for agents only and manages no account.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="service_grant")
    act_for = models.JSONField(
        default=default_act_for, blank=True, help_text='Roles it may act for: "agent", "manager".'
    )
    accounts = models.JSONField(default=list, blank=True, help_text="Account ids whose webhooks it may manage.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["user__username"]
        verbose_name = "service account grant"

    def __str__(self) -> str:
        return f"{self.user} acts for {', '.join(self.act_for) or 'nobody'}"


class SchedulerJob(models.Model):
    """When the scheduler (``manage.py scheduler``, config/scheduler.py) last ran a periodic command, whichever copy
    ran it: every copy reads it under the job's lock, so a job runs once per interval however many copies run."""

    name = models.CharField(max_length=64, primary_key=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=500, blank=True, help_text="The command's last output line or error.")
    last_ok = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.name} (last started {self.last_started_at})"
