"""A PostgreSQL database with about a million issues for the metrics benchmark, written with SQL in minutes.

``seed_demo --orders 200000`` writes the same volume through the models (with history) in more than an hour;
the metrics only read orders, items, categories, issues, their affected items and refunds, so this fills just
those tables with ``INSERT … SELECT generate_series`` and distributions like seed_demo's bulk path: 5 issues
per order in every status (SLA deadlines from the priority's targets, first responses, resolutions,
satisfaction, follow-ups waiting on the customer), one affected item per issue (a few have two), several hundred
SKUs with a long tail, ten categories, about 180,000 customer e-mails (some customers order again), a
refund on every resolved or closed issue (a few failed, a few from another source or currency) and
appeasement refunds that are not issue refunds.

    .venv/bin/python -m tests.bench.metrics_data --db h_metrics_1m --orders 200000

creates the database if needed (``createdb``), migrates it, empties the tables above, fills them and runs
``VACUUM ANALYZE``. Deterministic: ``setseed`` fixes every random choice.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SQL = """
SELECT setseed(0.42);

TRUNCATE orders_refund, issues_orderissue_affected_items, issues_orderissue, orders_orderitem, orders_order,
         orders_category RESTART IDENTITY CASCADE;

INSERT INTO orders_category (name, description, created_at)
SELECT name, '', now() FROM unnest(ARRAY['Bakery', 'Dairy', 'Produce', 'Meat', 'Frozen', 'Beverages', 'Snacks',
    'Household', 'Personal care', 'Baby']) AS name;

-- Orders over the last year; customers: 180,000 e-mails, a few orders without one.
INSERT INTO orders_order (order_id, account, channel, status, currency, customer_id, customer_first_name,
    customer_last_name, customer_email, customer_phone, ship_to_street1, ship_to_street2, ship_to_city,
    ship_to_state, ship_to_zip_code, ship_to_country, subtotal, tax_total, order_total, revision, created_at,
    updated_at)
SELECT 'bench-' || g, 'default', 12, (ARRAY['completed', 'shipped', 'processing', 'completed'])[1 + g % 4],
    CASE WHEN g % 50 = 0 THEN 'EUR' ELSE 'USD' END, 'cust' || c, 'Ann', 'Customer',
    CASE WHEN g % 97 = 0 THEN '' ELSE 'customer' || c || '@example.com' END, '', '1 Main St', '', 'Springfield',
    'IL', '62701', 'US', total, 0, total, 1, created, created
FROM (
    SELECT g, (floor(power(random(), 1.6) * 180000))::int AS c, round((20 + random() * 180)::numeric, 2) AS total,
        now() - interval '365 days' * random() - interval '1 day' AS created
    FROM generate_series(1, %(orders)s) AS g
) o;

-- Items: one to four per order; SKUs with a long tail (800 of them), categories by SKU (some none).
INSERT INTO orders_orderitem (order_item_id, line_number, sku, item_id, store_item_name, store_item_description,
    store_item_size, quantity, unit_price, discount, tax, special_instructions, preparation_notes, revision,
    created_at, updated_at, category_id, order_id)
SELECT md5(o.id || '-' || n)::uuid, n, 'SKU-' || lpad(s::text, 4, '0'), '', 'Item ' || s, '', '', 1,
    round((2 + random() * 40)::numeric, 2), 0, 0, '', '', 1, o.created_at, o.created_at,
    CASE WHEN s % 23 = 0 THEN NULL ELSE 1 + s % 10 END, o.id
FROM orders_order o
CROSS JOIN LATERAL generate_series(1, 1 + (o.id * 7 + 3) % 4) AS n
CROSS JOIN LATERAL (SELECT (floor(power(random(), 2.5) * 800))::int + n * 0 AS s) sku;

-- Issues: 5 per order, statuses as seed_demo's plan, SLA from the priority's targets.
INSERT INTO issues_orderissue (issue_id, issue_type, title, description, status, priority, resolution_description,
    customer_satisfied, follow_up_required, follow_up_date, reopen_count, revision, created_at, updated_at,
    resolved_at, closed_at, assigned_to_id, created_by_id, order_id, first_response_at, first_response_due_at,
    resolution_due_at, sla_paused, sla_paused_since)
SELECT 'issue_bench_' || i.order_id || '_' || i.n, i.issue_type, 'Bench issue', 'Customer called about this order.',
    i.status, i.priority, CASE WHEN i.resolved_at IS NULL THEN '' ELSE 'Partial refund.' END,
    CASE WHEN i.resolved_at IS NULL THEN NULL WHEN random() < 0.15 THEN NULL ELSE random() < 0.8 END,
    i.follow_up, CASE WHEN i.follow_up THEN i.fu_date END, 0, 1, i.created_at, i.created_at,
    i.resolved_at,
    CASE WHEN i.status = 'closed' THEN least(i.resolved_at + interval '1 hour' * random() * 48, now()) END,
    NULL, NULL, i.order_id, i.first_response_at, i.created_at + i.first_target,
    i.created_at + i.resolution_target + i.paused, i.paused,
    CASE WHEN i.follow_up AND i.fu_date > now() THEN least(now(), i.fu_date) - interval '1 hour' * (1 + random() * 20)
    END
