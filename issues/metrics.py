"""Issue metrics at scale on PostgreSQL: a rollup kept by triggers, live queries for what depends on the range
ends and on *now*.

:class:`~issues.models.IssueMetricsRollup` holds, per UTC day of creation, how many issues count under each
(metric, key): ``total``, ``status``, ``priority``, ``type``, ``answered``, ``satisfied``, ``resolved``;
``sla_clock`` (see below; ``sla``, the key before it, is still written for a rolling deploy); ``duration``
(resolved issues per bucket of resolution time, below); ``sku`` and ``category`` (distinct issues per affected SKU
/ category id); ``refund`` (``source|currency``: non-failed issue refunds, with their ``amount``).
:class:`~issues.models.IssueMetricsCustomer` holds issues per customer e-mail over all time. Triggers keep both
right on every write, whoever writes (services, bulk paths, ``QuerySet.update``, raw SQL); :func:`rebuild`
recomputes them from scratch.

**Append-only.** The triggers never update a counter: they append signed changes (one row per statement and
(day, metric, key), or per e-mail) to :class:`~issues.models.IssueMetricsDelta` and
:class:`~issues.models.IssueMetricsCustomerDelta`, tables without a unique key. So two transactions writing issues
of the same day (new issues today, status changes, refunds) never wait on each other's counter rows and cannot
deadlock on them; the reads add the deltas to the rollup. :func:`compact` (``manage.py issue_metrics_compact``,
scheduled every few minutes, README) folds the committed deltas into the rollup, one row per key; it only
locks rollup rows, which no writer touches, and deletes only the deltas its snapshot sees (a transaction still in
flight keeps its rows, even with smaller ids, for the next run).

**SLA.** Whether an issue counts as breached depends on *now*, but monotonically: for an issue not waiting on
the customer, each clock is either settled (first response given; resolved or closed) or breaches once *now*
passes its deadline. The rollup's ``sla_clock`` key is ``<first response>|<resolution>``, each part ``0`` or ``1`` for a
settled clock (late or not) or, for a running one, the UTC hour of its deadline (``2026-12-07T14``). A read at
*now* counts a running clock as breached when its hour is before now's hour, as not breached when after; the
issues with a deadline within now's own hour, and those waiting on the customer (whose resolution deadline moves
while they wait; no key), are evaluated live with the same expressions as
:func:`issues.selectors.issue_metrics_reference`, through partial indexes: an hour's issues, not every open one.

So that old days do not keep a row per deadline hour, :func:`compact` folds the hours older than ``FOLD_AFTER``
into ``1`` (they are past for every *now* after the fold): the rollup holds a few keys per day, and a read for a
*now* earlier than ``FOLD_AFTER`` ago is computed live instead (:func:`answers`).

**Ranges.** Whole UTC days inside ``[created_after, created_before)`` come from the rollup; the partial days at
the ends are counted live. Percentiles are exact: the ``duration`` buckets (eight to each doubling of the time,
``issue_metrics_bucket``) say which bucket holds the percentile's rank and how many resolution times lie below
it, so two rows are read from there through an index on ``resolved_at - created_at`` (a walk of one bucket, not
of half the resolved issues). Top customers: the customers with most issues of all time, with exact counts in the
range (over all time, their all-time counts), when no other customer can reach the tenth of them; a live count
over the range otherwise. Ten queries, as the reference.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet, Value
from django.utils import timezone

ROLLUP = "issues_issuemetricsrollup"
CUSTOMERS = "issues_issuemetricscustomer"
DELTAS = "issues_issuemetricsdelta"
CUSTOMER_DELTAS = "issues_issuemetricscustomerdelta"
# What the reads sum: the compacted rollup plus the deltas not compacted yet (filters are pushed into both).
COUNTS = (
    f"(SELECT day, metric, key, n, amount FROM {ROLLUP} UNION ALL SELECT day, metric, key, n, amount FROM {DELTAS}) r"
)

INSTALL_SQL = r"""
CREATE OR REPLACE FUNCTION issue_metrics_day(ts timestamptz) RETURNS date
    LANGUAGE sql IMMUTABLE AS $$ SELECT (ts AT TIME ZONE 'UTC')::date $$;

-- The UTC hour of a running SLA clock's deadline, as an SLA key part: '2026-12-07T14' (sorts as it reads).
CREATE OR REPLACE FUNCTION issue_metrics_hour(ts timestamptz) RETURNS text
    LANGUAGE sql STABLE AS $$ SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24') $$;

