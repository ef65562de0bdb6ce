"""`tollgate activity`, `tollgate requests` and `tollgate credits` against the running suite:
the events and requests of the session show up in the CLI, in the key's team."""

from __future__ import annotations

from decimal import Decimal

import openai
from tollgate_cli.stack import Stack

from tests.support.cli import ok, tollgate
from tests.support.polling import eventually
from tests.support.upstreams import Upstream


def test_the_cli_shows_credits_activity_and_requests(stack: Stack, upstream: Upstream) -> None:
    client = openai.OpenAI(
        base_url=stack.base_url,
        api_key=stack.bootstrap_key(),
        max_retries=0,
        default_headers={"x-title": "CLI Test App"},
    )
    made = {
        client.chat.completions.create(
            model="openai/gpt-4o-mini", messages=[{"role": "user", "content": f"cli {i}"}]
        ).id
        for i in range(2)
    }
    before = Decimal(ok(stack, "credits", "show")["balance"])

    after = ok(stack, "credits", "top-up", "7.25")

    assert Decimal(after["balance"]) == before + Decimal("7.25")
    assert Decimal(ok(stack, "credits", "show")["balance"]) == Decimal(after["balance"])
    purchases = eventually(lambda: ok(stack, "activity", "--type", "credits-purchased"))
    assert purchases and all(e["type"] == "credits-purchased" for e in purchases)
    rows = eventually(
        lambda: (
            (r := ok(stack, "requests", "--limit", "200"))
            and made <= {row["generationId"] for row in r}
            and r
        )
    )
    assert rows, "the requests never reached the request log"
    titles = {row["appTitle"] for row in rows if row["generationId"] in made}
    assert titles == {"CLI Test App"}
    table = tollgate(stack, "requests", "--limit", "5")
    assert (
        table.returncode == 0 and "GENERATIONID" in table.stdout and "CLI Test App" in table.stdout
    )


def test_a_bad_top_up_is_refused_with_the_apis_message(stack: Stack) -> None:
    done = tollgate(stack, "credits", "top-up", "-3")

    assert done.returncode == 1
    assert done.stderr.startswith("tollgate: ")
