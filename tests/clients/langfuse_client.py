"""Run by tests/clients/test_py_langfuse.py in a process of its own: Langfuse's drop-in wraps
the process-wide ``openai`` module (its ``metadata`` argument, for one, never reaches the
provider), which would change every later test of the session that uses the SDK.

    python langfuse_client.py <base_url> <api_key> <model> chat|stream

Prints what the client got as one JSON object."""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    base_url, api_key, model, kind = sys.argv[1:5]
    os.environ["LANGFUSE_TRACING_ENABLED"] = "false"  # no Langfuse server here
    from langfuse.openai import openai  # type: ignore[attr-defined]  # the wrapped module

    client = openai.OpenAI(base_url=base_url, api_key=api_key)
    if kind == "chat":
        completion = client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "Hello from Langfuse"}],
            name="suite-greeting",
            metadata={"suite": "clients"},
        )
        result = {
            "id": completion.id,
            "content": completion.choices[0].message.content,
            "usage": [completion.usage.prompt_tokens, completion.usage.completion_tokens],
        }
    else:
        chunks = list(
            client.chat.completions.create(
                model=model,
                messages=[{"role": "user", "content": "stream these words please"}],
                stream=True,
                stream_options={"include_usage": True},
                name="suite-stream",
            )
        )
        result = {
            "id": chunks[0].id,
            "pieces": [
                c.choices[0].delta.content
                for c in chunks
                if c.choices and c.choices[0].delta.content
            ],
            "completion_tokens": chunks[-1].usage.completion_tokens,
        }
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
