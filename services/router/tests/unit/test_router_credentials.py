"""System credentials from the environment (``TOLLGATE_PROVIDER_<SLUG>_API_KEY``, docs/routing.md)."""

from __future__ import annotations

from tollgate_router.credentials.system import env_slug, load_system_credentials


def test_tollgate_variable_wins_over_the_usual_one_and_defaults_apply() -> None:
    credentials = load_system_credentials(
        ["openai"], {"TOLLGATE_PROVIDER_OPENAI_API_KEY": "sk-a", "OPENAI_API_KEY": "sk-b"}
    )

    openai = credentials.get("openai")
    assert openai is not None
    assert openai.api_key == "sk-a"
    assert openai.base_url == "https://api.openai.com/v1"


def test_usual_variable_and_base_url_override() -> None:
    credentials = load_system_credentials(
        ["groq"],
        {"GROQ_API_KEY": "gsk", "TOLLGATE_PROVIDER_GROQ_BASE_URL": "http://127.0.0.1:9000/v1/"},
    )

    groq = credentials.get("groq")
    assert groq is not None
    assert (groq.api_key, groq.base_url) == ("gsk", "http://127.0.0.1:9000/v1")


def test_providers_without_a_key_or_a_base_url_have_no_credential() -> None:
    credentials = load_system_credentials(
        ["openai", "anthropic", "my-box", "azure"],
        {"OPENAI_API_KEY": "  ", "TOLLGATE_PROVIDER_MY_BOX_API_KEY": "k", "AZURE_API_KEY": "k"},
    )

    assert credentials.get("openai") is None  # blank
    assert credentials.get("anthropic") is None  # no key
    assert credentials.get("my-box") is None  # unknown provider: no default base URL
    assert credentials.get("azure") is None  # no documented default base URL


def test_slug_is_upper_cased_with_dashes_as_underscores() -> None:
    assert env_slug("my-box") == "MY_BOX"
    credentials = load_system_credentials(
        ["my-box"],
        {
            "TOLLGATE_PROVIDER_MY_BOX_API_KEY": "k",
            "TOLLGATE_PROVIDER_MY_BOX_BASE_URL": "http://box/v1",
        },
    )
    assert credentials.get("my-box") is not None


def test_keys_never_appear_in_reprs() -> None:
    credentials = load_system_credentials(["openai"], {"OPENAI_API_KEY": "sk-very-secret"})

    assert "sk-very-secret" not in repr(credentials)
    assert "sk-very-secret" not in repr(credentials.get("openai"))
