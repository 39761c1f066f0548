"""Account ids: the 24-character identifiers of the fabric accounts (tenants) that orders, fabric API keys, webhook
subscriptions and service accounts' grants name."""

import re

ACCOUNT_RE = re.compile(r"^[A-Za-z0-9]{24}$")
