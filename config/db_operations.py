"""Migration operations for large tables (docs/operations.md, "Releasing").

``AddIndexConcurrently`` builds a new index with ``CREATE INDEX CONCURRENTLY`` on PostgreSQL, so writes to the
table go on while it builds (the migration must be ``atomic = False``); elsewhere (SQLite) it is a plain
``AddIndex``. Use it for every new index on a table that grows with the business (orders, refunds, issues, their
history, webhook events and deliveries); older migrations stay as they were.
"""

from django.contrib.postgres.operations import AddIndexConcurrently as PostgresAddIndexConcurrently
from django.db.migrations.operations import AddIndex


class AddIndexConcurrently(PostgresAddIndexConcurrently):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)
