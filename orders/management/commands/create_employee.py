from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from config.errors import DomainError
from config.people import ROLES, employee_upsert


def _list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [] if value.strip().lower() == "none" else [v.strip() for v in value.split(",") if v.strip()]


class Command(BaseCommand):
    help = (
        "Create or update an employee (username = employee ID) in a role, with their refund limit and, for a "
        "service account, whom it may act for and which accounts' webhooks it may manage; prints the API token "
        "on the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("employee_id")
        parser.add_argument("--role", choices=ROLES, required=True)
        parser.add_argument("--password", default=None, help="Admin login password (agents and managers).")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--limit",
            default=None,
            help="Personal refund limit per order (e.g. 50.00); 'none' removes it (the role's limit applies).",
        )
        parser.add_argument(
            "--act-for",
            default=None,
            help="Service accounts: roles it may act for, comma-separated (agent, manager; default: agent).",
        )
        parser.add_argument(
            "--accounts",
            default=None,
            help="Service accounts: 24-character account ids whose webhook subscriptions it may manage.",
        )

    def handle(self, *args, employee_id: str, role: str, password: str | None, email: str, **options):
        from orders.services import refund_limit_set

        limit = options["limit"]
        try:
            amount = None if limit is None or limit.strip().lower() == "none" else Decimal(limit)
        except InvalidOperation as exc:
            raise CommandError(f"--limit must be an amount such as 50.00 or 'none', not {limit!r}") from exc
        try:
            with transaction.atomic():
                user, token = employee_upsert(
                    employee_id=employee_id,
                    role=role,
                    password=password,
                    email=email,
                    act_for=_list(options["act_for"]),
                    accounts=_list(options["accounts"]),
                )
                if limit is not None:
                    refund_limit_set(employee=user, limit=amount)
        except DomainError as exc:
            detail = "; ".join(f"{e['field']}: {e['error']}" for e in exc.extra.get("validation_errors", []))
            raise CommandError(detail or exc.message) from exc
        self.stderr.write(f"{role} {user.username} ready (admin login: {'yes' if user.is_staff else 'no'})")
        if role == "service":
            from config.people import service_grant

            grant = service_grant(user)
            acts_for, accounts = ", ".join(grant.act_for) or "nobody", ", ".join(grant.accounts) or "none"
            self.stderr.write(f"acts for: {acts_for}; webhook accounts: {accounts}")
        self.stdout.write(token)
