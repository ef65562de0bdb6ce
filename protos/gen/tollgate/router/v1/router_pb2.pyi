import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CallerContext(_message.Message):
    __slots__ = ("team_id", "project_id", "key_id", "user_id", "request_id", "app_title", "app_referer", "surface")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    APP_TITLE_FIELD_NUMBER: _ClassVar[int]
    APP_REFERER_FIELD_NUMBER: _ClassVar[int]
    SURFACE_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    project_id: str
    key_id: str
    user_id: str
    request_id: str
    app_title: str
    app_referer: str
    surface: str
    def __init__(self, team_id: _Optional[str] = ..., project_id: _Optional[str] = ..., key_id: _Optional[str] = ..., user_id: _Optional[str] = ..., request_id: _Optional[str] = ..., app_title: _Optional[str] = ..., app_referer: _Optional[str] = ..., surface: _Optional[str] = ...) -> None: ...

class ImageUrl(_message.Message):
    __slots__ = ("url", "detail")
    URL_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    url: str
    detail: str
    def __init__(self, url: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class FileData(_message.Message):
    __slots__ = ("data", "media_type", "filename")
    DATA_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    data: str
    media_type: str
    filename: str
    def __init__(self, data: _Optional[str] = ..., media_type: _Optional[str] = ..., filename: _Optional[str] = ...) -> None: ...

class ContentPart(_message.Message):
    __slots__ = ("text", "image_url", "file")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    IMAGE_URL_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    text: str
    image_url: ImageUrl
    file: FileData
    def __init__(self, text: _Optional[str] = ..., image_url: _Optional[_Union[ImageUrl, _Mapping]] = ..., file: _Optional[_Union[FileData, _Mapping]] = ...) -> None: ...

class ContentParts(_message.Message):
    __slots__ = ("parts",)
    PARTS_FIELD_NUMBER: _ClassVar[int]
    parts: _containers.RepeatedCompositeFieldContainer[ContentPart]
    def __init__(self, parts: _Optional[_Iterable[_Union[ContentPart, _Mapping]]] = ...) -> None: ...

class ToolCall(_message.Message):
    __slots__ = ("id", "type", "name", "arguments")
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_FIELD_NUMBER: _ClassVar[int]
    id: str
    type: str
    name: str
    arguments: str
    def __init__(self, id: _Optional[str] = ..., type: _Optional[str] = ..., name: _Optional[str] = ..., arguments: _Optional[str] = ...) -> None: ...

class ChatMessage(_message.Message):
    __slots__ = ("role", "text", "parts", "name", "tool_calls", "tool_call_id", "reasoning_details")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PARTS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALLS_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALL_ID_FIELD_NUMBER: _ClassVar[int]
    REASONING_DETAILS_FIELD_NUMBER: _ClassVar[int]
    role: str
    text: str
    parts: ContentParts
    name: str
    tool_calls: _containers.RepeatedCompositeFieldContainer[ToolCall]
    tool_call_id: str
    reasoning_details: _containers.RepeatedCompositeFieldContainer[ReasoningDetail]
    def __init__(self, role: _Optional[str] = ..., text: _Optional[str] = ..., parts: _Optional[_Union[ContentParts, _Mapping]] = ..., name: _Optional[str] = ..., tool_calls: _Optional[_Iterable[_Union[ToolCall, _Mapping]]] = ..., tool_call_id: _Optional[str] = ..., reasoning_details: _Optional[_Iterable[_Union[ReasoningDetail, _Mapping]]] = ...) -> None: ...

class ReasoningDetail(_message.Message):
    __slots__ = ("type", "text", "signature", "data", "format")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    type: str
    text: str
    signature: str
    data: str
    format: str
    def __init__(self, type: _Optional[str] = ..., text: _Optional[str] = ..., signature: _Optional[str] = ..., data: _Optional[str] = ..., format: _Optional[str] = ...) -> None: ...

class FunctionTool(_message.Message):
    __slots__ = ("name", "description", "parameters_json", "strict")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_JSON_FIELD_NUMBER: _ClassVar[int]
    STRICT_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    parameters_json: str
    strict: bool
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., parameters_json: _Optional[str] = ..., strict: _Optional[bool] = ...) -> None: ...

