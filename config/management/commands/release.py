"""The release step (Procfile ``release``): migrate, then collect the static files. ``--stay`` (or
``RELEASE_STAY=1``, as .env.example sets for ``honcho start``): stay up once released, doing nothing, because honcho
stops every process as soon as one exits; a platform's release phase leaves it unset and the step exits."""

import os
import signal
import threading

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Apply the migrations and collect the static files; with --stay, then wait until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--stay", action="store_true", help="Stay up once released (honcho; also RELEASE_STAY=1).")

    def handle(self, *args, stay: bool, **options):
        call_command("migrate", interactive=False, verbosity=options["verbosity"])
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write("Released: migrations applied, static files collected.")
        if stay or os.environ.get("RELEASE_STAY") == "1":
            self.stdout.write("Staying up (RELEASE_STAY=1): honcho stops every process when one exits.")
            stopped = threading.Event()
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: stopped.set())
            stopped.wait()
