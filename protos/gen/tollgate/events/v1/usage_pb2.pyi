import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UsageRecorded(_message.Message):
    __slots__ = ("generation_id", "team_id", "project_id", "key_id", "user_id", "request_id", "model", "provider", "provider_model_id", "credential_type", "input_tokens", "output_tokens", "cached_input_tokens", "cache_write_tokens", "reasoning_tokens", "cost", "market_cost", "price_version", "ttft_ms", "latency_ms", "streamed", "finish_reason", "status", "created_at", "app_title", "app_referer", "attempts", "images", "hold_id", "end_user", "tags", "surface")
    GENERATION_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_TYPE_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHED_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_WRITE_TOKENS_FIELD_NUMBER: _ClassVar[int]
    REASONING_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    MARKET_COST_FIELD_NUMBER: _ClassVar[int]
    PRICE_VERSION_FIELD_NUMBER: _ClassVar[int]
    TTFT_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    STREAMED_FIELD_NUMBER: _ClassVar[int]
    FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    APP_TITLE_FIELD_NUMBER: _ClassVar[int]
    APP_REFERER_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    END_USER_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    SURFACE_FIELD_NUMBER: _ClassVar[int]
    generation_id: str
    team_id: str
    project_id: str
    key_id: str
    user_id: str
    request_id: str
    model: str
    provider: str
    provider_model_id: str
    credential_type: str
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    cost: str
    market_cost: str
    price_version: str
    ttft_ms: int
    latency_ms: int
    streamed: bool
    finish_reason: str
    status: str
    created_at: _timestamp_pb2.Timestamp
    app_title: str
    app_referer: str
    attempts: int
    images: int
    hold_id: str
    end_user: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    surface: str
    def __init__(self, generation_id: _Optional[str] = ..., team_id: _Optional[str] = ..., project_id: _Optional[str] = ..., key_id: _Optional[str] = ..., user_id: _Optional[str] = ..., request_id: _Optional[str] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ..., provider_model_id: _Optional[str] = ..., credential_type: _Optional[str] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., cached_input_tokens: _Optional[int] = ..., cache_write_tokens: _Optional[int] = ..., reasoning_tokens: _Optional[int] = ..., cost: _Optional[str] = ..., market_cost: _Optional[str] = ..., price_version: _Optional[str] = ..., ttft_ms: _Optional[int] = ..., latency_ms: _Optional[int] = ..., streamed: _Optional[bool] = ..., finish_reason: _Optional[str] = ..., status: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., app_title: _Optional[str] = ..., app_referer: _Optional[str] = ..., attempts: _Optional[int] = ..., images: _Optional[int] = ..., hold_id: _Optional[str] = ..., end_user: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., surface: _Optional[str] = ...) -> None: ...
