"""What Tollgate knows about each provider slug: wire protocol, documented base URL, key variable.

The slugs are those of Vercel's provider table. Base URLs include the API's version path as in each provider's
documentation; ``TOLLGATE_PROVIDER_<SLUG>_BASE_URL`` overrides them. A catalog provider entry may
name its own ``wire_protocol`` (for a self-hosted OpenAI-compatible server, say).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

OPENAI_CHAT = "openai-chat"
# OpenAI's own Responses API, for the OpenAI models a catalog offer marks with it.
OPENAI_RESPONSES = "openai-responses"
ANTHROPIC_MESSAGES = "anthropic-messages"
GOOGLE_GEMINI = "google-gemini"
OTHER = "other"


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    wire_protocol: str
    base_url: str
    key_env: str


def _info(wire_protocol: str, base_url: str, key_env: str) -> ProviderInfo:
    return ProviderInfo(wire_protocol, base_url, key_env)


KNOWN_PROVIDERS: Mapping[str, ProviderInfo] = MappingProxyType(
    {
        "alibaba": _info(
            OPENAI_CHAT,
            "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
            "DASHSCOPE_API_KEY",
        ),
        "anthropic": _info(ANTHROPIC_MESSAGES, "https://api.anthropic.com/v1", "ANTHROPIC_API_KEY"),
        "azure": _info(OTHER, "", "AZURE_API_KEY"),
        "baseten": _info(OPENAI_CHAT, "https://inference.baseten.co/v1", "BASETEN_API_KEY"),
        "bedrock": _info(OTHER, "", "AWS_BEARER_TOKEN_BEDROCK"),
        "cerebras": _info(OPENAI_CHAT, "https://api.cerebras.ai/v1", "CEREBRAS_API_KEY"),
        "cohere": _info(OPENAI_CHAT, "https://api.cohere.ai/compatibility/v1", "COHERE_API_KEY"),
        "deepinfra": _info(OPENAI_CHAT, "https://api.deepinfra.com/v1/openai", "DEEPINFRA_API_KEY"),
        "deepseek": _info(OPENAI_CHAT, "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
        "fireworks": _info(
            OPENAI_CHAT, "https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY"
        ),
        "google": _info(
            GOOGLE_GEMINI,
            "https://generativelanguage.googleapis.com/v1beta",
            "GOOGLE_GENERATIVE_AI_API_KEY",
        ),
        "groq": _info(OPENAI_CHAT, "https://api.groq.com/openai/v1", "GROQ_API_KEY"),
        "inception": _info(OPENAI_CHAT, "https://api.inceptionlabs.ai/v1", "INCEPTION_API_KEY"),
        "meituan": _info(OPENAI_CHAT, "https://api.longcat.chat/openai/v1", "LONGCAT_API_KEY"),
        "minimax": _info(OPENAI_CHAT, "https://api.minimax.io/v1", "MINIMAX_API_KEY"),
        "mistral": _info(OPENAI_CHAT, "https://api.mistral.ai/v1", "MISTRAL_API_KEY"),
        "moonshotai": _info(OPENAI_CHAT, "https://api.moonshot.ai/v1", "MOONSHOT_API_KEY"),
        "morph": _info(OPENAI_CHAT, "https://api.morphllm.com/v1", "MORPH_API_KEY"),
        "novita": _info(OPENAI_CHAT, "https://api.novita.ai/v3/openai", "NOVITA_API_KEY"),
        "openai": _info(OPENAI_CHAT, "https://api.openai.com/v1", "OPENAI_API_KEY"),
        "parasail": _info(OPENAI_CHAT, "https://api.parasail.io/v1", "PARASAIL_API_KEY"),
        "perplexity": _info(OPENAI_CHAT, "https://api.perplexity.ai", "PERPLEXITY_API_KEY"),
        "vercel": _info(OPENAI_CHAT, "https://api.v0.dev/v1", "V0_API_KEY"),
        "vertex": _info(OTHER, "", "GOOGLE_VERTEX_API_KEY"),
        "voyage": _info(OTHER, "https://api.voyageai.com/v1", "VOYAGE_API_KEY"),
        "xai": _info(OPENAI_CHAT, "https://api.x.ai/v1", "XAI_API_KEY"),
        "zai": _info(OPENAI_CHAT, "https://api.z.ai/api/paas/v4", "ZAI_API_KEY"),
    }
)


def provider_info(slug: str) -> ProviderInfo | None:
    return KNOWN_PROVIDERS.get(slug)
