"""Settings classes read from the environment, without pydantic (~15 MiB per process).

A subclass of :class:`EnvSettings` declares its fields like a dataclass: a type, and a default
or a :func:`setting` with a default, a global environment name and bounds. Constructing it
reads each field from keyword arguments (by field name), else from the environment, else its
default; then ``__post_init__`` runs (computed defaults). Environment names are looked up
case-insensitively: ``env_prefix`` + the field name, or the field's own ``env`` name, which
ignores the prefix (``TOLLGATE_DATA_DIR`` for every service).

Types: ``str``, ``int``, ``float``, ``bool`` (``1/0``, ``true/false``, ``yes/no``, ``on/off``,
``t/f``, ``y/n`` in any case), ``Decimal``, ``Path``, :class:`Secret`, ``Literal[...]`` of
strings, ``dict[str, float]`` (JSON) and ``X | None``. A value that is not one of the type, or
out of its bounds, is a :class:`SettingsError` naming the variable.
"""

from __future__ import annotations

import inspect
import json
import os
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, ClassVar, Literal, dataclass_transform

_TRUE = frozenset({"1", "true", "yes", "on", "t", "y"})
_FALSE = frozenset({"0", "false", "no", "off", "f", "n"})


class SettingsError(ValueError):
    """A setting's value is not one it accepts; the message names where it came from."""


class Secret:
    """A string kept out of ``repr`` and ``str`` (logs, tracebacks); read it with
    :meth:`get_secret_value`. An empty secret is falsy."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{self}')"

    def __str__(self) -> str:
        return "**********" if self._value else ""

    def __len__(self) -> int:
        return len(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()
"""The default of a field that has none (it must be given)."""


@dataclass(frozen=True)
class _Spec:
    """What :func:`setting` declares; replaced by a :class:`SettingField` per class."""

    default: Any
    default_factory: Callable[[], Any] | None
    env: str | None
    gt: float | None
    ge: float | None
    le: float | None
    decimal_places: int | None
    repr: bool


def setting(
    *,
    default: Any = NO_DEFAULT,
    default_factory: Callable[[], Any] | None = None,
    env: str | None = None,
    gt: float | None = None,
    ge: float | None = None,
    le: float | None = None,
    decimal_places: int | None = None,
    repr: bool = True,
) -> Any:
    """A field of an :class:`EnvSettings` class: its default (or a factory of it), its global
    environment name (``env``, instead of the class's prefix + the field name), its bounds
    (numbers and decimals), and whether ``repr`` shows it."""
    return _Spec(default, default_factory, env, gt, ge, le, decimal_places, repr)


@dataclass(frozen=True)
class SettingField:
    """One field of a settings class, as that class reads it."""

    name: str
    type: Any
    env: str
    """The environment variable read (upper case; looked up in any case)."""
    default: Any
    """The default value, :data:`NO_DEFAULT` when there is none (or a factory makes it)."""
    default_factory: Callable[[], Any] | None
    gt: float | None = None
    ge: float | None = None
    le: float | None = None
    decimal_places: int | None = None
    repr: bool = True

    @property
    def required(self) -> bool:
        return self.default is NO_DEFAULT and self.default_factory is None

    def initial(self, owner: str) -> Any:
        if self.default_factory is not None:
            return self.default_factory()
        if self.default is NO_DEFAULT:
            raise SettingsError(f"{self.env} is not set (required by {owner})")
        return self.default

    def parse(self, value: object, source: str) -> Any:
        """``value`` (a string from the environment, or an object given by keyword) as this
        field's type, within its bounds; ``source`` names it in an error (with the value,
        unless the field is a secret or kept out of ``repr``)."""
        shown = "" if not self.repr or _is_secret(self.type) else f"={value!r}"
        try:
            converted = _convert(self.type, value)
        except (ValueError, TypeError, InvalidOperation) as error:
            raise SettingsError(f"{source}{shown}: {error}") from None
        problem = self._out_of_bounds(converted)
        if problem:
            raise SettingsError(f"{source}{shown}: must be {problem}")
        return converted

    def _out_of_bounds(self, value: object) -> str:
        if not isinstance(value, int | float | Decimal) or isinstance(value, bool):
            return ""
        if self.gt is not None and not value > self.gt:
            return f"greater than {self.gt}"
        if self.ge is not None and not value >= self.ge:
            return f"greater than or equal to {self.ge}"
        if self.le is not None and not value <= self.le:
            return f"less than or equal to {self.le}"
        if self.decimal_places is not None and isinstance(value, Decimal):
            exponent = value.normalize().as_tuple().exponent
            if isinstance(exponent, int) and -exponent > self.decimal_places:
                return f"a number with at most {self.decimal_places} decimal places"
        return ""


@dataclass_transform(kw_only_default=True, field_specifiers=(setting,))
class EnvSettings:
    """Base of a settings class: see the module's documentation."""

    env_prefix: ClassVar[str] = ""
    __settings_specs__: ClassVar[dict[str, _Spec]] = {}
    __settings_fields__: ClassVar[dict[str, SettingField]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        specs = dict(cls.__settings_specs__)
        fields: dict[str, SettingField] = {}
        for name, hint in typing.get_type_hints(cls).items():
            if typing.get_origin(hint) is ClassVar or name.startswith("_"):
                continue
            if name in inspect.get_annotations(cls):
                specs[name] = _declared(cls, name)
            spec = specs[name]
            _check_supported(hint, f"{cls.__name__}.{name}")
            fields[name] = SettingField(
                name=name,
                type=hint,
                env=(spec.env or f"{cls.env_prefix}{name}").upper(),
                default=spec.default,
                default_factory=spec.default_factory,
                gt=spec.gt,
                ge=spec.ge,
                le=spec.le,
                decimal_places=spec.decimal_places,
                repr=spec.repr,
            )
        cls.__settings_specs__ = specs
        cls.__settings_fields__ = fields

    def __init__(self, **values: object) -> None:
        fields = type(self).__settings_fields__
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise TypeError(f"{type(self).__name__} has no setting {', '.join(unknown)}")
        environ = {key.upper(): value for key, value in os.environ.items()}
        owner = type(self).__name__
        for name, field in fields.items():
            if name in values:
                value = field.parse(values[name], f"{owner}({name}=...)")
            elif field.env in environ:
                value = field.parse(environ[field.env], field.env)
            else:
                value = field.initial(owner)
            setattr(self, name, value)
        self.__post_init__()

    def __post_init__(self) -> None:
        """Defaults computed from other fields (a subclass's, calling this one)."""

    @classmethod
    def settings_fields(cls) -> Mapping[str, SettingField]:
        """Each field of this class by name: its type, environment name, default, bounds."""
        return types.MappingProxyType(cls.__settings_fields__)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name, field in type(self).__settings_fields__.items()
            if field.repr
        )
        return f"{type(self).__name__}({shown})"


