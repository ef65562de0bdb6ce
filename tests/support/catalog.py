"""The models the suite serves besides the built-in catalog (``TOLLGATE_CATALOG_FILE``): one from
the Anthropic fake, one from the Gemini fake, one the OpenAI fake serves through its Responses
API (``wire_protocol: openai-responses``) and an embedding model served by the OpenAI and the
Gemini fakes, with list prices (USD per token) the tests compute costs from."""

from __future__ import annotations

ANTHROPIC_MODEL = "anthropic/claude-suite-test"
GEMINI_MODEL = "google/gemini-suite-test"
ANTHROPIC_PRICE = {
    "input": "0.000003",
    "output": "0.000015",
    "input_cache_read": "0.0000003",
    "input_cache_write": "0.00000375",
}
# An OpenAI model the catalog marks for OpenAI's Responses API (called at ``/v1/responses``).
OPENAI_RESPONSES_MODEL = "openai/gpt-suite-responses"
OPENAI_RESPONSES_PRICE = {
    "input": "0.00000125",
    "output": "0.00001",
    "input_cache_read": "0.000000125",
}
GEMINI_PRICE = {"input": "0.0000003", "output": "0.0000025", "input_cache_read": "0.000000075"}
# An embedding model served by the OpenAI fake and the Gemini fake (failover between the two).
EMBEDDING_MODEL = "acme/embed-suite-test"
EMBEDDING_PRICES = {
    "openai": {"input": "0.00000002", "output": "0"},
    "google": {"input": "0.00000015", "output": "0"},
}
SUITE_CATALOG = {
    "version": "suite-tests",
    "models": [
        {
            "id": ANTHROPIC_MODEL,
            "name": "Claude (suite tests)",
            "input_modalities": ["text", "image", "file"],
            "context_window": 200000,
            "max_output_tokens": 64000,
            "providers": [
                {
                    "provider": "anthropic",
                    "provider_model_id": "claude-sonnet-4-20250514",
                    "pricing": ANTHROPIC_PRICE,
                }
            ],
        },
        {
            "id": GEMINI_MODEL,
            "name": "Gemini (suite tests)",
            "input_modalities": ["text", "image", "audio", "video", "file"],
            "context_window": 1048576,
            "max_output_tokens": 65536,
            "providers": [
                {
                    "provider": "google",
                    "provider_model_id": "gemini-2.5-flash",
                    "pricing": GEMINI_PRICE,
                }
            ],
        },
        {
            "id": OPENAI_RESPONSES_MODEL,
            "name": "GPT through the Responses API (suite tests)",
            "input_modalities": ["text", "image", "file"],
            "context_window": 400000,
            "max_output_tokens": 128000,
            "providers": [
                {
                    "provider": "openai",
                    "provider_model_id": "gpt-5-suite",
                    "wire_protocol": "openai-responses",
                    "pricing": OPENAI_RESPONSES_PRICE,
                }
            ],
        },
        {
            "id": EMBEDDING_MODEL,
            "name": "Embeddings (suite tests)",
            "type": "embedding",
            "context_window": 2048,
            "dimensions": 1536,
            "providers": [
                {
                    "provider": "openai",
                    "provider_model_id": "text-embedding-3-small",
                    "pricing": EMBEDDING_PRICES["openai"],
                },
                {
                    "provider": "google",
                    "provider_model_id": "gemini-embedding-001",
                    "pricing": EMBEDDING_PRICES["google"],
                },
            ],
        },
    ],
}
