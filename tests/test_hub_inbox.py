"""The inbox's bounds (hub.inbox): full at either bound, room again below three quarters
of both, the payload bytes counted out as the ingest takes them."""

import queue

import pytest

from hub.inbox import Inbox
from hub.ingest_batch import Incoming


def message(size: int = 10) -> Incoming:
    return Incoming("wh/v1/test/station/pack-1/events", b"x" * size)


def test_full_at_its_message_bound_and_room_below_three_quarters():
    inbox = Inbox(max_messages=8, max_bytes=1_000_000)
    for _ in range(7):
        inbox.put(message())
    assert not inbox.full()
    inbox.put(message())
    assert inbox.full() and not inbox.has_room()
    inbox.get_nowait()
    inbox.get_nowait()  # 6 of 8: three quarters, not below
    assert not inbox.full() and not inbox.has_room()
    inbox.get(timeout=1)
    assert inbox.has_room() and len(inbox) == 5


def test_full_at_its_byte_bound_and_bytes_counted_out_when_taken():
    inbox = Inbox(max_messages=1000, max_bytes=100)
    inbox.put(message(60))
    assert not inbox.full()
    inbox.put(message(40))
    assert inbox.full() and inbox.bytes == 100
    inbox.get_nowait()
    assert inbox.bytes == 40 and inbox.has_room()


def test_taken_in_the_order_put():
    inbox = Inbox()
    for size in (1, 2, 3):
        inbox.put(message(size))
    assert [len(inbox.get_nowait().payload) for _ in range(3)] == [1, 2, 3]
    with pytest.raises(queue.Empty):
        inbox.get(timeout=0.01)