def _declared(cls: type, name: str) -> _Spec:
    """The field ``name`` as ``cls`` declares it; its class attribute becomes the default."""
    value = cls.__dict__.get(name, NO_DEFAULT)
    if isinstance(value, _Spec):
        spec = value
    else:
        spec = _Spec(value, None, None, None, None, None, None, True)
    if spec.default is NO_DEFAULT:
        if name in cls.__dict__:
            delattr(cls, name)
    else:
        setattr(cls, name, spec.default)
    return spec


def _optional(hint: Any) -> tuple[Any, bool]:
    """``X | None`` → ``(X, True)``; anything else → ``(hint, False)``."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(args) == 1 and len(typing.get_args(hint)) == 2:
            return args[0], True
    return hint, False


def _is_secret(hint: Any) -> bool:
    return _optional(hint)[0] is Secret


def _check_supported(hint: Any, where: str) -> None:
    base, _ = _optional(hint)
    if base in (str, int, float, bool, Decimal, Path, Secret):
        return
    if typing.get_origin(base) is Literal and all(
        isinstance(a, str) for a in typing.get_args(base)
    ):
        return
    if base == dict[str, float]:
        return
    raise TypeError(f"{where}: settings cannot read a {hint!r}")


def _convert(hint: Any, value: object) -> Any:
    base, optional = _optional(hint)
    if value is None:
        if optional:
            return None
        raise ValueError("must be set")
    if base is str:
        if isinstance(value, str):
            return value
    elif base is bool:
        return _bool(value)
    elif base is int:
        return _int(value)
    elif base is float:
        return _float(value)
    elif base is Decimal:
        return _decimal(value)
    elif base is Path:
        if isinstance(value, str | Path):
            return Path(value)
    elif base is Secret:
        if isinstance(value, Secret):
            return value
        if isinstance(value, str):
            return Secret(value)
    elif typing.get_origin(base) is Literal:
        choices = typing.get_args(base)
        if value in choices:
            return value
        raise ValueError(f"must be one of {', '.join(repr(c) for c in choices)}")
    else:  # dict[str, float], JSON in the environment
        return _float_map(value)
    raise TypeError(f"must be a {getattr(base, '__name__', base)}, not {type(value).__name__}")


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
    raise ValueError("must be a boolean: 1/0, true/false, yes/no, on/off, t/f or y/n")


def _int(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            number = _decimal(value)
            if number == number.to_integral_value():
                return int(number)
    raise ValueError("must be a whole number")


def _float(value: object) -> float:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise ValueError("must be a number")


def _decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    elif isinstance(value, float | str):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError("must be a decimal number") from None
    else:
        raise ValueError("must be a decimal number")
    if not number.is_finite():
        raise ValueError("must be a finite number")
    return number


def _float_map(value: object) -> dict[str, float]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError('must be a JSON object of numbers, e.g. {"name": 5}') from None
    if not isinstance(value, dict):
        raise ValueError('must be a JSON object of numbers, e.g. {"name": 5}')
    result: dict[str, float] = {}
    for key, number in value.items():
        if not isinstance(key, str):
            raise ValueError(f"key {key!r} must be a string")
        try:
            result[key] = _float(number)
        except ValueError:
            raise ValueError(f"{key!r} must be a number, not {number!r}") from None
    return result
