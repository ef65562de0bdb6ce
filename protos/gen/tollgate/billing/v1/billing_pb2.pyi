import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Generation(_message.Message):
    __slots__ = ("id", "team_id", "project_id", "key_id", "model", "provider", "credential_type", "streamed", "finish_reason", "input_tokens", "output_tokens", "cached_input_tokens", "cache_write_tokens", "reasoning_tokens", "cost", "market_cost", "ttft_ms", "latency_ms", "created_at", "price_version")
    ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_TYPE_FIELD_NUMBER: _ClassVar[int]
    STREAMED_FIELD_NUMBER: _ClassVar[int]
    FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHED_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_WRITE_TOKENS_FIELD_NUMBER: _ClassVar[int]
    REASONING_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    MARKET_COST_FIELD_NUMBER: _ClassVar[int]
    TTFT_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    PRICE_VERSION_FIELD_NUMBER: _ClassVar[int]
    id: str
    team_id: str
    project_id: str
    key_id: str
    model: str
    provider: str
    credential_type: str
    streamed: bool
    finish_reason: str
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    cost: str
    market_cost: str
    ttft_ms: int
    latency_ms: int
    created_at: _timestamp_pb2.Timestamp
    price_version: str
    def __init__(self, id: _Optional[str] = ..., team_id: _Optional[str] = ..., project_id: _Optional[str] = ..., key_id: _Optional[str] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ..., credential_type: _Optional[str] = ..., streamed: _Optional[bool] = ..., finish_reason: _Optional[str] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., cached_input_tokens: _Optional[int] = ..., cache_write_tokens: _Optional[int] = ..., reasoning_tokens: _Optional[int] = ..., cost: _Optional[str] = ..., market_cost: _Optional[str] = ..., ttft_ms: _Optional[int] = ..., latency_ms: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., price_version: _Optional[str] = ...) -> None: ...

class GetGenerationRequest(_message.Message):
    __slots__ = ("team_id", "generation_id")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    GENERATION_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    generation_id: str
    def __init__(self, team_id: _Optional[str] = ..., generation_id: _Optional[str] = ...) -> None: ...

class GetGenerationResponse(_message.Message):
    __slots__ = ("generation",)
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    generation: Generation
    def __init__(self, generation: _Optional[_Union[Generation, _Mapping]] = ...) -> None: ...

class Credits(_message.Message):
    __slots__ = ("balance", "total_used")
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_USED_FIELD_NUMBER: _ClassVar[int]
    balance: str
    total_used: str
    def __init__(self, balance: _Optional[str] = ..., total_used: _Optional[str] = ...) -> None: ...

class GetCreditsRequest(_message.Message):
    __slots__ = ("team_id",)
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    def __init__(self, team_id: _Optional[str] = ...) -> None: ...

class GetCreditsResponse(_message.Message):
    __slots__ = ("credits",)
    CREDITS_FIELD_NUMBER: _ClassVar[int]
    credits: Credits
    def __init__(self, credits: _Optional[_Union[Credits, _Mapping]] = ...) -> None: ...

class TopUpRequest(_message.Message):
    __slots__ = ("team_id", "amount", "idempotency_key", "actor_type", "actor_id")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ACTOR_TYPE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    amount: str
    idempotency_key: str
    actor_type: str
    actor_id: str
    def __init__(self, team_id: _Optional[str] = ..., amount: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., actor_type: _Optional[str] = ..., actor_id: _Optional[str] = ...) -> None: ...

class TopUpResponse(_message.Message):
    __slots__ = ("credits",)
    CREDITS_FIELD_NUMBER: _ClassVar[int]
    credits: Credits
    def __init__(self, credits: _Optional[_Union[Credits, _Mapping]] = ...) -> None: ...

