"""The ledger's rules live in one module (issue 22): ``orders/ledger.py`` is the only code that subtracts refunds
from payments, defines a cent, or tells what is still refundable; everything else calls it."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOME = ROOT / "orders" / "ledger.py"
# what computing a refundable amount or re-defining the cent looks like in this code base
RULES = re.compile(
    r"paid\w*\s*-\s*[\w.]*refunded"  # paid - refunded, paid_total - refunded_total, money.paid - money.refunded
    r"|amount\s*-\s*\w*\.refunded\b"  # a payment's captured amount minus its refunds
    r"|^CENT\s*=",
    re.MULTILINE,
)


def application_modules() -> list[Path]:
    skip = {".venv", "tests", "migrations", "node_modules", ".git"}
    return [p for p in ROOT.rglob("*.py") if not skip & set(p.relative_to(ROOT).parts)]


def test_only_the_ledger_computes_what_is_refundable():
    modules = application_modules()
    assert HOME in modules
    assert len(modules) > 50
    found = {str(p.relative_to(ROOT)) for p in modules if RULES.search(p.read_text())}
    assert found == {"orders/ledger.py"}


def test_the_pattern_finds_the_rules_it_is_meant_to_find():
    assert RULES.search("    return max(paid - refunded, ZERO)")
    assert RULES.search("max(order.paid_total - order.refunded_total, 0)")
    assert RULES.search("share = payment.amount - payment.refunded")
    assert RULES.search('CENT = Decimal("0.01")')
    assert not RULES.search("refund_amount = amount - left")
