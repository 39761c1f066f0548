"""Infrastructure rows of the API (not domain data, so no history)."""

from django.db import models
from django.utils import timezone


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
