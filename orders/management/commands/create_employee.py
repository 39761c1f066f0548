from django.core.management.base import BaseCommand, CommandError

from config.errors import DomainError
from config.people import ROLES, employee_upsert


class Command(BaseCommand):
    help = "Create or update an employee (username = employee ID) in a role; prints the API token on the last line."

    def add_arguments(self, parser):
        parser.add_argument("employee_id")
        parser.add_argument("--role", choices=ROLES, required=True)
        parser.add_argument("--password", default=None, help="Admin login password (agents and managers).")
        parser.add_argument("--email", default="")

    def handle(self, *args, employee_id: str, role: str, password: str | None, email: str, **options):
        try:
            user, token = employee_upsert(employee_id=employee_id, role=role, password=password, email=email)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(f"{role} {user.username} ready (admin login: {'yes' if user.is_staff else 'no'})")
        self.stdout.write(token)