class ToolChoice(_message.Message):
    __slots__ = ("mode", "function_name")
    MODE_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_NAME_FIELD_NUMBER: _ClassVar[int]
    mode: str
    function_name: str
    def __init__(self, mode: _Optional[str] = ..., function_name: _Optional[str] = ...) -> None: ...

class ResponseFormat(_message.Message):
    __slots__ = ("type", "name", "description", "schema_json", "strict")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    STRICT_FIELD_NUMBER: _ClassVar[int]
    type: str
    name: str
    description: str
    schema_json: str
    strict: bool
    def __init__(self, type: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., schema_json: _Optional[str] = ..., strict: _Optional[bool] = ...) -> None: ...

class ReasoningOptions(_message.Message):
    __slots__ = ("enabled", "max_tokens", "effort", "exclude")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    EFFORT_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    max_tokens: int
    effort: str
    exclude: bool
    def __init__(self, enabled: _Optional[bool] = ..., max_tokens: _Optional[int] = ..., effort: _Optional[str] = ..., exclude: _Optional[bool] = ...) -> None: ...

class GenerationParams(_message.Message):
    __slots__ = ("temperature", "max_tokens", "top_p", "frequency_penalty", "presence_penalty", "stop", "seed", "user", "max_completion_tokens")
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOP_P_FIELD_NUMBER: _ClassVar[int]
    FREQUENCY_PENALTY_FIELD_NUMBER: _ClassVar[int]
    PRESENCE_PENALTY_FIELD_NUMBER: _ClassVar[int]
    STOP_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    MAX_COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    temperature: float
    max_tokens: int
    top_p: float
    frequency_penalty: float
    presence_penalty: float
    stop: _containers.RepeatedScalarFieldContainer[str]
    seed: int
    user: str
    max_completion_tokens: int
    def __init__(self, temperature: _Optional[float] = ..., max_tokens: _Optional[int] = ..., top_p: _Optional[float] = ..., frequency_penalty: _Optional[float] = ..., presence_penalty: _Optional[float] = ..., stop: _Optional[_Iterable[str]] = ..., seed: _Optional[int] = ..., user: _Optional[str] = ..., max_completion_tokens: _Optional[int] = ...) -> None: ...

class RoutingOptions(_message.Message):
    __slots__ = ("order", "only", "models", "byok", "sort", "has", "zero_data_retention", "disallow_prompt_training", "byok_timeouts_ms", "system_timeouts_ms", "user", "tags")
    class ByokTimeoutsMsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class SystemTimeoutsMsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    ORDER_FIELD_NUMBER: _ClassVar[int]
    ONLY_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    BYOK_FIELD_NUMBER: _ClassVar[int]
    SORT_FIELD_NUMBER: _ClassVar[int]
    HAS_FIELD_NUMBER: _ClassVar[int]
    ZERO_DATA_RETENTION_FIELD_NUMBER: _ClassVar[int]
    DISALLOW_PROMPT_TRAINING_FIELD_NUMBER: _ClassVar[int]
    BYOK_TIMEOUTS_MS_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_TIMEOUTS_MS_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    order: _containers.RepeatedScalarFieldContainer[str]
    only: _containers.RepeatedScalarFieldContainer[str]
    models: _containers.RepeatedScalarFieldContainer[str]
    byok: _containers.RepeatedCompositeFieldContainer[ByokCredential]
    sort: str
    has: _containers.RepeatedScalarFieldContainer[str]
    zero_data_retention: bool
    disallow_prompt_training: bool
    byok_timeouts_ms: _containers.ScalarMap[str, int]
    system_timeouts_ms: _containers.ScalarMap[str, int]
    user: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, order: _Optional[_Iterable[str]] = ..., only: _Optional[_Iterable[str]] = ..., models: _Optional[_Iterable[str]] = ..., byok: _Optional[_Iterable[_Union[ByokCredential, _Mapping]]] = ..., sort: _Optional[str] = ..., has: _Optional[_Iterable[str]] = ..., zero_data_retention: _Optional[bool] = ..., disallow_prompt_training: _Optional[bool] = ..., byok_timeouts_ms: _Optional[_Mapping[str, int]] = ..., system_timeouts_ms: _Optional[_Mapping[str, int]] = ..., user: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ...) -> None: ...

