import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RequestLogEntry(_message.Message):
    __slots__ = ("generation_id", "created_at", "team_id", "project_id", "key_id", "model", "provider", "credential_type", "input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens", "cost", "market_cost", "ttft_ms", "latency_ms", "streamed", "finish_reason", "status", "app_title", "app_referer", "attempts")
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
    def __init__(self, generation_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., team_id: _Optional[str] = ..., project_id: _Optional[str] = ..., key_id: _Optional[str] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ..., credential_type: _Optional[str] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., cached_input_tokens: _Optional[int] = ..., reasoning_tokens: _Optional[int] = ..., cost: _Optional[str] = ..., market_cost: _Optional[str] = ..., ttft_ms: _Optional[int] = ..., latency_ms: _Optional[int] = ..., streamed: _Optional[bool] = ..., finish_reason: _Optional[str] = ..., status: _Optional[str] = ..., app_title: _Optional[str] = ..., app_referer: _Optional[str] = ..., attempts: _Optional[int] = ...) -> None: ...

class ListRequestsRequest(_message.Message):
    __slots__ = ("team_id", "page_size", "page_token", "model", "provider", "project_id")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    page_size: int
    page_token: str
    model: str
    provider: str
    project_id: str
    def __init__(self, team_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ..., project_id: _Optional[str] = ...) -> None: ...

class ListRequestsResponse(_message.Message):
    __slots__ = ("entries", "next_page_token")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[RequestLogEntry]
    next_page_token: str
    def __init__(self, entries: _Optional[_Iterable[_Union[RequestLogEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
