import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class KeyRevoked(_message.Message):
    __slots__ = ("event_id", "key_id", "team_id", "reason", "revoked_at")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    key_id: str
    team_id: str
    reason: str
    revoked_at: _timestamp_pb2.Timestamp
    def __init__(self, event_id: _Optional[str] = ..., key_id: _Optional[str] = ..., team_id: _Optional[str] = ..., reason: _Optional[str] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class MembershipChanged(_message.Message):
    __slots__ = ("event_id", "team_id", "user_id", "changed_at")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    team_id: str
    user_id: str
    changed_at: _timestamp_pb2.Timestamp
    def __init__(self, event_id: _Optional[str] = ..., team_id: _Optional[str] = ..., user_id: _Optional[str] = ..., changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ByokChanged(_message.Message):
    __slots__ = ("event_id", "team_id", "provider", "changed_at")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    team_id: str
    provider: str
    changed_at: _timestamp_pb2.Timestamp
    def __init__(self, event_id: _Optional[str] = ..., team_id: _Optional[str] = ..., provider: _Optional[str] = ..., changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
