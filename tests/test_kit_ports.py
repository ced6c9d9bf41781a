"""The test ports each test process hands out (kit/ports.py) are its own: scripts/test runs
the SQLite and the PostgreSQL pass side by side, each with xdist workers gw0, gw1..., and a
hub of one pass failed with "Address already in use" on a port the other pass had handed
to its broker (a run of 2026-12-07)."""

import itertools

from kit import ports


def _slice(monkeypatch, test_pass: str | None, worker: str | None) -> range:
    for name, value in (("TEST_PASS", test_pass), ("PYTEST_XDIST_WORKER", worker)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    first = next(ports._candidates())  # a random place in the slice: find its start
    index = ports._slice()
    low = ports._ephemeral_low() - ports.PASSES * ports.PER_PASS * ports.SLICE
    assert low + index * ports.SLICE <= first < low + (index + 1) * ports.SLICE
    return range(low + index * ports.SLICE, low + (index + 1) * ports.SLICE)


def test_every_worker_of_both_passes_hands_out_ports_apart_below_the_kernels(monkeypatch):
    workers = [f"gw{n}" for n in range(ports.PER_PASS)]
    slices = [_slice(monkeypatch, p, w) for p, w in itertools.product(("0", "1"), workers)]
    for a, b in itertools.combinations(slices, 2):
        assert not set(a) & set(b), (a, b)
    assert max(s.stop for s in slices) <= ports._ephemeral_low()


def test_a_pass_run_in_one_process_has_a_slice_of_its_own_pass(monkeypatch):
    sqlite, postgresql = (_slice(monkeypatch, p, None) for p in ("0", "1"))
    assert sqlite != postgresql
    assert _slice(monkeypatch, None, None) == sqlite  # pytest run by hand: the first pass's