class ByokCredential(_message.Message):
    __slots__ = ("provider", "api_key")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    provider: str
    api_key: str
    def __init__(self, provider: _Optional[str] = ..., api_key: _Optional[str] = ...) -> None: ...

class StreamGenerateRequest(_message.Message):
    __slots__ = ("caller", "model", "messages", "params", "stream", "routing", "provider_headers", "tools", "tool_choice", "parallel_tool_calls", "response_format", "reasoning", "modalities", "provider_options", "idempotency")
    class ProviderHeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class ProviderOptionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CALLER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    ROUTING_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_HEADERS_FIELD_NUMBER: _ClassVar[int]
    TOOLS_FIELD_NUMBER: _ClassVar[int]
    TOOL_CHOICE_FIELD_NUMBER: _ClassVar[int]
    PARALLEL_TOOL_CALLS_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FORMAT_FIELD_NUMBER: _ClassVar[int]
    REASONING_FIELD_NUMBER: _ClassVar[int]
    MODALITIES_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_FIELD_NUMBER: _ClassVar[int]
    caller: CallerContext
    model: str
    messages: _containers.RepeatedCompositeFieldContainer[ChatMessage]
    params: GenerationParams
    stream: bool
    routing: RoutingOptions
    provider_headers: _containers.ScalarMap[str, str]
    tools: _containers.RepeatedCompositeFieldContainer[FunctionTool]
    tool_choice: ToolChoice
    parallel_tool_calls: bool
    response_format: ResponseFormat
    reasoning: ReasoningOptions
    modalities: _containers.RepeatedScalarFieldContainer[str]
    provider_options: _containers.ScalarMap[str, str]
    idempotency: IdempotencyKey
    def __init__(self, caller: _Optional[_Union[CallerContext, _Mapping]] = ..., model: _Optional[str] = ..., messages: _Optional[_Iterable[_Union[ChatMessage, _Mapping]]] = ..., params: _Optional[_Union[GenerationParams, _Mapping]] = ..., stream: _Optional[bool] = ..., routing: _Optional[_Union[RoutingOptions, _Mapping]] = ..., provider_headers: _Optional[_Mapping[str, str]] = ..., tools: _Optional[_Iterable[_Union[FunctionTool, _Mapping]]] = ..., tool_choice: _Optional[_Union[ToolChoice, _Mapping]] = ..., parallel_tool_calls: _Optional[bool] = ..., response_format: _Optional[_Union[ResponseFormat, _Mapping]] = ..., reasoning: _Optional[_Union[ReasoningOptions, _Mapping]] = ..., modalities: _Optional[_Iterable[str]] = ..., provider_options: _Optional[_Mapping[str, str]] = ..., idempotency: _Optional[_Union[IdempotencyKey, _Mapping]] = ...) -> None: ...

class IdempotencyKey(_message.Message):
    __slots__ = ("key", "body_hash")
    KEY_FIELD_NUMBER: _ClassVar[int]
    BODY_HASH_FIELD_NUMBER: _ClassVar[int]
    key: str
    body_hash: str
    def __init__(self, key: _Optional[str] = ..., body_hash: _Optional[str] = ...) -> None: ...