class ReserveRequest(_message.Message):
    __slots__ = ("team_id", "hold_id", "input_tokens", "max_output_tokens", "model_max_output_tokens", "input_price", "output_price", "lease_amount", "output_allowance", "running_generations", "project_id", "key_id", "instance_id")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MODEL_MAX_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    INPUT_PRICE_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_PRICE_FIELD_NUMBER: _ClassVar[int]
    LEASE_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_ALLOWANCE_FIELD_NUMBER: _ClassVar[int]
    RUNNING_GENERATIONS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    hold_id: str
    input_tokens: int
    max_output_tokens: int
    model_max_output_tokens: int
    input_price: str
    output_price: str
    lease_amount: str
    output_allowance: int
    running_generations: int
    project_id: str
    key_id: str
    instance_id: str
    def __init__(self, team_id: _Optional[str] = ..., hold_id: _Optional[str] = ..., input_tokens: _Optional[int] = ..., max_output_tokens: _Optional[int] = ..., model_max_output_tokens: _Optional[int] = ..., input_price: _Optional[str] = ..., output_price: _Optional[str] = ..., lease_amount: _Optional[str] = ..., output_allowance: _Optional[int] = ..., running_generations: _Optional[int] = ..., project_id: _Optional[str] = ..., key_id: _Optional[str] = ..., instance_id: _Optional[str] = ...) -> None: ...

class ReserveResponse(_message.Message):
    __slots__ = ("reserved", "max_output_tokens", "available", "output_allowance")
    RESERVED_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_ALLOWANCE_FIELD_NUMBER: _ClassVar[int]
    reserved: str
    max_output_tokens: int
    available: str
    output_allowance: int
    def __init__(self, reserved: _Optional[str] = ..., max_output_tokens: _Optional[int] = ..., available: _Optional[str] = ..., output_allowance: _Optional[int] = ...) -> None: ...

class ReleaseRequest(_message.Message):
    __slots__ = ("team_id", "hold_id", "spent", "in_use")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    SPENT_FIELD_NUMBER: _ClassVar[int]
    IN_USE_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    hold_id: str
    spent: str
    in_use: bool
    def __init__(self, team_id: _Optional[str] = ..., hold_id: _Optional[str] = ..., spent: _Optional[str] = ..., in_use: _Optional[bool] = ...) -> None: ...

class ReleaseResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetSpendReportRequest(_message.Message):
    __slots__ = ("team_id", "start_date", "end_date", "group_by", "date_part", "model", "provider", "credential_type", "user", "tags")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    DATE_PART_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_TYPE_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    start_date: str
    end_date: str
    group_by: str
    date_part: str
    model: str
    provider: str
    credential_type: str
    user: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, team_id: _Optional[str] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., group_by: _Optional[str] = ..., date_part: _Optional[str] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ..., credential_type: _Optional[str] = ..., user: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ...) -> None: ...

class SpendReportRow(_message.Message):
    __slots__ = ("key", "total_cost", "market_cost", "input_tokens", "output_tokens", "cached_input_tokens", "cache_creation_input_tokens", "reasoning_tokens", "request_count")
    KEY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    MARKET_COST_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHED_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_CREATION_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    REASONING_TOKENS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_COUNT_FIELD_NUMBER: _ClassVar[int]
    key: str
    total_cost: str
    market_cost: str
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    cache_creation_input_tokens: int
    reasoning_tokens: int
    request_count: int
    def __init__(self, key: _Optional[str] = ..., total_cost: _Optional[str] = ..., market_cost: _Optional[str] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., cached_input_tokens: _Optional[int] = ..., cache_creation_input_tokens: _Optional[int] = ..., reasoning_tokens: _Optional[int] = ..., request_count: _Optional[int] = ...) -> None: ...

