"""The waiting room of live polls (hub/changes.py): a few polls per session and a few in
all wait for the ledger to move; the rest are answered at once with a retry hint."""

import threading

import pytest

from hub.changes import ChangeFeed, LivePolls
from tests.harness import wait_until

pytestmark = pytest.mark.hub


def _parked(polls: LivePolls, count: int) -> None:
    wait_until(lambda: polls.parked == count, 10, f"{count} parked polls")


def _wait_in_thread(polls: LivePolls, session: str, since: int, answers: list) -> threading.Thread:
    thread = threading.Thread(target=lambda: answers.append(polls.poll(session, since)))
    thread.start()
    return thread


def test_one_session_parks_two_polls_and_the_third_is_told_to_retry():
    feed = ChangeFeed()
    polls = LivePolls(feed, limit=10, per_session=2)
    answers: list = []
    waiting = [_wait_in_thread(polls, "tab-owner", 0, answers) for _ in range(2)]
    _parked(polls, 2)
    third = polls.poll("tab-owner", 0)
    assert third.retry_after is not None and third.version == 0
    waiting.append(_wait_in_thread(polls, "other-browser", 0, answers))  # its own share
    _parked(polls, 3)
    feed.bump()
    for thread in waiting:
        thread.join(10)
    assert [a.version for a in answers] == [1, 1, 1]
    assert all(a.retry_after is None for a in answers)
    assert polls.parked == 0


def test_beyond_the_global_limit_polls_are_answered_at_once_and_the_slots_come_back():
    feed = ChangeFeed()
    polls = LivePolls(feed, limit=3, per_session=2)
    answers: list = []
    waiting = [_wait_in_thread(polls, f"session-{i}", 0, answers) for i in range(3)]
    _parked(polls, 3)
    turned_away = polls.poll("session-new", 0)
    assert turned_away.retry_after is not None
    feed.bump()
    for thread in waiting:
        thread.join(10)
    assert polls.parked == 0
    # The ledger moved: answered at once with the new version, no waiting room needed.
    assert polls.poll("session-new", 0).version == 1
    assert {a.version for a in answers} == {1}


def test_a_poll_behind_the_ledger_is_answered_at_once_even_when_the_room_is_full():
    feed = ChangeFeed()
    feed.bump()
    polls = LivePolls(feed, limit=1, per_session=1)
    answers: list = []
    waiting = _wait_in_thread(polls, "a", 1, answers)
    _parked(polls, 1)
    answer = polls.poll("b", 0)
    assert answer.version == 1 and answer.retry_after is None
    feed.bump()
    waiting.join(10)
    assert answers[0].version == 2
