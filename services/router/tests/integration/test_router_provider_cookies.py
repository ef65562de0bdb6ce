"""The router is one HTTP client for every team: a cookie a provider sets in an answer to one
team's request (OpenAI's edge sets ``__cf_bm`` and ``_cfuvid``) must not go out with the next
request, which may be another team's, with another team's key. The fake upstream is reached as
``localhost`` (a host name: an HTTP client keeps no cookie of a bare IP address), so a client
that kept cookies would send it back."""

from __future__ import annotations

import pytest
from tollgate.router.v1 import router_pb2 as pb

from .support import StartRouter


def as_team(team_id: str, stream: bool) -> pb.StreamGenerateRequest:
    return pb.StreamGenerateRequest(
        caller=pb.CallerContext(team_id=team_id, project_id="prj", key_id=f"key_{team_id}"),
        model="openai/gpt-4o-mini",
        messages=[pb.ChatMessage(role="user", text=f"hello from {team_id}")],
        stream=stream,
    )


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_a_cookie_one_team_got_never_reaches_the_provider_with_another_team(
    nats_url: str, start_router: StartRouter, stream: bool
) -> None:
    router = await start_router(nats_url, upstream_host="localhost")
    router.openai.script(set_cookie="_cfuvid=visitor-of-team-one; Path=/; HttpOnly")

    first = await router.generate(as_team("team_one", stream))
    second = await router.generate(as_team("team_two", stream))

    assert first and second
    sent = [r for r in router.openai.requests if r["path"] == "/v1/chat/completions"]
    assert [r["body"]["messages"][-1]["content"] for r in sent] == [
        "hello from team_one",
        "hello from team_two",
    ]
    assert "Cookie" not in sent[1]["headers"], sent[1]["headers"]