class GenerationsRequest(_message.Message):
    __slots__ = ("id", "request", "metadata", "timeout_ms", "more", "window", "credit", "cancel")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    MORE_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    id: int
    request: StreamGenerateRequest
    metadata: _containers.ScalarMap[str, str]
    timeout_ms: int
    more: _containers.RepeatedCompositeFieldContainer[GenerationsRequest]
    window: int
    credit: int
    cancel: bool
    def __init__(self, id: _Optional[int] = ..., request: _Optional[_Union[StreamGenerateRequest, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., timeout_ms: _Optional[int] = ..., more: _Optional[_Iterable[_Union[GenerationsRequest, _Mapping]]] = ..., window: _Optional[int] = ..., credit: _Optional[int] = ..., cancel: _Optional[bool] = ...) -> None: ...

class GenerationsResponse(_message.Message):
    __slots__ = ("id", "answer", "error", "draining", "event", "more", "last")
    ID_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DRAINING_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    MORE_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    id: int
    answer: StreamGenerateResponse
    error: GenerationsError
    draining: bool
    event: StreamGenerateResponse
    more: _containers.RepeatedCompositeFieldContainer[GenerationsResponse]
    last: bool
    def __init__(self, id: _Optional[int] = ..., answer: _Optional[_Union[StreamGenerateResponse, _Mapping]] = ..., error: _Optional[_Union[GenerationsError, _Mapping]] = ..., draining: _Optional[bool] = ..., event: _Optional[_Union[StreamGenerateResponse, _Mapping]] = ..., more: _Optional[_Iterable[_Union[GenerationsResponse, _Mapping]]] = ..., last: _Optional[bool] = ...) -> None: ...

class GenerationsError(_message.Message):
    __slots__ = ("code", "message", "details")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    details: bytes
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., details: _Optional[bytes] = ...) -> None: ...

class StreamGenerateResponse(_message.Message):
    __slots__ = ("started", "text_delta", "usage", "finished", "error", "batch", "tool_call_delta", "reasoning_delta", "image_delta")
    STARTED_FIELD_NUMBER: _ClassVar[int]
    TEXT_DELTA_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    FINISHED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALL_DELTA_FIELD_NUMBER: _ClassVar[int]
    REASONING_DELTA_FIELD_NUMBER: _ClassVar[int]
    IMAGE_DELTA_FIELD_NUMBER: _ClassVar[int]
    started: GenerationStarted
    text_delta: TextDelta
    usage: Usage
    finished: GenerationFinished
    error: GenerationError
    batch: EventBatch
    tool_call_delta: ToolCallDelta
    reasoning_delta: ReasoningDelta
    image_delta: ImageDelta
    def __init__(self, started: _Optional[_Union[GenerationStarted, _Mapping]] = ..., text_delta: _Optional[_Union[TextDelta, _Mapping]] = ..., usage: _Optional[_Union[Usage, _Mapping]] = ..., finished: _Optional[_Union[GenerationFinished, _Mapping]] = ..., error: _Optional[_Union[GenerationError, _Mapping]] = ..., batch: _Optional[_Union[EventBatch, _Mapping]] = ..., tool_call_delta: _Optional[_Union[ToolCallDelta, _Mapping]] = ..., reasoning_delta: _Optional[_Union[ReasoningDelta, _Mapping]] = ..., image_delta: _Optional[_Union[ImageDelta, _Mapping]] = ...) -> None: ...

class ImageDelta(_message.Message):
    __slots__ = ("url",)
    URL_FIELD_NUMBER: _ClassVar[int]
    url: str
    def __init__(self, url: _Optional[str] = ...) -> None: ...

class ToolCallDelta(_message.Message):
    __slots__ = ("index", "id", "name", "arguments")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_FIELD_NUMBER: _ClassVar[int]
    index: int
    id: str
    name: str
    arguments: str
    def __init__(self, index: _Optional[int] = ..., id: _Optional[str] = ..., name: _Optional[str] = ..., arguments: _Optional[str] = ...) -> None: ...

class ReasoningDelta(_message.Message):
    __slots__ = ("text", "signature", "data", "format")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    text: str
    signature: str
    data: str
    format: str
    def __init__(self, text: _Optional[str] = ..., signature: _Optional[str] = ..., data: _Optional[str] = ..., format: _Optional[str] = ...) -> None: ...

class EventBatch(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[StreamGenerateResponse]
    def __init__(self, events: _Optional[_Iterable[_Union[StreamGenerateResponse, _Mapping]]] = ...) -> None: ...

class GenerationStarted(_message.Message):
    __slots__ = ("generation_id", "model", "provider", "created", "provider_model_id", "system_fingerprint", "replayed", "rate_limit")
    GENERATION_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    generation_id: str
    model: str
    provider: str
    created: _timestamp_pb2.Timestamp
    provider_model_id: str
    system_fingerprint: str
    replayed: bool
    rate_limit: RateLimitStatus
    def __init__(self, generation_id: _Optional[str] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ..., created: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., provider_model_id: _Optional[str] = ..., system_fingerprint: _Optional[str] = ..., replayed: _Optional[bool] = ..., rate_limit: _Optional[_Union[RateLimitStatus, _Mapping]] = ...) -> None: ...

class TextDelta(_message.Message):
    __slots__ = ("text",)
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

class Usage(_message.Message):
    __slots__ = ("input_tokens", "output_tokens", "total_tokens", "cached_input_tokens", "cache_write_tokens", "reasoning_tokens", "images")
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHED_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_WRITE_TOKENS_FIELD_NUMBER: _ClassVar[int]
    REASONING_TOKENS_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cached_input_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    images: int
    def __init__(self, input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., total_tokens: _Optional[int] = ..., cached_input_tokens: _Optional[int] = ..., cache_write_tokens: _Optional[int] = ..., reasoning_tokens: _Optional[int] = ..., images: _Optional[int] = ...) -> None: ...

class ProviderAttempt(_message.Message):
    __slots__ = ("provider", "provider_api_model_id", "credential_type", "success", "start_time", "end_time", "status_code", "provider_response_id", "error_message", "model_id", "skipped")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_API_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_TYPE_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_RESPONSE_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    provider: str
    provider_api_model_id: str
    credential_type: str
    success: bool
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    status_code: int
    provider_response_id: str
    error_message: str
    model_id: str
    skipped: bool
    def __init__(self, provider: _Optional[str] = ..., provider_api_model_id: _Optional[str] = ..., credential_type: _Optional[str] = ..., success: _Optional[bool] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status_code: _Optional[int] = ..., provider_response_id: _Optional[str] = ..., error_message: _Optional[str] = ..., model_id: _Optional[str] = ..., skipped: _Optional[bool] = ...) -> None: ...

class RoutingInfo(_message.Message):
    __slots__ = ("original_model_id", "resolved_provider", "resolved_provider_api_model_id", "final_provider", "attempts", "fallbacks_available", "canonical_slug", "planning_reasoning", "skipped")
    ORIGINAL_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_PROVIDER_API_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    FINAL_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    FALLBACKS_AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    CANONICAL_SLUG_FIELD_NUMBER: _ClassVar[int]
    PLANNING_REASONING_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    original_model_id: str
    resolved_provider: str
    resolved_provider_api_model_id: str
    final_provider: str
    attempts: _containers.RepeatedCompositeFieldContainer[ProviderAttempt]
    fallbacks_available: _containers.RepeatedScalarFieldContainer[str]
    canonical_slug: str
    planning_reasoning: str
    skipped: _containers.RepeatedCompositeFieldContainer[ProviderAttempt]
    def __init__(self, original_model_id: _Optional[str] = ..., resolved_provider: _Optional[str] = ..., resolved_provider_api_model_id: _Optional[str] = ..., final_provider: _Optional[str] = ..., attempts: _Optional[_Iterable[_Union[ProviderAttempt, _Mapping]]] = ..., fallbacks_available: _Optional[_Iterable[str]] = ..., canonical_slug: _Optional[str] = ..., planning_reasoning: _Optional[str] = ..., skipped: _Optional[_Iterable[_Union[ProviderAttempt, _Mapping]]] = ...) -> None: ...

class GatewayMetadata(_message.Message):
    __slots__ = ("generation_id", "cost", "market_cost", "routing")
    GENERATION_ID_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    MARKET_COST_FIELD_NUMBER: _ClassVar[int]
    ROUTING_FIELD_NUMBER: _ClassVar[int]
    generation_id: str
    cost: str
    market_cost: str
    routing: RoutingInfo
    def __init__(self, generation_id: _Optional[str] = ..., cost: _Optional[str] = ..., market_cost: _Optional[str] = ..., routing: _Optional[_Union[RoutingInfo, _Mapping]] = ...) -> None: ...

class ProviderMetadata(_message.Message):
    __slots__ = ("gateway",)
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    gateway: GatewayMetadata
    def __init__(self, gateway: _Optional[_Union[GatewayMetadata, _Mapping]] = ...) -> None: ...

class GenerationFinished(_message.Message):
    __slots__ = ("finish_reason", "provider_metadata")
    FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_METADATA_FIELD_NUMBER: _ClassVar[int]
    finish_reason: str
    provider_metadata: ProviderMetadata
    def __init__(self, finish_reason: _Optional[str] = ..., provider_metadata: _Optional[_Union[ProviderMetadata, _Mapping]] = ...) -> None: ...

class GenerationError(_message.Message):
    __slots__ = ("type", "message", "status_code", "code", "reason", "provider_status")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_STATUS_FIELD_NUMBER: _ClassVar[int]
    type: str
    message: str
    status_code: int
    code: str
    reason: str
    provider_status: int
    def __init__(self, type: _Optional[str] = ..., message: _Optional[str] = ..., status_code: _Optional[int] = ..., code: _Optional[str] = ..., reason: _Optional[str] = ..., provider_status: _Optional[int] = ...) -> None: ...

class Pricing(_message.Message):
    __slots__ = ("input", "output", "input_cache_read", "input_cache_write", "image", "tiers")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    INPUT_CACHE_READ_FIELD_NUMBER: _ClassVar[int]
    INPUT_CACHE_WRITE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    TIERS_FIELD_NUMBER: _ClassVar[int]
    input: str
    output: str
    input_cache_read: str
    input_cache_write: str
    image: str
    tiers: _containers.RepeatedCompositeFieldContainer[PriceTier]
    def __init__(self, input: _Optional[str] = ..., output: _Optional[str] = ..., input_cache_read: _Optional[str] = ..., input_cache_write: _Optional[str] = ..., image: _Optional[str] = ..., tiers: _Optional[_Iterable[_Union[PriceTier, _Mapping]]] = ...) -> None: ...

class PriceTier(_message.Message):
    __slots__ = ("above_input_tokens", "input", "output", "input_cache_read", "input_cache_write")
    ABOVE_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    INPUT_CACHE_READ_FIELD_NUMBER: _ClassVar[int]
    INPUT_CACHE_WRITE_FIELD_NUMBER: _ClassVar[int]
    above_input_tokens: int
    input: str
    output: str
    input_cache_read: str
    input_cache_write: str
    def __init__(self, above_input_tokens: _Optional[int] = ..., input: _Optional[str] = ..., output: _Optional[str] = ..., input_cache_read: _Optional[str] = ..., input_cache_write: _Optional[str] = ...) -> None: ...

class ModelOffer(_message.Message):
    __slots__ = ("provider", "provider_model_id", "pricing", "free", "checked", "source")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    PRICING_FIELD_NUMBER: _ClassVar[int]
    FREE_FIELD_NUMBER: _ClassVar[int]
    CHECKED_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    provider: str
    provider_model_id: str
    pricing: Pricing
    free: bool
    checked: str
    source: str
    def __init__(self, provider: _Optional[str] = ..., provider_model_id: _Optional[str] = ..., pricing: _Optional[_Union[Pricing, _Mapping]] = ..., free: _Optional[bool] = ..., checked: _Optional[str] = ..., source: _Optional[str] = ...) -> None: ...

class Model(_message.Message):
    __slots__ = ("id", "name", "description", "creator", "type", "context_window", "max_output_tokens", "input_modalities", "output_modalities", "released", "pricing", "providers", "tags", "offers")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CREATOR_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_WINDOW_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    INPUT_MODALITIES_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_MODALITIES_FIELD_NUMBER: _ClassVar[int]
    RELEASED_FIELD_NUMBER: _ClassVar[int]
    PRICING_FIELD_NUMBER: _ClassVar[int]
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    OFFERS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    description: str
    creator: str
    type: str
    context_window: int
    max_output_tokens: int
    input_modalities: _containers.RepeatedScalarFieldContainer[str]
    output_modalities: _containers.RepeatedScalarFieldContainer[str]
    released: int
    pricing: Pricing
    providers: _containers.RepeatedScalarFieldContainer[str]
    tags: _containers.RepeatedScalarFieldContainer[str]
    offers: _containers.RepeatedCompositeFieldContainer[ModelOffer]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., creator: _Optional[str] = ..., type: _Optional[str] = ..., context_window: _Optional[int] = ..., max_output_tokens: _Optional[int] = ..., input_modalities: _Optional[_Iterable[str]] = ..., output_modalities: _Optional[_Iterable[str]] = ..., released: _Optional[int] = ..., pricing: _Optional[_Union[Pricing, _Mapping]] = ..., providers: _Optional[_Iterable[str]] = ..., tags: _Optional[_Iterable[str]] = ..., offers: _Optional[_Iterable[_Union[ModelOffer, _Mapping]]] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[Model]
    def __init__(self, models: _Optional[_Iterable[_Union[Model, _Mapping]]] = ...) -> None: ...

class GetModelRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetModelResponse(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: Model
    def __init__(self, model: _Optional[_Union[Model, _Mapping]] = ...) -> None: ...

class TokenIds(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, ids: _Optional[_Iterable[int]] = ...) -> None: ...

class EmbeddingInput(_message.Message):
    __slots__ = ("text", "tokens")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    text: str
    tokens: TokenIds
    def __init__(self, text: _Optional[str] = ..., tokens: _Optional[_Union[TokenIds, _Mapping]] = ...) -> None: ...

class EmbedRequest(_message.Message):
    __slots__ = ("caller", "model", "inputs", "dimensions", "user", "routing", "idempotency")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    ROUTING_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_FIELD_NUMBER: _ClassVar[int]
    caller: CallerContext
    model: str
    inputs: _containers.RepeatedCompositeFieldContainer[EmbeddingInput]
    dimensions: int
    user: str
    routing: RoutingOptions
    idempotency: IdempotencyKey
    def __init__(self, caller: _Optional[_Union[CallerContext, _Mapping]] = ..., model: _Optional[str] = ..., inputs: _Optional[_Iterable[_Union[EmbeddingInput, _Mapping]]] = ..., dimensions: _Optional[int] = ..., user: _Optional[str] = ..., routing: _Optional[_Union[RoutingOptions, _Mapping]] = ..., idempotency: _Optional[_Union[IdempotencyKey, _Mapping]] = ...) -> None: ...

class Embedding(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class EmbedResponse(_message.Message):
    __slots__ = ("generation_id", "model", "provider", "provider_model_id", "embeddings", "usage", "provider_metadata", "created", "replayed", "rate_limit")
    GENERATION_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    generation_id: str
    model: str
    provider: str
    provider_model_id: str
    embeddings: _containers.RepeatedCompositeFieldContainer[Embedding]
    usage: Usage
    provider_metadata: ProviderMetadata
    created: _timestamp_pb2.Timestamp
    replayed: bool
    rate_limit: RateLimitStatus
    def __init__(self, generation_id: _Optional[str] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ..., provider_model_id: _Optional[str] = ..., embeddings: _Optional[_Iterable[_Union[Embedding, _Mapping]]] = ..., usage: _Optional[_Union[Usage, _Mapping]] = ..., provider_metadata: _Optional[_Union[ProviderMetadata, _Mapping]] = ..., created: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., replayed: _Optional[bool] = ..., rate_limit: _Optional[_Union[RateLimitStatus, _Mapping]] = ...) -> None: ...

class TestCredentialRequest(_message.Message):
    __slots__ = ("caller", "provider", "credentials")
    class CredentialsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CALLER_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    caller: CallerContext
    provider: str
    credentials: _containers.ScalarMap[str, str]
    def __init__(self, caller: _Optional[_Union[CallerContext, _Mapping]] = ..., provider: _Optional[str] = ..., credentials: _Optional[_Mapping[str, str]] = ...) -> None: ...

class TestCredentialResponse(_message.Message):
    __slots__ = ("ok", "status_code", "message", "request_json", "response_json")
    OK_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_JSON_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_JSON_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    status_code: int
    message: str
    request_json: str
    response_json: str
    def __init__(self, ok: _Optional[bool] = ..., status_code: _Optional[int] = ..., message: _Optional[str] = ..., request_json: _Optional[str] = ..., response_json: _Optional[str] = ...) -> None: ...

class RateLimitStatus(_message.Message):
    __slots__ = ("limit_requests", "remaining_requests", "reset_requests_ms", "limit_tokens", "remaining_tokens", "reset_tokens_ms")
    LIMIT_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    REMAINING_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    RESET_REQUESTS_MS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    REMAINING_TOKENS_FIELD_NUMBER: _ClassVar[int]
    RESET_TOKENS_MS_FIELD_NUMBER: _ClassVar[int]
    limit_requests: int
    remaining_requests: int
    reset_requests_ms: int
    limit_tokens: int
    remaining_tokens: int
    reset_tokens_ms: int
    def __init__(self, limit_requests: _Optional[int] = ..., remaining_requests: _Optional[int] = ..., reset_requests_ms: _Optional[int] = ..., limit_tokens: _Optional[int] = ..., remaining_tokens: _Optional[int] = ..., reset_tokens_ms: _Optional[int] = ...) -> None: ...

class StoredResponse(_message.Message):
    __slots__ = ("id", "response_json", "input_json", "created", "expires")
    ID_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_JSON_FIELD_NUMBER: _ClassVar[int]
    INPUT_JSON_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_FIELD_NUMBER: _ClassVar[int]
    id: str
    response_json: str
    input_json: str
    created: _timestamp_pb2.Timestamp
    expires: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., response_json: _Optional[str] = ..., input_json: _Optional[str] = ..., created: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StoreResponseRequest(_message.Message):
    __slots__ = ("caller", "response")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    caller: CallerContext
    response: StoredResponse
    def __init__(self, caller: _Optional[_Union[CallerContext, _Mapping]] = ..., response: _Optional[_Union[StoredResponse, _Mapping]] = ...) -> None: ...

class StoreResponseResponse(_message.Message):
    __slots__ = ("expires",)
    EXPIRES_FIELD_NUMBER: _ClassVar[int]
    expires: _timestamp_pb2.Timestamp
    def __init__(self, expires: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetStoredResponseRequest(_message.Message):
    __slots__ = ("caller", "id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    caller: CallerContext
    id: str
    def __init__(self, caller: _Optional[_Union[CallerContext, _Mapping]] = ..., id: _Optional[str] = ...) -> None: ...

class GetStoredResponseResponse(_message.Message):
    __slots__ = ("response",)
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    response: StoredResponse
    def __init__(self, response: _Optional[_Union[StoredResponse, _Mapping]] = ...) -> None: ...

class DeleteStoredResponseRequest(_message.Message):
    __slots__ = ("caller", "id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    caller: CallerContext
    id: str
    def __init__(self, caller: _Optional[_Union[CallerContext, _Mapping]] = ..., id: _Optional[str] = ...) -> None: ...

class DeleteStoredResponseResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
