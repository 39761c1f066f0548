"""Querysets whose SQL is built once and run again with other values (the issue workspace's reads).

The ORM spends more time building a small query's SQL (the joins, the annotations' subqueries, the compiler's
select list) than the database spends answering it: about 1 ms of CPU per query of the issue page, ten of them.
``Prebuilt`` builds its queryset once per database connection, from sample values, keeps the compiler and its
SQL, and then runs that SQL with the values it is called with, turning the rows into model instances as the ORM
does (``ModelIterable``: ``select_related`` objects and annotations included).

It is the same query: ``Prebuilt.twin(*values)`` is the queryset the ORM would run, and
``Prebuilt.sql_with_params(*values)`` must equal that queryset's ``query.sql_with_params()``
(tests/admin/test_prebuilt.py checks every one the page uses, with their rows). A queryset whose SQL changes
shape with its values (an ``IN`` of a list, a branch on a value) cannot be prebuilt: give each shape its own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

ALL: list[Prebuilt] = []  # every one made, for the test that compares each with its ORM twin


class Prebuilt:
    def __init__(self, name: str, build: Callable[..., QuerySet], samples: tuple[Any, ...], model=None):
        """``build(*values)`` returns the queryset; ``samples`` are values of the arguments' types, each distinct
        from every constant of the query (they are found in its params by equality). ``model``: the queryset's,
        when ``build`` cannot run yet (it reads the admin site)."""
        self.name = name
        self.build = build
        self.samples = samples
        self.model = model or build(*samples).model
        ALL.append(self)

    def twin(self, *values) -> QuerySet:
        return self.build(*values)

    def _entry(self):
        db = router.db_for_read(self.model)
        connection = connections[db]
        cache = connection.__dict__.setdefault("_prebuilt", {})
        entry = cache.get(self.name)
        if entry is None:
            compiler = self.build(*self.samples).query.get_compiler(using=db)
            sql, params = compiler.as_sql()
            slots = []  # (is an argument, its index, how the backend adapts it) or (False, constant, None)
            for param in params:
                found = [i for i, sample in enumerate(self.samples) if _same(param, sample, connection)]
                if found:
                    slots.append((True, found[0], _adapter(param, self.samples[found[0]], connection)))
                else:
                    slots.append((False, param, None))
            missing = set(range(len(self.samples))) - {i for is_arg, i, _wrap in slots if is_arg}
            if missing:
                raise ValueError(f"{self.name}: samples {sorted(missing)} not found in the query's params")
            entry = cache[self.name] = (db, compiler, sql, slots)
        return entry

    def sql_with_params(self, *values) -> tuple[str, tuple]:
        _db, _compiler, sql, slots = self._entry()
        return sql, _params(slots, values)

    def __call__(self, *values) -> list[Model]:
        db, compiler, sql, slots = self._entry()
        params = _params(slots, values)
        with compiler.connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        # ModelIterable.__iter__, with the compiler built once (no _known_related_objects: a fresh queryset's)
        select, klass_info, annotation_col_map = compiler.select, compiler.klass_info, compiler.annotation_col_map
        model_cls = klass_info["model"]
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        init_list = [f[0].target.attname for f in select[start:end]]
        related_populators = get_related_populators(klass_info, select, db)
        objects = []
        for row in compiler.results_iter([rows]):
            obj = model_cls.from_db(db, init_list, row[start:end])
            for populator in related_populators:
                populator.populate(row, obj)
            for attr_name, col_pos in annotation_col_map.items():
                setattr(obj, attr_name, row[col_pos])
            objects.append(obj)
        return objects


def _same(param, sample, connection) -> bool:
    if isinstance(sample, datetime):  # a DateTimeField's value: SQLite's backend makes it a string
        return param == connection.ops.adapt_datetimefield_value(sample)
    return isinstance(param, type(sample)) and param == sample


def _adapter(param, sample, connection):
    """How the backend turned the sample into the param, to turn a call's value the same way (None: as it is)."""
    if isinstance(sample, datetime):
        return connection.ops.adapt_datetimefield_value
    # psycopg's backend wraps a bigint's value (Int8)
    return type(param) if type(param) is not type(sample) else None


def _params(slots, values) -> tuple:
    return tuple((values[v] if wrap is None else wrap(values[v])) if is_arg else v for is_arg, v, wrap in slots)
