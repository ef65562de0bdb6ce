"""How many times a message was delivered, read from its JetStream ack subject."""

from __future__ import annotations

import pytest
from nats.aio.msg import Msg
from tollgate_common.bus import num_delivered


@pytest.mark.parametrize(
    "reply",
    [
        "$JS.ACK.TOLLGATE_USAGE.activity-usage.3.41.40.1764000000000000000.7",
        "$JS.ACK._.ACCHASH.TOLLGATE_USAGE.activity-usage.3.41.40.1764000000000000000.7.tok",
        "$JS.ACK.hub.ACCHASH.TOLLGATE_USAGE.activity-usage.3.41.40.1764000000000000000.7",
    ],
)
def test_the_delivery_count_is_the_one_nats_py_reads(reply: str) -> None:
    assert num_delivered(reply) == 3
    assert Msg(None, reply=reply).metadata.num_delivered == 3  # type: ignore[arg-type]


@pytest.mark.parametrize("reply", ["", "inbox.abc", "$JS.ACK.S.C.x.1.1.1.0"])
def test_an_unreadable_ack_subject_counts_as_a_first_delivery(reply: str) -> None:
    assert num_delivered(reply) == 1
