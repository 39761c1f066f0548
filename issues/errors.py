"""Domain errors of issues (rendered by whichever API dialect the request came through)."""

from __future__ import annotations

from enum import StrEnum

from config.errors import NotFound


class IssueErrorCode(StrEnum):
    ISSUE_NOT_FOUND = "ISSUE_NOT_FOUND"


class IssueNotFound(NotFound):
    code = IssueErrorCode.ISSUE_NOT_FOUND
    default_message = "Issue not found"