-- What an SLA key counts for at a moment of the given hour: '<first response breached><resolution breached>'
-- ('00' to '11'), or NULL when a deadline falls within that hour (it depends on the minute: counted live). A bare
-- expression, so that the planner inlines it (a function with a FROM runs as a call per row).
CREATE OR REPLACE FUNCTION issue_metrics_sla_at(key text, hour text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
SELECT CASE WHEN split_part(key, '|', 1) = hour OR split_part(key, '|', 2) = hour THEN NULL
    ELSE (CASE WHEN split_part(key, '|', 1) = '1'
                 OR (split_part(key, '|', 1) < hour COLLATE "C" AND length(split_part(key, '|', 1)) > 1)
               THEN '1' ELSE '0' END)
      || (CASE WHEN split_part(key, '|', 2) = '1'
                 OR (split_part(key, '|', 2) < hour COLLATE "C" AND length(split_part(key, '|', 2)) > 1)
               THEN '1' ELSE '0' END) END
$$;

-- The bucket of a resolution time (resolved_at - created_at), as whole seconds: the largest of a grid with eight
-- steps to each doubling (1 s steps below 16 s) that is not above it. Exact integer arithmetic (the bit length
-- of the seconds), so that d < bucket's value <=> d lies in an earlier bucket, which the percentiles rely on.
CREATE OR REPLACE FUNCTION issue_metrics_bucket(d interval) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
SELECT CASE WHEN s < 16 THEN s ELSE s - s % (1::bigint << (length(ltrim(s::bit(64)::text, '0')) - 4)) END
FROM (SELECT floor(extract(epoch FROM d))::bigint AS s) t
$$;

-- An SLA key with the deadline hours before cutoff (an hour, as above) folded into '1': breached for any now
-- from then on.
CREATE OR REPLACE FUNCTION issue_metrics_fold(key text, cutoff text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
SELECT CASE WHEN length(split_part(key, '|', 1)) > 1 AND split_part(key, '|', 1) < cutoff COLLATE "C"
            THEN '1' ELSE split_part(key, '|', 1) END
    || '|' || CASE WHEN length(split_part(key, '|', 2)) > 1 AND split_part(key, '|', 2) < cutoff COLLATE "C"
            THEN '1' ELSE split_part(key, '|', 2) END
$$;

-- The issue's own keys (everything but its items, refunds and customer).
CREATE OR REPLACE FUNCTION issue_metrics_keys(i issues_orderissue) RETURNS TABLE(metric text, key text)
    LANGUAGE sql STABLE AS $$
SELECT v.metric, v.key FROM (VALUES
    ('total', ''),
    ('status', i.status::text),
    ('priority', i.priority::text),
    ('type', i.issue_type::text),
    ('answered', CASE WHEN i.customer_satisfied IS NOT NULL THEN '' END),
    ('satisfied', CASE WHEN i.customer_satisfied THEN '' END),
    ('resolved', CASE WHEN i.resolved_at IS NOT NULL THEN '' END),
    ('duration', issue_metrics_bucket(i.resolved_at - i.created_at)::text),
    -- The key of code before migration issues/0015 (the later deadline's day and both outcomes once it passed),
    -- still written so that nodes on that code read right during a rolling deploy. Read by nothing here; the next
    -- release's migration drops it (and its rows).
    ('sla', CASE WHEN NOT coalesce(i.sla_paused_since IS NOT NULL AND i.follow_up_date > i.sla_paused_since, false)
        THEN coalesce(to_char(issue_metrics_day(greatest(
                CASE WHEN i.first_response_at IS NULL THEN i.first_response_due_at END,
                CASE WHEN coalesce(i.resolved_at, i.closed_at) IS NULL THEN i.resolution_due_at END)),
            'YYYY-MM-DD'), '')
            || '|' || (CASE WHEN i.first_response_at IS NULL THEN i.first_response_due_at IS NOT NULL
                            ELSE coalesce(i.first_response_at > i.first_response_due_at, false) END)::int
            || (CASE WHEN coalesce(i.resolved_at, i.closed_at) IS NULL THEN i.resolution_due_at IS NOT NULL
                     ELSE coalesce(i.resolution_due_at < coalesce(i.resolved_at, i.closed_at), false) END)::int
    END),
    ('sla_clock', CASE WHEN NOT coalesce(i.sla_paused_since IS NOT NULL AND i.follow_up_date > i.sla_paused_since,
                                       false)
        THEN CASE WHEN i.first_response_at IS NULL
                  THEN coalesce(issue_metrics_hour(i.first_response_due_at), '0')
                  ELSE coalesce(i.first_response_at > i.first_response_due_at, false)::int::text END
            || '|' || CASE WHEN coalesce(i.resolved_at, i.closed_at) IS NULL
                  THEN coalesce(issue_metrics_hour(i.resolution_due_at), '0')
                  ELSE coalesce(i.resolution_due_at < coalesce(i.resolved_at, i.closed_at), false)::int::text END
    END)
) AS v(metric, key) WHERE v.key IS NOT NULL
$$;

-- What the issue counts for through other tables: distinct SKUs and categories of its items, its refunds.
CREATE OR REPLACE FUNCTION issue_metrics_linked(pk bigint, public_id text)
    RETURNS TABLE(metric text, key text, n bigint, amount numeric) LANGUAGE sql STABLE AS $$
SELECT 'sku', it.sku::text, 1::bigint, 0::numeric
FROM issues_orderissue_affected_items m JOIN orders_orderitem it ON it.id = m.orderitem_id
WHERE m.orderissue_id = pk GROUP BY it.sku
UNION ALL
SELECT 'category', it.category_id::text, 1, 0
FROM issues_orderissue_affected_items m JOIN orders_orderitem it ON it.id = m.orderitem_id
WHERE m.orderissue_id = pk AND it.category_id IS NOT NULL GROUP BY it.category_id
UNION ALL
SELECT 'refund', r.source || '|' || r.currency, count(*), sum(r.amount)
FROM orders_refund r WHERE r.cause_type = 'issue' AND r.cause_id = public_id AND r.status <> 'failed'
GROUP BY r.source, r.currency
$$;

-- PL/pgSQL rather than SQL functions: their plans are cached for the session (a SQL function called per row
-- is planned on every call: milliseconds per issue).
{issue_trigger}
-- Affected items: the distinct SKU / category sets of the touched issues before and after the statement.
CREATE OR REPLACE FUNCTION issue_metrics_links_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO issues_issuemetricsdelta (day, metric, key, n, amount)
    SELECT issue_metrics_day(i.created_at) AS day, x.metric, x.key, sum(x.n), 0 FROM (
        SELECT DISTINCT m.orderissue_id, v.metric, v.key, 1 AS n
        FROM issues_orderissue_affected_items m JOIN orders_orderitem it ON it.id = m.orderitem_id
        CROSS JOIN LATERAL (VALUES ('sku', it.sku::text), ('category', it.category_id::text)) v(metric, key)
        WHERE v.key IS NOT NULL AND m.orderissue_id IN (SELECT orderissue_id FROM changed_links)
        UNION ALL
        SELECT DISTINCT b.orderissue_id, v.metric, v.key, -1
        FROM (
            SELECT m.orderissue_id, m.orderitem_id FROM issues_orderissue_affected_items m
            WHERE m.orderissue_id IN (SELECT orderissue_id FROM changed_links)
                AND (TG_OP = 'DELETE' OR m.id NOT IN (SELECT id FROM changed_links))
            UNION ALL
            SELECT orderissue_id, orderitem_id FROM changed_links WHERE TG_OP = 'DELETE'
        ) b JOIN orders_orderitem it ON it.id = b.orderitem_id
        CROSS JOIN LATERAL (VALUES ('sku', it.sku::text), ('category', it.category_id::text)) v(metric, key)
        WHERE v.key IS NOT NULL
    ) x JOIN issues_orderissue i ON i.id = x.orderissue_id
    GROUP BY 1, 2, 3 HAVING sum(x.n) <> 0;
    RETURN NULL;
END $$;

-- An item's SKU or category changes: the issues it affects move between keys.
CREATE OR REPLACE FUNCTION issue_metrics_item_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO issues_issuemetricsdelta (day, metric, key, n, amount)
    SELECT issue_metrics_day(i.created_at) AS day, x.metric, x.key, sum(x.n), 0 FROM (
        SELECT DISTINCT m.orderissue_id, v.metric, v.key, 1 AS n
        FROM issues_orderissue_affected_items m JOIN orders_orderitem it ON it.id = m.orderitem_id
        CROSS JOIN LATERAL (VALUES ('sku', it.sku::text), ('category', it.category_id::text)) v(metric, key)
        WHERE v.key IS NOT NULL AND m.orderissue_id IN (
            SELECT t.orderissue_id FROM issues_orderissue_affected_items t JOIN old_items o ON o.id = t.orderitem_id)
        UNION ALL
        SELECT DISTINCT m.orderissue_id, v.metric, v.key, -1
        FROM issues_orderissue_affected_items m JOIN orders_orderitem it ON it.id = m.orderitem_id
        LEFT JOIN old_items o ON o.id = it.id
        CROSS JOIN LATERAL (VALUES
            ('sku', CASE WHEN o.id IS NULL THEN it.sku ELSE o.sku END::text),
            ('category', CASE WHEN o.id IS NULL THEN it.category_id ELSE o.category_id END::text)) v(metric, key)
        WHERE v.key IS NOT NULL AND m.orderissue_id IN (
            SELECT t.orderissue_id FROM issues_orderissue_affected_items t JOIN old_items o ON o.id = t.orderitem_id)
    ) x JOIN issues_orderissue i ON i.id = x.orderissue_id
    GROUP BY 1, 2, 3 HAVING sum(x.n) <> 0;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION issue_metrics_refund_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO issues_issuemetricsdelta (day, metric, key, n, amount)
    SELECT d.day, 'refund', d.key, sum(d.n), sum(d.amount) FROM (
        SELECT issue_metrics_day(i.created_at) AS day, OLD.source || '|' || OLD.currency AS key, -1 AS n,
            -OLD.amount AS amount
        FROM issues_orderissue i
        WHERE TG_OP <> 'INSERT' AND OLD.cause_type = 'issue' AND OLD.status <> 'failed' AND i.issue_id = OLD.cause_id
        UNION ALL
        SELECT issue_metrics_day(i.created_at), NEW.source || '|' || NEW.currency, 1, NEW.amount
        FROM issues_orderissue i
        WHERE TG_OP <> 'DELETE' AND NEW.cause_type = 'issue' AND NEW.status <> 'failed' AND i.issue_id = NEW.cause_id
    ) d GROUP BY d.day, d.key HAVING sum(d.n) <> 0 OR sum(d.amount) <> 0;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION issue_metrics_order_trg() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE issues bigint;
BEGIN
    SELECT count(*) INTO issues FROM issues_orderissue WHERE order_id = NEW.id;
    IF issues > 0 THEN
        INSERT INTO issues_issuemetricscustomerdelta (email, n)
        SELECT e.email, sum(e.n) FROM (VALUES (OLD.customer_email, -issues), (NEW.customer_email, issues)) e(email, n)
        WHERE e.email <> '' GROUP BY e.email HAVING sum(e.n) <> 0;
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS issue_metrics_issue ON issues_orderissue;
DROP TRIGGER IF EXISTS issue_metrics_issue_insert ON issues_orderissue;
CREATE TRIGGER issue_metrics_issue_insert AFTER INSERT ON issues_orderissue
    REFERENCING NEW TABLE AS new_issues FOR EACH STATEMENT EXECUTE FUNCTION issue_metrics_issue_insert_trg();
DROP TRIGGER IF EXISTS issue_metrics_issue_update ON issues_orderissue;
CREATE TRIGGER issue_metrics_issue_update AFTER UPDATE ON issues_orderissue
    REFERENCING OLD TABLE AS old_issues NEW TABLE AS new_issues
    FOR EACH STATEMENT EXECUTE FUNCTION issue_metrics_issue_update_trg();
DROP TRIGGER IF EXISTS issue_metrics_issue_delete ON issues_orderissue;
CREATE TRIGGER issue_metrics_issue_delete AFTER DELETE ON issues_orderissue
    REFERENCING OLD TABLE AS old_issues FOR EACH STATEMENT EXECUTE FUNCTION issue_metrics_issue_delete_trg();
DROP TRIGGER IF EXISTS issue_metrics_links_insert ON issues_orderissue_affected_items;
CREATE TRIGGER issue_metrics_links_insert AFTER INSERT ON issues_orderissue_affected_items
    REFERENCING NEW TABLE AS changed_links FOR EACH STATEMENT EXECUTE FUNCTION issue_metrics_links_trg();
DROP TRIGGER IF EXISTS issue_metrics_links_delete ON issues_orderissue_affected_items;
CREATE TRIGGER issue_metrics_links_delete AFTER DELETE ON issues_orderissue_affected_items
    REFERENCING OLD TABLE AS changed_links FOR EACH STATEMENT EXECUTE FUNCTION issue_metrics_links_trg();
DROP TRIGGER IF EXISTS issue_metrics_item ON orders_orderitem;
CREATE TRIGGER issue_metrics_item AFTER UPDATE ON orders_orderitem
    REFERENCING OLD TABLE AS old_items FOR EACH STATEMENT EXECUTE FUNCTION issue_metrics_item_trg();
DROP TRIGGER IF EXISTS issue_metrics_refund ON orders_refund;
CREATE TRIGGER issue_metrics_refund AFTER INSERT OR UPDATE OR DELETE ON orders_refund
    FOR EACH ROW EXECUTE FUNCTION issue_metrics_refund_trg();
DROP TRIGGER IF EXISTS issue_metrics_order ON orders_order;
CREATE TRIGGER issue_metrics_order AFTER UPDATE OF customer_email ON orders_order
    FOR EACH ROW WHEN (OLD.customer_email IS DISTINCT FROM NEW.customer_email)
    EXECUTE FUNCTION issue_metrics_order_trg();

-- Live parts: issues whose SLA outcome still depends on now; percentiles.
CREATE INDEX IF NOT EXISTS issue_metrics_fr_open_idx ON issues_orderissue (first_response_due_at)
    WHERE first_response_at IS NULL;
CREATE INDEX IF NOT EXISTS issue_metrics_res_open_idx ON issues_orderissue (resolution_due_at)
    WHERE resolved_at IS NULL AND closed_at IS NULL;
CREATE INDEX IF NOT EXISTS issue_metrics_waiting_idx ON issues_orderissue (created_at)
    WHERE sla_paused_since IS NOT NULL AND follow_up_date > sla_paused_since;
-- resolved_at is included so that the duration can be read from the index alone (index-only scan).
CREATE INDEX IF NOT EXISTS issue_metrics_duration_idx ON issues_orderissue ((resolved_at - created_at), created_at)
    INCLUDE (resolved_at) WHERE resolved_at IS NOT NULL;
-- The rollup is updated in place by compaction only (HOT): no index on n, room on each page; reads go by metric.
ALTER TABLE issues_issuemetricsrollup SET (fillfactor = 50);
CREATE INDEX IF NOT EXISTS issue_metrics_rollup_metric_idx ON issues_issuemetricsrollup (metric, day);
"""


def _issue_trigger_functions() -> str:
    """One trigger function per event (a transition table only exists for its own events)."""
    moved = (
        "SELECT b.id FROM old_issues a JOIN new_issues b ON b.id = a.id "
        "WHERE a.created_at IS DISTINCT FROM b.created_at OR a.issue_id IS DISTINCT FROM b.issue_id"
    )

    def side(table: str, sign: str, linked: str) -> str:
        return (
            f"SELECT issue_metrics_day(i.created_at) AS day, k.metric, k.key, {sign}1::bigint AS n, "
            f"0::numeric AS amount FROM {table} i CROSS JOIN LATERAL issue_metrics_keys(i::issues_orderissue) k "
            f"UNION ALL SELECT issue_metrics_day(i.created_at), l.metric, l.key, {sign}l.n, {sign}l.amount "
            f"FROM {table} i CROSS JOIN LATERAL issue_metrics_linked(i.id, i.issue_id) l WHERE {linked}"
        )

    def customers(table: str, sign: str, where: str) -> str:
        return (
            f"SELECT o.customer_email AS email, {sign}1 AS n FROM {table} i JOIN orders_order o ON o.id = i.order_id "
            f"WHERE {where}"
        )

    events = {
        "insert": ([side("new_issues", "", "TRUE")], [customers("new_issues", "", "TRUE")]),
        "delete": ([side("old_issues", "-", "TRUE")], [customers("old_issues", "-", "TRUE")]),
        "update": (
            [side("old_issues", "-", f"i.id IN ({moved})"), side("new_issues", "", f"i.id IN ({moved})")],
            [
                customers("old_issues", "-", "i.order_id <> (SELECT b.order_id FROM new_issues b WHERE b.id = i.id)"),
                customers("new_issues", "", "i.order_id <> (SELECT a.order_id FROM old_issues a WHERE a.id = i.id)"),
            ],
        ),
    }
    functions = []
    for event, (keys, emails) in events.items():
        functions.append(
            f"""CREATE OR REPLACE FUNCTION issue_metrics_issue_{event}_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO issues_issuemetricsdelta (day, metric, key, n, amount)
    SELECT d.day, d.metric, d.key, sum(d.n), sum(d.amount) FROM ({" UNION ALL ".join(keys)}) d
    GROUP BY d.day, d.metric, d.key HAVING sum(d.n) <> 0 OR sum(d.amount) <> 0;
    INSERT INTO issues_issuemetricscustomerdelta (email, n)
    SELECT e.email, sum(e.n) FROM ({" UNION ALL ".join(emails)}) e
    WHERE e.email <> '' GROUP BY e.email HAVING sum(e.n) <> 0;
    RETURN NULL;
END $$;"""
        )
    return (
        "-- Issues: statement-level triggers (a bulk insert is one delta row per key, not one per issue).\n"
        + "\n\n".join(functions)
    )


INSTALL_SQL = INSTALL_SQL.replace("{issue_trigger}", _issue_trigger_functions())


UNINSTALL_SQL = """
DROP TRIGGER IF EXISTS issue_metrics_issue_insert ON issues_orderissue;
DROP TRIGGER IF EXISTS issue_metrics_issue_update ON issues_orderissue;
DROP TRIGGER IF EXISTS issue_metrics_issue_delete ON issues_orderissue;
DROP TRIGGER IF EXISTS issue_metrics_links_insert ON issues_orderissue_affected_items;
DROP TRIGGER IF EXISTS issue_metrics_links_delete ON issues_orderissue_affected_items;
DROP TRIGGER IF EXISTS issue_metrics_item ON orders_orderitem;
DROP TRIGGER IF EXISTS issue_metrics_refund ON orders_refund;
DROP TRIGGER IF EXISTS issue_metrics_order ON orders_order;
DROP FUNCTION IF EXISTS issue_metrics_issue_insert_trg, issue_metrics_issue_update_trg, issue_metrics_issue_delete_trg,
    issue_metrics_links_trg, issue_metrics_item_trg, issue_metrics_refund_trg, issue_metrics_order_trg,
    issue_metrics_linked, issue_metrics_keys, issue_metrics_day, issue_metrics_hour, issue_metrics_fold,
    issue_metrics_bucket, issue_metrics_sla_at;
DROP INDEX IF EXISTS issue_metrics_fr_open_idx, issue_metrics_res_open_idx, issue_metrics_waiting_idx,
    issue_metrics_duration_idx, issue_metrics_rollup_metric_idx;
"""

REBUILD_SQL = """
DELETE FROM issues_issuemetricsrollup;
DELETE FROM issues_issuemetricscustomer;
INSERT INTO issues_issuemetricsrollup (day, metric, key, n, amount)
SELECT d.day, d.metric, d.key, sum(d.n), sum(d.amount) FROM (
    SELECT issue_metrics_day(i.created_at) AS day, k.metric, k.key, 1::bigint AS n, 0::numeric AS amount
    FROM issues_orderissue i CROSS JOIN LATERAL issue_metrics_keys(i) k
    UNION ALL
    SELECT issue_metrics_day(i.created_at), s.metric, s.key, 1, 0 FROM (
        SELECT DISTINCT m.orderissue_id, v.metric, v.key
        FROM issues_orderissue_affected_items m JOIN orders_orderitem it ON it.id = m.orderitem_id
        CROSS JOIN LATERAL (VALUES ('sku', it.sku::text), ('category', it.category_id::text)) v(metric, key)
        WHERE v.key IS NOT NULL
    ) s JOIN issues_orderissue i ON i.id = s.orderissue_id
    UNION ALL
    SELECT issue_metrics_day(i.created_at), 'refund', r.source || '|' || r.currency, 1, r.amount
    FROM orders_refund r JOIN issues_orderissue i ON i.issue_id = r.cause_id
    WHERE r.cause_type = 'issue' AND r.status <> 'failed'
) d GROUP BY d.day, d.metric, d.key;
INSERT INTO issues_issuemetricscustomer (email, n)
SELECT o.customer_email, count(*) FROM issues_orderissue i JOIN orders_order o ON o.id = i.order_id
WHERE o.customer_email <> '' GROUP BY o.customer_email;
"""


def enabled() -> bool:
    return connection.vendor == "postgresql"


def install(schema_editor=None) -> None:
    """Create the triggers, functions and indexes (PostgreSQL only; elsewhere the metrics are computed live)."""
    conn = schema_editor.connection if schema_editor else connection
    if conn.vendor != "postgresql":
        return
    with conn.cursor() as cursor:
        cursor.execute(INSTALL_SQL)


def uninstall(schema_editor=None) -> None:
    conn = schema_editor.connection if schema_editor else connection
    if conn.vendor != "postgresql":
        return
    with conn.cursor() as cursor:
        cursor.execute(UNINSTALL_SQL)


def rebuild(schema_editor=None) -> None:
    """Recompute the rollup and the customer counts from the issues, in one transaction (PostgreSQL only).

    The triggers keep them right on every write; call this after anything that bypassed them (``TRUNCATE``,
    ``session_replication_role = replica``, a restore of some tables but not others)."""
    conn = schema_editor.connection if schema_editor else connection
    if conn.vendor != "postgresql":
        return
    from django.db import transaction

    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        # EXCLUSIVE on the deltas holds the writers (their triggers append) until the rebuild commits: a write
        # between the DELETE and the INSERT's snapshot would be counted twice. A repair, not routine.
        cursor.execute(f"SELECT pg_advisory_xact_lock({COMPACT_LOCK})")
        cursor.execute(f"LOCK TABLE {ROLLUP}, {CUSTOMERS}, {DELTAS}, {CUSTOMER_DELTAS} IN EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM {DELTAS}; DELETE FROM {CUSTOMER_DELTAS};")  # noqa: S608 (fixed text)
        cursor.execute(REBUILD_SQL)
        _upsert(cursor, FOLD_SQL, fold_cutoff(timezone.now()), ROLLUP, "id")


# One compaction (or rebuild) at a time; a second one started meanwhile returns at once.
COMPACT_LOCK = 0x1550E_3E7C
# A compaction that folds more delta rows than this refreshes the planner's statistics of the tables it changed:
# the emptied deltas would otherwise keep the row counts of before (until autovacuum gets there), and the
# metrics' reads would be planned for a million deltas that are no longer there (after a bulk load, say).
ANALYZE_ABOVE = 10_000

# The SLA keys' deadline hours older than this are folded into "breached" by compaction (module docstring).
FOLD_AFTER = timedelta(days=8)

COMPACT_SQL = f"""
WITH moved AS (DELETE FROM {DELTAS} WHERE id <= %(last)s RETURNING day, metric, key, n, amount)
INSERT INTO {ROLLUP} AS r (day, metric, key, n, amount)
SELECT day, metric, CASE WHEN metric = 'sla_clock' THEN issue_metrics_fold(key, %(cutoff)s) ELSE key END AS k,
    sum(n), sum(amount) FROM moved GROUP BY day, metric, k
HAVING sum(n) <> 0 OR sum(amount) <> 0 ORDER BY day, metric, k
ON CONFLICT (day, metric, key) DO UPDATE SET n = r.n + EXCLUDED.n, amount = r.amount + EXCLUDED.amount
RETURNING CASE WHEN r.n = 0 AND r.amount = 0 THEN r.id END
"""

# The rollup's own SLA rows whose deadline hours have aged past the cutoff since they were folded in. A deadline
# is never before its issue was created, so only the days before the cutoff's can hold them.
FOLD_SQL = f"""
WITH moved AS (
    DELETE FROM {ROLLUP}
    WHERE metric = 'sla_clock' AND day <= %(cutoff_day)s AND key <> issue_metrics_fold(key, %(cutoff)s)
    RETURNING day, key, n, amount)
INSERT INTO {ROLLUP} AS r (day, metric, key, n, amount)
SELECT day, 'sla_clock', issue_metrics_fold(key, %(cutoff)s) AS k, sum(n), sum(amount) FROM moved GROUP BY day, k
HAVING sum(n) <> 0 OR sum(amount) <> 0 ORDER BY day, k
ON CONFLICT (day, metric, key) DO UPDATE SET n = r.n + EXCLUDED.n, amount = r.amount + EXCLUDED.amount
RETURNING CASE WHEN r.n = 0 AND r.amount = 0 THEN r.id END
"""


def hour_key(moment: datetime) -> str:
    """A moment's UTC hour as the SLA keys spell it (``issue_metrics_hour``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def fold_cutoff(now: datetime) -> dict:
    cutoff = now - FOLD_AFTER
    return {"cutoff": hour_key(cutoff), "cutoff_day": cutoff.astimezone(UTC).date()}


def answers(now: datetime) -> bool:
    """Whether the rollup answers for this *now*: not for one before the SLA hours compaction may have folded (an
    hour of margin for the clocks of other machines)."""
    return now >= timezone.now() - FOLD_AFTER + timedelta(hours=1)


COMPACT_CUSTOMERS_SQL = f"""
WITH moved AS (DELETE FROM {CUSTOMER_DELTAS} WHERE id <= %(last)s RETURNING email, n)
INSERT INTO {CUSTOMERS} AS c (email, n)
SELECT email, sum(n) FROM moved GROUP BY email HAVING sum(n) <> 0 ORDER BY email
ON CONFLICT (email) DO UPDATE SET n = c.n + EXCLUDED.n
RETURNING CASE WHEN c.n = 0 THEN c.email END
"""


def _upsert(cursor, sql: str, params: dict, table: str, column: str) -> None:
    """Run a fold into ``table`` (``RETURNING`` the keys it brought to zero) and delete those keys."""
    cursor.execute(sql, params)
    zero = [row[0] for row in cursor.fetchall() if row[0] is not None]
    if zero:
        cursor.execute(
            f"DELETE FROM {table} WHERE {column} = ANY(%s) AND n = 0"  # noqa: S608 (fixed text)
            + (" AND amount = 0" if table == ROLLUP else ""),
            [zero],
        )


def compact() -> tuple[int, int] | None:
    """Fold the committed deltas into the rollup and the customer counts: one row per key. Returns how many delta
    rows were folded (rollup, customers), or None when another compaction holds the lock (or not PostgreSQL).

    Never blocks a writer: the deltas are deleted, not locked against inserts, and the rollup rows it updates are
    touched by nobody else. It deletes the deltas up to the largest id it sees, as its snapshot sees them: a
    transaction still in flight (whatever its ids) keeps its rows for the next run; readers see either the deltas
    or their sum in the rollup, never both (one transaction). Keys whose count falls to zero are deleted. The SLA
    keys' deadline hours older than ``FOLD_AFTER`` are folded (module docstring)."""
    if not enabled():
        return None
    from django.db import transaction

    folded = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_try_advisory_xact_lock({COMPACT_LOCK})")
        if not cursor.fetchone()[0]:
            return None
        cutoff = fold_cutoff(timezone.now())
        for deltas, sql, table, column in (
            (DELTAS, COMPACT_SQL, ROLLUP, "id"),
            (CUSTOMER_DELTAS, COMPACT_CUSTOMERS_SQL, CUSTOMERS, "email"),
        ):
            cursor.execute(f"SELECT max(id), count(*) FROM {deltas}")  # noqa: S608 (fixed text)
            last, count = cursor.fetchone()
            folded.append(count)
            if last is not None:
                _upsert(cursor, sql, {"last": last, **cutoff}, table, column)
            if count > ANALYZE_ABOVE:
                # Under the lock, in the fold's transaction: it sees the deltas gone; it blocks no writer.
                cursor.execute(f"ANALYZE {deltas}, {table}")
        _upsert(cursor, FOLD_SQL, cutoff, ROLLUP, "id")
    if max(folded) > ANALYZE_ABOVE and not connection.in_atomic_block:
        # A big fold leaves the delta tables full of dead rows that every read of the metrics scans until
        # autovacuum comes (after a 1M-issue seed: 85 MB, 30 ms for each of three reads). VACUUM cannot run in a
        # transaction; it takes no lock that blocks writers.
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {DELTAS}, {CUSTOMER_DELTAS}")
    return folded[0], folded[1]


# --------------------------------------------------------------------------- reads


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def split_range(after: datetime | None, before: datetime | None) -> tuple[date | None, date | None] | None:
    """Whole UTC days ``[first, last)`` inside ``[after, before)`` (None: unbounded), or None when there are none."""
    first = None
    if after is not None:
        a = after.astimezone(UTC)
        first = a.date() if a == _midnight(a.date()) else a.date() + timedelta(days=1)
    last = before.astimezone(UTC).date() if before is not None else None
    if first is not None and last is not None and first >= last:
        return None
    return first, last


# Top customers: how many of the customers with most issues of all time are counted in the range first.
CANDIDATES = 200


def _sql(queryset) -> tuple[str, tuple]:
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def issue_metrics_fast(*, created_after: datetime | None, created_before: datetime | None, now: datetime) -> dict:
    """The same answer as :func:`issues.selectors.issue_metrics_reference`, from the rollup (PostgreSQL)."""
    from django.db.models import BigIntegerField, Count, F, Func, Q, Sum

    from issues import sla
    from issues.models import OrderIssue
    from orders.models import OrderItem, Refund, RefundCause, RefundStatus

    split = split_range(created_after, created_before)
    if split is None:  # less than a whole day: ``issues.selectors.issue_metrics`` reads it live instead
        raise ValueError("The rollup answers ranges that hold a whole day")
    first, last = split
    issues = OrderIssue.objects.order_by()
    if created_after:
        issues = issues.filter(created_at__gte=created_after)
    if created_before:
        issues = issues.filter(created_at__lt=created_before)
    interior = Q()
    days, day_params = "TRUE", []
    if first is not None:
        interior &= Q(created_at__gte=_midnight(first))
        days, day_params = days + " AND day >= %s", [*day_params, first]
    if last is not None:
        interior &= Q(created_at__lt=_midnight(last))
        days, day_params = days + " AND day < %s", [*day_params, last]
    # The partial days at the ends, as index ranges (not NOT(interior), which the planner cannot use).
    ends = Q()
    if created_after is not None and first is not None and _midnight(first) > created_after:
        ends |= Q(created_at__gte=created_after, created_at__lt=_midnight(first))
    if created_before is not None and last is not None and _midnight(last) < created_before:
        ends |= Q(created_at__gte=_midnight(last), created_at__lt=created_before)
    no_edges = OrderIssue.objects.filter(created_at__isnull=True)  # never true, but still SQL (none() is not)
    # Always queried (an empty index range when there are no partial days): the same queries for every range.
    edges = OrderIssue.objects.order_by().filter(ends) if ends else no_edges

    n = sla.now_value(now)
    counts: dict[str, dict[str, int]] = {"status": {}, "priority": {}, "type": {}}
    buckets: dict[int, int] = {}  # resolution times: bucket -> issues (``issue_metrics_bucket``)
    totals = dict.fromkeys(
        ("total", "answered", "satisfied", "resolved", "breached", "first_response_breached", "resolution_breached"), 0
    )
    with connection.cursor() as cursor:
        # 1. the rollup's counts and settled SLA outcomes over the whole days
        cursor.execute(
            # the SLA keys as what they count for now (issue_metrics_sla_at): four rows, not one per deadline hour
            "SELECT metric, CASE WHEN metric = 'sla_clock' THEN issue_metrics_sla_at(key, %s) ELSE key END AS k, "
            f"sum(n)::bigint FROM {COUNTS} WHERE {days} "  # noqa: S608 (fixed text)
            "AND metric IN ('total', 'status', 'priority', 'type', 'answered', 'satisfied', 'resolved', 'sla_clock', "
            "'duration') GROUP BY metric, k",
            [hour_key(now), *day_params],
        )
        for metric, key, value in cursor.fetchall():
            if metric == "duration":
                buckets[int(key)] = buckets.get(int(key), 0) + value
            elif metric in counts:
                counts[metric][key] = counts[metric].get(key, 0) + value
            elif metric == "sla_clock":
                if key is None:
                    continue  # a deadline within now's hour: counted live below
                fr, res = key[0] == "1", key[1] == "1"
                totals["first_response_breached"] += value * fr
                totals["resolution_breached"] += value * res
                totals["breached"] += value * (fr or res)
            else:
                totals[metric] += value

    # 2. the SLA of whole-day issues with a deadline within now's hour, or waiting on the customer (no key)
    start = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=1)
    unsettled = (
        Q(sla_paused_since__isnull=False, follow_up_date__gt=F("sla_paused_since"))
        | Q(first_response_at__isnull=True, first_response_due_at__gte=start, first_response_due_at__lt=end)
        | Q(resolved_at__isnull=True, closed_at__isnull=True, resolution_due_at__gte=start, resolution_due_at__lt=end)
    )
    sla_counts = dict(
        breached=Count("id", filter=sla.breached_q(n)),
        first_response_breached=Count("id", filter=sla.first_response_breached_q(n)),
        resolution_breached=Count("id", filter=sla.resolution_breached_q(n)),
    )
    live = sla.annotate(issues.filter(interior).filter(unsettled), now).aggregate(**sla_counts)
    for key, value in live.items():
        totals[key] += value

    # 3. the partial days at the ends, live
    rows = (
        sla.annotate(edges, now)
        .values("status", "priority", "issue_type")
        .annotate(
            total=Count("id"),
            answered=Count("id", filter=Q(customer_satisfied__isnull=False)),
            satisfied=Count("id", filter=Q(customer_satisfied=True)),
            resolved=Count("id", filter=Q(resolved_at__isnull=False)),
            **sla_counts,
        )
        .order_by()
    )
    for row in rows:
        for metric, field in (("status", "status"), ("priority", "priority"), ("type", "issue_type")):
            counts[metric][row[field]] = counts[metric].get(row[field], 0) + row["total"]
        for key in totals:
            totals[key] += row[key]
    edge_pks, edge_ids = edges.values("pk"), edges.values("issue_id")

    # 4. refunds, SKUs and categories: the rollup's whole days plus the ends, merged and ordered in SQL
    edge_refunds = _sql(
        Refund.objects.filter(cause_type=RefundCause.ISSUE, cause_id__in=edge_ids)
        .exclude(status=RefundStatus.FAILED)
        .order_by()
        .values("source", "currency")
        .annotate(count=Count("id"), amount=Sum("amount"))
    )
    edge_items = OrderItem.objects.filter(issues__in=edge_pks).order_by()
    edge_skus = _sql(edge_items.values("sku").annotate(issues=Count("issues", distinct=True)))
    edge_categories = _sql(
        edge_items.filter(category__isnull=False).values("category_id").annotate(issues=Count("issues", distinct=True))
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT source, currency, sum(count)::bigint, sum(amount) FROM ("  # noqa: S608 (fixed text)
            "SELECT split_part(key, '|', 1) AS source, split_part(key, '|', 2) AS currency, n AS count, amount "
            f"FROM {COUNTS} WHERE metric = 'refund' AND {days} UNION ALL {edge_refunds[0]}) r "
            "GROUP BY source, currency HAVING sum(count) <> 0 ORDER BY source, currency",
            [*day_params, *edge_refunds[1]],
        )
        refunds = cursor.fetchall()
        cursor.execute(
            f"SELECT sku, sum(n)::bigint FROM (SELECT key AS sku, n FROM {COUNTS} WHERE metric = 'sku' AND {days} "  # noqa: S608
            f"UNION ALL {edge_skus[0]}) s GROUP BY sku HAVING sum(n) > 0 ORDER BY 2 DESC, sku LIMIT 10",
            [*day_params, *edge_skus[1]],
        )
        skus = cursor.fetchall()
        cursor.execute(
            "SELECT c.name, sum(s.n)::bigint FROM ("  # noqa: S608 (fixed text)
            f"SELECT key::bigint AS category_id, n FROM {COUNTS} WHERE metric = 'category' AND {days} "
            f"UNION ALL {edge_categories[0]}) s JOIN orders_category c ON c.id = s.category_id "
            "GROUP BY c.name HAVING sum(s.n) > 0 ORDER BY 2 DESC, c.name LIMIT 10",
            [*day_params, *edge_categories[1]],
        )
        categories = cursor.fetchall()

    # 5. percentiles: the buckets of resolution times (the rollup's whole days, read above, and the ends), then two
    # rows each through the duration index from the bucket that holds them
    edge_buckets = (
        edges.filter(resolved_at__isnull=False)
        .annotate(b=Func(sla.RESOLUTION_TIME, function="issue_metrics_bucket", output_field=BigIntegerField()))
        .values_list("b")
        .annotate(n=Count("id"))
        .order_by()
    )
    for bucket, n in edge_buckets:
        buckets[bucket] = buckets.get(bucket, 0) + n
    durations = issues.filter(resolved_at__isnull=False).annotate(d=sla.RESOLUTION_TIME).order_by("d")
    median, p90 = bucket_percentiles(durations, sorted((b, n) for b, n in buckets.items() if n > 0), (0.5, 0.9))

    return metrics_body(
        created_after=created_after,
        created_before=created_before,
        totals=totals,
        by={metric: {k: v for k, v in values.items() if v} for metric, values in counts.items()},
        percentiles=(median, p90),
        refunds=refunds,
        skus=skus,
        categories=categories,
        customers=_top_customers(issues, created_after, created_before),
    )


def _top_customers(issues, created_after: datetime | None, created_before: datetime | None) -> list:
    """The ten customers with most issues in the range (ties by e-mail), as the reference orders them; two queries.

    First the ``CANDIDATES`` customers with most issues of all time, each with its exact count in the range. If
    no other customer's all-time count reaches the tenth best of those (then none can enter the top ten), the
    answer is among them; otherwise (narrow ranges, where the all-time order says little) a live count over the
    range's issues.

    All-time counts are the compacted ones plus the deltas not compacted yet. The candidates are drawn from the
    ``CANDIDATES + 1`` best compacted counts and every e-mail with deltas, with their exact all-time counts; any
    other customer has no delta and a compacted count at most the ``CANDIDATES + 1``-th (``beyond``), so the bound
    on the customers not examined is the larger of that and the first candidate left out."""
    bounds, bound_params = "", []
    if created_after:
        bounds, bound_params = bounds + " AND i.created_at >= %s", [*bound_params, created_after]
    if created_before:
        bounds, bound_params = bounds + " AND i.created_at < %s", [*bound_params, created_before]
    # over all time a candidate's count in the range is its all-time count: nothing to count
    in_range = (
        "(SELECT count(*) FROM issues_orderissue i JOIN orders_order o "
        f"ON o.id = i.order_id WHERE o.customer_email = c.email{bounds})"
        if bounds
        else "c.n"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH d AS (SELECT email, sum(n) AS n FROM {CUSTOMER_DELTAS} GROUP BY email), "  # noqa: S608 (fixed text)
            f"top AS (SELECT email FROM {CUSTOMERS} WHERE n > 0 ORDER BY n DESC, email LIMIT %s), "
            "total AS (SELECT e.email, coalesce(c.n, 0) + coalesce(d.n, 0) AS n "
            f"FROM (SELECT email FROM top UNION SELECT email FROM d) e LEFT JOIN {CUSTOMERS} c ON c.email = e.email "
            "LEFT JOIN d ON d.email = e.email) "
            f"SELECT c.email, c.n, {in_range}, "
            f"(SELECT n FROM {CUSTOMERS} WHERE n > 0 ORDER BY n DESC, email OFFSET %s LIMIT 1) "
            "FROM (SELECT email, n FROM total WHERE n > 0 ORDER BY n DESC, email LIMIT %s) c",
            [CANDIDATES + 1, *bound_params, CANDIDATES, CANDIDATES + 1],
        )
        rows = cursor.fetchall()
        examined, rest = rows[:CANDIDATES], rows[CANDIDATES:]
        bound = max(
            [n for _email, n, _count, _beyond in rest] + [beyond for *_, beyond in rows[:1] if beyond], default=0
        )
        best = sorted((count for _email, _n, count, _beyond in examined if count > 0), reverse=True)
        tenth = best[9] if len(best) >= 10 else 0
        if bound and not (tenth and bound < tenth):
            return _live_customers(issues)
        found = [(email, count) for email, _n, count, _beyond in examined if count > 0]
        cursor.execute(
            "SELECT e, c FROM unnest(%s::text[], %s::bigint[]) AS t(e, c) ORDER BY c DESC, e LIMIT 10",
            [[e for e, _ in found], [c for _, c in found]],
        )
        return cursor.fetchall()


def _live_customers(issues) -> list:
    from django.db.models import Count

    rows = (
        issues.exclude(order__customer_email="")
        .values("order__customer_email")
        .annotate(issues=Count("id"))
        .filter(issues__gt=0)
        .order_by("-issues", "order__customer_email")[:10]
    )
    return [(r["order__customer_email"], r["issues"]) for r in rows]


def bucket_percentiles(durations: QuerySet, buckets: list[tuple[int, int]], fractions) -> list[timedelta | None]:
    """Linear-interpolated percentiles (as :func:`percentile`) from the bucket counts ``(bucket, n)``, ascending
    (``issue_metrics_bucket``): the rank's bucket says how many durations lie below its value, so each percentile
    reads two rows from there through the duration index, in one query for all. Exact; a walk of at most one
    bucket's rows, not of every duration below the percentile."""
    total = sum(n for _, n in buckets)
    if total <= 0:
        return [None for _ in fractions]
    seeks = []
    for fraction in fractions:
        position = fraction * (total - 1)
        low, below = int(position), 0
        for bucket, n in buckets:
            if low < below + n:
                seeks.append((bucket, low - below, position - low))
                break
            below += n
    parts = [
        durations.filter(d__gte=timedelta(seconds=bucket))
        .annotate(part=Value(index))
        .values_list("part", "d")[offset : offset + 2]
        for index, (bucket, offset, _) in enumerate(seeks)
    ]
    rows: dict[int, list[timedelta]] = {}
    for part, value in sorted(parts[0].union(*parts[1:], all=True)):
        rows.setdefault(part, []).append(value)
    answers = []
    for index, (_, _, fraction) in enumerate(seeks):
        values = rows.get(index, [])
        if not values:  # the issues changed between the two reads: the next call sees them settled
            answers.append(None)
        elif len(values) == 1 or not fraction:
            answers.append(values[0])
        else:
            answers.append(values[0] + (values[1] - values[0]) * fraction)
    return answers


def percentile(durations: QuerySet, count: int, fraction: float) -> timedelta | None:
    """Linear-interpolated percentile (PostgreSQL's percentile_cont) with ORDER BY + OFFSET: at most two rows read."""
    if count == 0:
        return None
    position = fraction * (count - 1)
    low = int(position)
    values = list(durations[low : low + 2])
    if len(values) == 1 or position == low:
        return values[0]
    return values[0] + (values[1] - values[0]) * (position - low)


def metrics_body(*, created_after, created_before, totals, by, percentiles, refunds, skus, categories, customers):
    """The metrics answer from its parts (shared by the rollup path here and
    ``issues.selectors.issue_metrics_reference``)."""
    median, p90 = percentiles
    return {
        "created_after": created_after,
        "created_before": created_before,
        "total": totals["total"],
        "by_status": by["status"],
        "by_priority": by["priority"],
        "by_type": by["type"],
        "time_to_resolution": {
            "resolved_count": totals["resolved"],
            "median_hours": _hours(median),
            "p90_hours": _hours(p90),
        },
        "satisfaction": {
            "answered": totals["answered"],
            "satisfied": totals["satisfied"],
            "rate": round(totals["satisfied"] / totals["answered"], 4) if totals["answered"] else None,
        },
        "sla": {
            "breached": totals["breached"],
            "first_response_breached": totals["first_response_breached"],
            "resolution_breached": totals["resolution_breached"],
            "rate": round(totals["breached"] / totals["total"], 4) if totals["total"] else None,
        },
        "refunds_by_source": [
            {"source": source, "currency": currency, "count": count, "amount": amount or Decimal(0)}
            for source, currency, count, amount in refunds
        ],
        "recurring": {
            "skus": [{"sku": sku, "issues": n} for sku, n in skus],
            "categories": [{"category": name, "issues": n} for name, n in categories],
            "customers": [{"customer_email": email, "issues": n} for email, n in customers],
        },
    }


def _hours(value: timedelta | None) -> float | None:
    return round(value.total_seconds() / 3600, 2) if value is not None else None
