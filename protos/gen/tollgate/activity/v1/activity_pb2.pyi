import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ActorType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTOR_TYPE_UNSPECIFIED: _ClassVar[ActorType]
    ACTOR_TYPE_USER: _ClassVar[ActorType]
    ACTOR_TYPE_API_KEY: _ClassVar[ActorType]
    ACTOR_TYPE_SYSTEM: _ClassVar[ActorType]

class Metric(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    METRIC_UNSPECIFIED: _ClassVar[Metric]
    METRIC_REQUESTS: _ClassVar[Metric]
    METRIC_TTFT: _ClassVar[Metric]
    METRIC_TOKENS: _ClassVar[Metric]
    METRIC_SPEND: _ClassVar[Metric]

class Granularity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GRANULARITY_UNSPECIFIED: _ClassVar[Granularity]
    GRANULARITY_MINUTE: _ClassVar[Granularity]
    GRANULARITY_HOUR: _ClassVar[Granularity]
    GRANULARITY_DAY: _ClassVar[Granularity]
ACTOR_TYPE_UNSPECIFIED: ActorType
ACTOR_TYPE_USER: ActorType
ACTOR_TYPE_API_KEY: ActorType
ACTOR_TYPE_SYSTEM: ActorType
METRIC_UNSPECIFIED: Metric
METRIC_REQUESTS: Metric
METRIC_TTFT: Metric
METRIC_TOKENS: Metric
METRIC_SPEND: Metric
GRANULARITY_UNSPECIFIED: Granularity
GRANULARITY_MINUTE: Granularity
GRANULARITY_HOUR: Granularity
GRANULARITY_DAY: Granularity

class RequestLogEntry(_message.Message):
    __slots__ = ("generation_id", "created_at", "team_id", "project_id", "key_id", "model", "provider", "credential_type", "input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens", "cost", "market_cost", "ttft_ms", "latency_ms", "streamed", "finish_reason", "status", "app_title", "app_referer", "attempts", "surface")
    GENERATION_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_TYPE_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHED_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    REASONING_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    MARKET_COST_FIELD_NUMBER: _ClassVar[int]
    TTFT_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    STREAMED_FIELD_NUMBER: _ClassVar[int]
    FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    APP_TITLE_FIELD_NUMBER: _ClassVar[int]
    APP_REFERER_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    SURFACE_FIELD_NUMBER: _ClassVar[int]
    generation_id: str
    created_at: _timestamp_pb2.Timestamp
    team_id: str
    project_id: str
    key_id: str
    model: str
    provider: str
    credential_type: str
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    reasoning_tokens: int
    cost: str
    market_cost: str
    ttft_ms: int
    latency_ms: int
    streamed: bool
    finish_reason: str
    status: str
    app_title: str
    app_referer: str
    attempts: int
    surface: str
    def __init__(self, generation_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., team_id: _Optional[str] = ..., project_id: _Optional[str] = ..., key_id: _Optional[str] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ..., credential_type: _Optional[str] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., cached_input_tokens: _Optional[int] = ..., reasoning_tokens: _Optional[int] = ..., cost: _Optional[str] = ..., market_cost: _Optional[str] = ..., ttft_ms: _Optional[int] = ..., latency_ms: _Optional[int] = ..., streamed: _Optional[bool] = ..., finish_reason: _Optional[str] = ..., status: _Optional[str] = ..., app_title: _Optional[str] = ..., app_referer: _Optional[str] = ..., attempts: _Optional[int] = ..., surface: _Optional[str] = ...) -> None: ...

class ListRequestsRequest(_message.Message):
    __slots__ = ("team_id", "page_size", "page_token", "model", "provider", "project_id", "since", "until")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    page_size: int
    page_token: str
    model: str
    provider: str
    project_id: str
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    def __init__(self, team_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ..., project_id: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListRequestsResponse(_message.Message):
    __slots__ = ("entries", "next_page_token")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[RequestLogEntry]
    next_page_token: str
    def __init__(self, entries: _Optional[_Iterable[_Union[RequestLogEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ActivityEvent(_message.Message):
    __slots__ = ("id", "team_id", "project_id", "type", "actor_id", "actor_type", "account_type", "target_type", "target_id", "details", "created_at")
    class DetailsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_TYPE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_TYPE_FIELD_NUMBER: _ClassVar[int]
    TARGET_TYPE_FIELD_NUMBER: _ClassVar[int]
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    team_id: str
    project_id: str
    type: str
    actor_id: str
    actor_type: ActorType
    account_type: str
    target_type: str
    target_id: str
    details: _containers.ScalarMap[str, str]
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., team_id: _Optional[str] = ..., project_id: _Optional[str] = ..., type: _Optional[str] = ..., actor_id: _Optional[str] = ..., actor_type: _Optional[_Union[ActorType, str]] = ..., account_type: _Optional[str] = ..., target_type: _Optional[str] = ..., target_id: _Optional[str] = ..., details: _Optional[_Mapping[str, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListActivityRequest(_message.Message):
    __slots__ = ("team_id", "page_size", "page_token", "type", "actor_id", "project_id", "since", "until")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    page_size: int
    page_token: str
    type: str
    actor_id: str
    project_id: str
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    def __init__(self, team_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., type: _Optional[str] = ..., actor_id: _Optional[str] = ..., project_id: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListActivityResponse(_message.Message):
    __slots__ = ("events", "next_page_token")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[ActivityEvent]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[ActivityEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetObservabilityRequest(_message.Message):
    __slots__ = ("team_id", "metric", "project_id", "granularity", "since", "until")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    GRANULARITY_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    metric: Metric
    project_id: str
    granularity: Granularity
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    def __init__(self, team_id: _Optional[str] = ..., metric: _Optional[_Union[Metric, str]] = ..., project_id: _Optional[str] = ..., granularity: _Optional[_Union[Granularity, str]] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ObservabilitySeries(_message.Message):
    __slots__ = ("model", "start_seconds", "count", "ttft_avg_ms", "ttft_p50_ms", "ttft_p95_ms", "input_tokens", "output_tokens", "spend")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    START_SECONDS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    TTFT_AVG_MS_FIELD_NUMBER: _ClassVar[int]
    TTFT_P50_MS_FIELD_NUMBER: _ClassVar[int]
    TTFT_P95_MS_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    SPEND_FIELD_NUMBER: _ClassVar[int]
    model: str
    start_seconds: _containers.RepeatedScalarFieldContainer[int]
    count: _containers.RepeatedScalarFieldContainer[int]
    ttft_avg_ms: _containers.RepeatedScalarFieldContainer[float]
    ttft_p50_ms: _containers.RepeatedScalarFieldContainer[int]
    ttft_p95_ms: _containers.RepeatedScalarFieldContainer[int]
    input_tokens: _containers.RepeatedScalarFieldContainer[int]
    output_tokens: _containers.RepeatedScalarFieldContainer[int]
    spend: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, model: _Optional[str] = ..., start_seconds: _Optional[_Iterable[int]] = ..., count: _Optional[_Iterable[int]] = ..., ttft_avg_ms: _Optional[_Iterable[float]] = ..., ttft_p50_ms: _Optional[_Iterable[int]] = ..., ttft_p95_ms: _Optional[_Iterable[int]] = ..., input_tokens: _Optional[_Iterable[int]] = ..., output_tokens: _Optional[_Iterable[int]] = ..., spend: _Optional[_Iterable[str]] = ...) -> None: ...

class GetObservabilityResponse(_message.Message):
    __slots__ = ("metric", "granularity", "since", "until", "series")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    GRANULARITY_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    SERIES_FIELD_NUMBER: _ClassVar[int]
    metric: Metric
    granularity: Granularity
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    series: _containers.RepeatedCompositeFieldContainer[ObservabilitySeries]
    def __init__(self, metric: _Optional[_Union[Metric, str]] = ..., granularity: _Optional[_Union[Granularity, str]] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., series: _Optional[_Iterable[_Union[ObservabilitySeries, _Mapping]]] = ...) -> None: ...
