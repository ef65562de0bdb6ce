"""The settings reader: names (prefix, global names, any case), the types and their spellings,
bounds, secrets kept out of repr, and clear errors naming the variable."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import ClassVar, Literal

import pytest
from tollgate_common.env_settings import NO_DEFAULT, EnvSettings, Secret, SettingsError, setting


class Sample(EnvSettings):
    env_prefix: ClassVar[str] = "TOLLGATE_SAMPLE_"

    name: str = "default"
    data_dir: Path = setting(default=Path(".tollgate"), env="TOLLGATE_DATA_DIR")
    count: int = setting(default=3, ge=1, le=5)
    ratio: float = setting(default=0.5, gt=0)
    enabled: bool = True
    amount: Decimal = setting(default=Decimal("5.00"), ge=0, decimal_places=2)
    mode: Literal["open", "closed"] = "open"
    timeouts: dict[str, float] = setting(default_factory=dict)
    token: Secret | None = setting(default=None, repr=False)
    password: Secret | None = None
    file: Path | None = None
    url: str = setting(default="", repr=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.url:
            self.url = f"sqlite:///{self.data_dir / 'sample.db'}"


class SampleChild(Sample):
    env_prefix: ClassVar[str] = "TOLLGATE_CHILD_"

    extra: int = 0


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*Sample.settings_fields(), "extra"]:
        for prefix in ("TOLLGATE_SAMPLE_", "TOLLGATE_CHILD_"):
            monkeypatch.delenv(f"{prefix}{name}".upper(), raising=False)
    monkeypatch.delenv("TOLLGATE_DATA_DIR", raising=False)


def _read(monkeypatch: pytest.MonkeyPatch, **environment: str) -> Sample:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return Sample()


def test_defaults_and_computed_defaults() -> None:
    settings = Sample()
    assert (settings.name, settings.count, settings.ratio, settings.enabled) == (
        "default",
        3,
        0.5,
        True,
    )
    assert settings.amount == Decimal("5.00")
    assert settings.timeouts == {}
    assert settings.token is None
    assert settings.url == "sqlite:///.tollgate/sample.db"


def test_prefixed_and_global_names_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _read(
        monkeypatch,
        TOLLGATE_SAMPLE_NAME="from-env",
        tollgate_data_dir="/srv/data",
        TOLLGATE_DATA_DIR_NOT="ignored",
        DATA_DIR="/not/read",
    )
    assert settings.name == "from-env"
    assert settings.data_dir == Path("/srv/data")
    assert settings.url == "sqlite:////srv/data/sample.db"


def test_a_subclass_reads_the_inherited_fields_under_its_own_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOLLGATE_SAMPLE_NAME", "parent")
    monkeypatch.setenv("TOLLGATE_CHILD_NAME", "child")
    monkeypatch.setenv("TOLLGATE_CHILD_EXTRA", "7")
    monkeypatch.setenv("TOLLGATE_DATA_DIR", "/srv/data")
    child = SampleChild()
    assert (child.name, child.extra, child.data_dir) == ("child", 7, Path("/srv/data"))
    assert Sample().name == "parent"


def test_keyword_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOLLGATE_SAMPLE_COUNT", "4")
    settings = Sample(count=2, ratio=1, data_dir=Path("/d"), url="postgresql://db/x")
    assert (settings.count, settings.ratio, settings.url) == (2, 1.0, "postgresql://db/x")
    assert isinstance(settings.ratio, float)
    with pytest.raises(TypeError, match="Sample has no setting nope"):
        Sample(nope=1)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("spelling", "value"),
    [
        *[(s, True) for s in ("1", "true", "True", "TRUE", "yes", "on", "t", "y", "Y")],
        *[(s, False) for s in ("0", "false", "False", "no", "off", "f", "n", "OFF")],
    ],
)
def test_the_spellings_of_a_boolean(
    monkeypatch: pytest.MonkeyPatch, spelling: str, value: bool
) -> None:
    monkeypatch.setenv("TOLLGATE_SAMPLE_ENABLED", spelling)
    assert Sample().enabled is value


@pytest.mark.parametrize("spelling", ["", "2", "maybe", " true", "enabled"])
def test_anything_else_is_not_a_boolean(monkeypatch: pytest.MonkeyPatch, spelling: str) -> None:
    monkeypatch.setenv("TOLLGATE_SAMPLE_ENABLED", spelling)
    with pytest.raises(SettingsError, match=r"TOLLGATE_SAMPLE_ENABLED=.*must be a boolean"):
        Sample()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "TOLLGATE_SAMPLE_COUNT",
            "0",
            "TOLLGATE_SAMPLE_COUNT='0': must be greater than or equal to 1",
        ),
        (
            "TOLLGATE_SAMPLE_COUNT",
            "6",
            "TOLLGATE_SAMPLE_COUNT='6': must be less than or equal to 5",
        ),
        ("TOLLGATE_SAMPLE_COUNT", "2.5", "TOLLGATE_SAMPLE_COUNT='2.5': must be a whole number"),
        ("TOLLGATE_SAMPLE_RATIO", "0", "TOLLGATE_SAMPLE_RATIO='0': must be greater than 0"),
        ("TOLLGATE_SAMPLE_RATIO", "fast", "TOLLGATE_SAMPLE_RATIO='fast': must be a number"),
        (
            "TOLLGATE_SAMPLE_AMOUNT",
            "5.001",
            "TOLLGATE_SAMPLE_AMOUNT='5.001': must be a number with at most 2 decimal places",
        ),
        ("TOLLGATE_SAMPLE_AMOUNT", "NaN", "TOLLGATE_SAMPLE_AMOUNT='NaN': must be a finite number"),
    ],
)
def test_a_value_out_of_bounds_or_of_the_wrong_type_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as refused:
        Sample()
    assert str(refused.value) == message


def test_numbers_decimals_and_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _read(
        monkeypatch,
        TOLLGATE_SAMPLE_COUNT=" 5 ",
        TOLLGATE_SAMPLE_RATIO="1e-3",
        TOLLGATE_SAMPLE_AMOUNT="2.500",
        TOLLGATE_SAMPLE_FILE="/etc/x.json",
    )
    assert (settings.count, settings.ratio) == (5, 0.001)
    assert settings.amount == Decimal("2.5")
    assert settings.file == Path("/etc/x.json")


def test_a_literal_takes_only_its_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOLLGATE_SAMPLE_MODE", "closed")
    assert Sample().mode == "closed"
    monkeypatch.setenv("TOLLGATE_SAMPLE_MODE", "Closed")
    with pytest.raises(SettingsError) as refused:
        Sample()
    assert str(refused.value) == "TOLLGATE_SAMPLE_MODE='Closed': must be one of 'open', 'closed'"


def test_a_map_of_numbers_is_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOLLGATE_SAMPLE_TIMEOUTS", '{"groq": 5, "openai": 2.5}')
    assert Sample().timeouts == {"groq": 5.0, "openai": 2.5}
    for bad in ("", "groq=5", "[5]", '{"groq": "soon"}'):
        monkeypatch.setenv("TOLLGATE_SAMPLE_TIMEOUTS", bad)
        with pytest.raises(SettingsError, match="TOLLGATE_SAMPLE_TIMEOUTS="):
            Sample()


def test_secrets_are_read_but_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOLLGATE_SAMPLE_URL", "postgresql://user:hunter2@db/x")
    settings = _read(
        monkeypatch,
        TOLLGATE_SAMPLE_TOKEN="token-value-123",
        TOLLGATE_SAMPLE_PASSWORD="password-value-456",
    )
    assert settings.token is not None
    assert settings.token.get_secret_value() == "token-value-123"
    assert settings.password == Secret("password-value-456")
    assert repr(settings.password) == "Secret('**********')"
    for text in (repr(settings), str(settings), str(settings.password)):
        assert "token-value-123" not in text
        assert "password-value-456" not in text
        assert "hunter2" not in text
    assert "password=Secret('**********')" in repr(settings)


def test_an_empty_secret_is_falsy_and_a_bad_secret_is_not_echoed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOLLGATE_SAMPLE_PASSWORD", "")
    settings = Sample()
    assert settings.password is not None
    assert not settings.password
    with pytest.raises(SettingsError) as refused:
        Sample(password=123)  # type: ignore[arg-type]
    assert str(refused.value) == "Sample(password=...): must be a Secret, not int"
    with pytest.raises(SettingsError) as refused:
        Sample(url=b"postgresql://user:hunter2@db/x")  # type: ignore[arg-type]
    assert str(refused.value) == "Sample(url=...): must be a str, not bytes"


def test_fields_are_introspectable() -> None:
    fields = SampleChild.settings_fields()
    assert fields["name"].env == "TOLLGATE_CHILD_NAME"
    assert fields["data_dir"].env == "TOLLGATE_DATA_DIR"
    assert fields["count"].default == 3
    assert (fields["count"].ge, fields["count"].le) == (1, 5)
    assert fields["timeouts"].default is NO_DEFAULT
    assert fields["timeouts"].default_factory is dict
    assert not any(field.required for field in fields.values())


def test_a_field_without_default_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    class Needs(EnvSettings):
        env_prefix: ClassVar[str] = "TOLLGATE_NEEDS_"
        key: str

    monkeypatch.delenv("TOLLGATE_NEEDS_KEY", raising=False)
    assert Needs.settings_fields()["key"].required
    # The type checker asks for a required field as a keyword; the environment may give it.
    with pytest.raises(SettingsError, match="TOLLGATE_NEEDS_KEY is not set"):
        Needs()  # type: ignore[call-arg]
    monkeypatch.setenv("TOLLGATE_NEEDS_KEY", "k")
    assert Needs().key == "k"  # type: ignore[call-arg]


def test_a_type_the_reader_cannot_read_is_refused_when_the_class_is_made() -> None:
    with pytest.raises(TypeError, match=r"Bad\.items: settings cannot read"):

        class Bad(EnvSettings):
            items: list[str] = setting(default_factory=list)
