"""``manage.py create_api_key NAME --account ACCOUNT``: a new fabric API key; the key alone on the last line."""

from django.core.management.base import BaseCommand, CommandError

from config.accounts import ACCOUNT_RE
from returns.models import AccountAPIKey


class Command(BaseCommand):
    help = "Create a hashed, revocable x-api-key for the fabric API, bound to one account. Prints the key last."

    def add_arguments(self, parser):
        parser.add_argument("name", help="A name for the key (shown in history as the actor)")
        parser.add_argument("--account", required=True, help="The 24-character account the key may reach")

    def handle(self, *args, name: str, account: str, **options):
        name = name.strip()
        if not name or len(name) > 50:
            raise CommandError("NAME must be 1 to 50 characters")
        if not ACCOUNT_RE.match(account):
            raise CommandError("--account must be the 24-character account identifier (letters and digits)")
        api_key, key = AccountAPIKey.objects.create_key(name=name, account=account)
        self.stderr.write(f"Created API key {api_key.prefix} '{api_key.name}' for account {account}; store it now:")
        self.stdout.write(key)
