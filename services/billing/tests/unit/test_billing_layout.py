"""Billing's domains import each other only one way (docs/code-layout.md): the ledger uses
generations and budgets; generations, budgets and the report use no other domain."""

from __future__ import annotations

import ast
from pathlib import Path

import tollgate_billing

PACKAGE = Path(tollgate_billing.__file__).parent
DOMAINS = ("generations", "ledger", "budgets", "report")


def _imported_domains(domain: str) -> set[str]:
    found: set[str] = set()
    for path in (PACKAGE / domain).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                if parts[0] == "tollgate_billing" and len(parts) > 1 and parts[1] in DOMAINS:
                    found.add(parts[1])
    return found - {domain}


def test_domains_import_each_other_one_way() -> None:
    uses = {domain: _imported_domains(domain) for domain in DOMAINS}
    assert uses == {
        "generations": set(),
        "ledger": {"generations", "budgets"},
        "budgets": set(),
        "report": set(),
    }


def test_every_domain_says_what_it_is_for() -> None:
    for domain in DOMAINS:
        init = PACKAGE / domain / "__init__.py"
        assert ast.get_docstring(ast.parse(init.read_text())), domain