FROM (
    SELECT p.*,
        CASE p.priority WHEN 'critical' THEN interval '1 hour' WHEN 'high' THEN interval '4 hours'
            WHEN 'medium' THEN interval '8 hours' ELSE interval '24 hours' END AS first_target,
        CASE p.priority WHEN 'critical' THEN interval '8 hours' WHEN 'high' THEN interval '24 hours'
            WHEN 'medium' THEN interval '72 hours' ELSE interval '168 hours' END AS resolution_target,
        CASE WHEN p.status = 'open' THEN NULL
            ELSE p.created_at + interval '1 minute' * (5 + floor(power(random(), 2) * 900)) END AS first_response_at,
        CASE WHEN p.status IN ('resolved', 'closed')
            THEN least(p.created_at + interval '1 hour' * (0.5 + power(random(), 2) * 200)
                       + interval '1 second' * floor(random() * 3600), now()) END AS resolved_at,
        CASE WHEN random() < 0.05 THEN interval '1 hour' * floor(random() * 72) ELSE interval '0' END AS paused,
        p.status = 'in_progress' AND random() < 0.3 AS follow_up,
        now() + interval '1 hour' * (-20 + floor(random() * 68)) AS fu_date
    FROM (
        SELECT o.id AS order_id, n,
            (ARRAY['open', 'investigating', 'in_progress', 'resolved', 'closed', 'open', 'escalated',
                   'investigating', 'resolved', 'closed', 'closed', 'open'])[1 + (o.id * 5 + n) % 12] AS status,
            (ARRAY['wrong_item', 'missing_item', 'damaged_item', 'quality', 'late_delivery', 'billing',
                   'other'])[1 + (o.id + n) % 7] AS issue_type,
            (ARRAY['low', 'medium', 'medium', 'high', 'critical'])[1 + floor(random() * 5)::int] AS priority,
            least(o.created_at + interval '1 second' * floor(random() * 240 * 3600), now() - interval '5 minutes')
                AS created_at
        FROM orders_order o CROSS JOIN generate_series(0, 4) AS n
    ) p
) i
ORDER BY i.created_at;

-- Affected items: one per issue (an item of its order), a second one on every 20th issue.
INSERT INTO issues_orderissue_affected_items (orderissue_id, orderitem_id)
SELECT i.id, it.id
FROM issues_orderissue i
JOIN LATERAL (
    SELECT id, row_number() OVER (ORDER BY line_number) AS k, count(*) OVER () AS c
    FROM orders_orderitem WHERE order_id = i.order_id
) it ON it.k = 1 + (i.id %% it.c) OR (i.id %% 20 = 0 AND it.c > 1 AND it.k = 1 + ((i.id + 1) %% it.c));

-- Refunds: one per resolved or closed issue (3%% failed, 10%% from the platform); appeasement refunds
-- (not issue refunds) on every fourth order.
INSERT INTO orders_refund (refund_id, amount, currency, source, cause_type, cause_id, reason, status,
    external_reference, failure_reason, created_at, updated_at, processed_at, order_id, payment_id, requested_by_id)
SELECT 'ref_bench_i' || i.id, round((1 + random() * 30)::numeric, 2), o.currency,
    CASE WHEN random() < 0.1 THEN 'platform' ELSE 'merchant' END, 'issue', i.issue_id, 'Refund for the item.',
    CASE WHEN random() < 0.03 THEN 'failed' ELSE 'completed' END, '', '', i.resolved_at, i.resolved_at,
    i.resolved_at, i.order_id, NULL, NULL
FROM issues_orderissue i JOIN orders_order o ON o.id = i.order_id
WHERE i.resolved_at IS NOT NULL;

INSERT INTO orders_refund (refund_id, amount, currency, source, cause_type, cause_id, reason, status,
    external_reference, failure_reason, created_at, updated_at, processed_at, order_id, payment_id, requested_by_id)
SELECT 'ref_bench_a' || o.id, 2.00, o.currency, 'store_credit', 'appeasement', 'app_bench_' || o.id, 'Goodwill.',
    'completed', '', '', o.created_at + interval '1 day', o.created_at + interval '1 day',
    o.created_at + interval '1 day', o.id, NULL, NULL
FROM orders_order o WHERE o.id %% 4 = 0;
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="h_metrics_1m")
    parser.add_argument("--orders", type=int, default=200_000, help="5 issues each (default: 200,000 = 1M issues)")
    parser.add_argument("--host", default=os.environ.get("PGHOST", "127.0.0.1"))
    parser.add_argument("--user", default=os.environ.get("PGUSER", "postgres"))
    args = parser.parse_args(argv)
    url = f"postgres://{args.user}@{args.host}:5432/{args.db}"
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    subprocess.run(["createdb", "-h", args.host, "-U", args.user, args.db], env=env, capture_output=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True)

    import psycopg

    started = time.monotonic()
    with psycopg.connect(f"host={args.host} user={args.user} dbname={args.db}", autocommit=True) as conn:
        for statement in SQL.split(";\n"):
            if not statement.strip():
                continue
            step = time.monotonic()
            conn.execute(statement.replace("%(orders)s", str(args.orders)).replace("%%", "%"))
            head = " ".join(line for line in statement.strip().splitlines() if not line.startswith("--"))[:60]
            print(f"{time.monotonic() - step:7.1f}s  {head}", flush=True)
        # Anything the project maintains from these tables (metrics rollups) is rebuilt from scratch.
        rebuild = [sys.executable, "manage.py", "issue_metrics_rebuild"]
        if (ROOT / "issues/management/commands/issue_metrics_rebuild.py").exists():
            step = time.monotonic()
            subprocess.run(rebuild, env=env, cwd=ROOT, check=True)
            print(f"{time.monotonic() - step:7.1f}s  issue_metrics_rebuild", flush=True)
        step = time.monotonic()
        conn.execute("VACUUM ANALYZE")
        print(f"{time.monotonic() - step:7.1f}s  VACUUM ANALYZE", flush=True)
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 (fixed names)
            for table in ("orders_order", "orders_orderitem", "issues_orderissue", "orders_refund")
        }
    print(f"{args.db}: {counts} in {time.monotonic() - started:.0f}s")


if __name__ == "__main__":
    main()