class GetSpendReportResponse(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[SpendReportRow]
    def __init__(self, rows: _Optional[_Iterable[_Union[SpendReportRow, _Mapping]]] = ...) -> None: ...

class Budget(_message.Message):
    __slots__ = ("scope", "scope_id", "amount", "period", "hard", "spent", "period_start", "created_at", "updated_at")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    HARD_FIELD_NUMBER: _ClassVar[int]
    SPENT_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    scope: str
    scope_id: str
    amount: str
    period: str
    hard: bool
    spent: str
    period_start: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, scope: _Optional[str] = ..., scope_id: _Optional[str] = ..., amount: _Optional[str] = ..., period: _Optional[str] = ..., hard: _Optional[bool] = ..., spent: _Optional[str] = ..., period_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListBudgetsRequest(_message.Message):
    __slots__ = ("team_id",)
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    def __init__(self, team_id: _Optional[str] = ...) -> None: ...

class ListBudgetsResponse(_message.Message):
    __slots__ = ("budgets",)
    BUDGETS_FIELD_NUMBER: _ClassVar[int]
    budgets: _containers.RepeatedCompositeFieldContainer[Budget]
    def __init__(self, budgets: _Optional[_Iterable[_Union[Budget, _Mapping]]] = ...) -> None: ...

class PutBudgetRequest(_message.Message):
    __slots__ = ("team_id", "scope", "scope_id", "amount", "period", "hard", "actor_id")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    HARD_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    scope: str
    scope_id: str
    amount: str
    period: str
    hard: bool
    actor_id: str
    def __init__(self, team_id: _Optional[str] = ..., scope: _Optional[str] = ..., scope_id: _Optional[str] = ..., amount: _Optional[str] = ..., period: _Optional[str] = ..., hard: _Optional[bool] = ..., actor_id: _Optional[str] = ...) -> None: ...

class PutBudgetResponse(_message.Message):
    __slots__ = ("budget", "created")
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    budget: Budget
    created: bool
    def __init__(self, budget: _Optional[_Union[Budget, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class DeleteBudgetRequest(_message.Message):
    __slots__ = ("team_id", "scope", "scope_id", "actor_id")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    scope: str
    scope_id: str
    actor_id: str
    def __init__(self, team_id: _Optional[str] = ..., scope: _Optional[str] = ..., scope_id: _Optional[str] = ..., actor_id: _Optional[str] = ...) -> None: ...

class DeleteBudgetResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AdjustCreditsRequest(_message.Message):
    __slots__ = ("team_id", "amount", "kind", "reason", "idempotency_key", "allow_negative", "actor_id")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ALLOW_NEGATIVE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    amount: str
    kind: str
    reason: str
    idempotency_key: str
    allow_negative: bool
    actor_id: str
    def __init__(self, team_id: _Optional[str] = ..., amount: _Optional[str] = ..., kind: _Optional[str] = ..., reason: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., allow_negative: _Optional[bool] = ..., actor_id: _Optional[str] = ...) -> None: ...

class AdjustCreditsResponse(_message.Message):
    __slots__ = ("credits",)
    CREDITS_FIELD_NUMBER: _ClassVar[int]
    credits: Credits
    def __init__(self, credits: _Optional[_Union[Credits, _Mapping]] = ...) -> None: ...

class SetFreeTierRequest(_message.Message):
    __slots__ = ("team_id", "eligible")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    ELIGIBLE_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    eligible: bool
    def __init__(self, team_id: _Optional[str] = ..., eligible: _Optional[bool] = ...) -> None: ...

class SetFreeTierResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListUnsettledHoldsRequest(_message.Message):
    __slots__ = ("team_id", "all_teams", "limit")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    ALL_TEAMS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    all_teams: bool
    limit: int
    def __init__(self, team_id: _Optional[str] = ..., all_teams: _Optional[bool] = ..., limit: _Optional[int] = ...) -> None: ...

class UnsettledHold(_message.Message):
    __slots__ = ("team_id", "hold_id", "project_id", "key_id", "reserved", "debited", "held", "instance_id", "created_at", "expires_at", "expired_at")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    RESERVED_FIELD_NUMBER: _ClassVar[int]
    DEBITED_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_AT_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    hold_id: str
    project_id: str
    key_id: str
    reserved: str
    debited: str
    held: str
    instance_id: str
    created_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    expired_at: _timestamp_pb2.Timestamp
    def __init__(self, team_id: _Optional[str] = ..., hold_id: _Optional[str] = ..., project_id: _Optional[str] = ..., key_id: _Optional[str] = ..., reserved: _Optional[str] = ..., debited: _Optional[str] = ..., held: _Optional[str] = ..., instance_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expired_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListUnsettledHoldsResponse(_message.Message):
    __slots__ = ("holds",)
    HOLDS_FIELD_NUMBER: _ClassVar[int]
    holds: _containers.RepeatedCompositeFieldContainer[UnsettledHold]
    def __init__(self, holds: _Optional[_Iterable[_Union[UnsettledHold, _Mapping]]] = ...) -> None: ...

class RateLimit(_message.Message):
    __slots__ = ("scope", "scope_id", "requests_per_minute", "tokens_per_minute", "concurrent_requests", "created_at", "updated_at")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    CONCURRENT_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    scope: str
    scope_id: str
    requests_per_minute: int
    tokens_per_minute: int
    concurrent_requests: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, scope: _Optional[str] = ..., scope_id: _Optional[str] = ..., requests_per_minute: _Optional[int] = ..., tokens_per_minute: _Optional[int] = ..., concurrent_requests: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListRateLimitsRequest(_message.Message):
    __slots__ = ("team_id",)
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    def __init__(self, team_id: _Optional[str] = ...) -> None: ...

class ListRateLimitsResponse(_message.Message):
    __slots__ = ("rate_limits",)
    RATE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    rate_limits: _containers.RepeatedCompositeFieldContainer[RateLimit]
    def __init__(self, rate_limits: _Optional[_Iterable[_Union[RateLimit, _Mapping]]] = ...) -> None: ...

class PutRateLimitRequest(_message.Message):
    __slots__ = ("team_id", "scope", "scope_id", "requests_per_minute", "tokens_per_minute", "concurrent_requests", "actor_id")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    CONCURRENT_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    scope: str
    scope_id: str
    requests_per_minute: int
    tokens_per_minute: int
    concurrent_requests: int
    actor_id: str
    def __init__(self, team_id: _Optional[str] = ..., scope: _Optional[str] = ..., scope_id: _Optional[str] = ..., requests_per_minute: _Optional[int] = ..., tokens_per_minute: _Optional[int] = ..., concurrent_requests: _Optional[int] = ..., actor_id: _Optional[str] = ...) -> None: ...

class PutRateLimitResponse(_message.Message):
    __slots__ = ("rate_limit", "created")
    RATE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    rate_limit: RateLimit
    created: bool
    def __init__(self, rate_limit: _Optional[_Union[RateLimit, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class DeleteRateLimitRequest(_message.Message):
    __slots__ = ("team_id", "scope", "scope_id", "actor_id")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    scope: str
    scope_id: str
    actor_id: str
    def __init__(self, team_id: _Optional[str] = ..., scope: _Optional[str] = ..., scope_id: _Optional[str] = ..., actor_id: _Optional[str] = ...) -> None: ...

class DeleteRateLimitResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AdmitRequestRequest(_message.Message):
    __slots__ = ("team_id", "project_id", "key_id", "slot_id", "tokens")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SLOT_ID_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    project_id: str
    key_id: str
    slot_id: str
    tokens: int
    def __init__(self, team_id: _Optional[str] = ..., project_id: _Optional[str] = ..., key_id: _Optional[str] = ..., slot_id: _Optional[str] = ..., tokens: _Optional[int] = ...) -> None: ...

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

class AdmitRequestResponse(_message.Message):
    __slots__ = ("limited", "status", "slot_seconds")
    LIMITED_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SLOT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    limited: bool
    status: RateLimitStatus
    slot_seconds: float
    def __init__(self, limited: _Optional[bool] = ..., status: _Optional[_Union[RateLimitStatus, _Mapping]] = ..., slot_seconds: _Optional[float] = ...) -> None: ...

class FinishRequestRequest(_message.Message):
    __slots__ = ("team_id", "slot_id", "tokens")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    SLOT_ID_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    slot_id: str
    tokens: int
    def __init__(self, team_id: _Optional[str] = ..., slot_id: _Optional[str] = ..., tokens: _Optional[int] = ...) -> None: ...

class FinishRequestResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RequestSlot(_message.Message):
    __slots__ = ("team_id", "slot_id")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    SLOT_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    slot_id: str
    def __init__(self, team_id: _Optional[str] = ..., slot_id: _Optional[str] = ...) -> None: ...

class RenewRequestSlotsRequest(_message.Message):
    __slots__ = ("slots",)
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    slots: _containers.RepeatedCompositeFieldContainer[RequestSlot]
    def __init__(self, slots: _Optional[_Iterable[_Union[RequestSlot, _Mapping]]] = ...) -> None: ...

class RenewRequestSlotsResponse(_message.Message):
    __slots__ = ("renewed",)
    RENEWED_FIELD_NUMBER: _ClassVar[int]
    renewed: int
    def __init__(self, renewed: _Optional[int] = ...) -> None: ...
