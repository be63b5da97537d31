"""A recompute keeps the cyclic garbage collector out of its way and gives it back as it found it: after one run,
after two that overlap in the scheduler's threads, and after a run that fails."""

from __future__ import annotations

import gc
import threading

import pytest

from app.scoring import service as scoring
from app.scoring.streaming import few_collections
from tests.factories import gen_citizen, new_id_number


@pytest.fixture
def collector_state():
    before = gc.get_threshold(), gc.get_freeze_count()
    yield before
    assert (gc.get_threshold(), gc.get_freeze_count()) == before


def test_a_recompute_restores_the_collector(ctx, collector_state):
    gen_citizen("张三", new_id_number(), consent=True)
    assert scoring.recompute("all").processed == 1
    assert (gc.get_threshold(), gc.get_freeze_count()) == collector_state


def test_the_collector_waits_while_a_run_is_under_way(collector_state):
    thresholds, _ = collector_state
    with few_collections():
        assert gc.get_threshold()[0] == thresholds[0] * 100
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == thresholds


def test_overlapping_runs_restore_it_when_the_last_ends(collector_state):
    thresholds, _ = collector_state
    first_in, first_may_end = threading.Event(), threading.Event()

    def first_run():
        with few_collections():
            first_in.set()
            first_may_end.wait(5)

    thread = threading.Thread(target=first_run)
    thread.start()
    first_in.wait(5)
    with few_collections():
        pass
    assert gc.get_threshold()[0] == thresholds[0] * 100  # the first run is still under way
    first_may_end.set()
    thread.join(5)
    assert gc.get_threshold() == thresholds


def test_a_failing_run_restores_it(collector_state):
    with pytest.raises(RuntimeError), few_collections():
        raise RuntimeError("the database went away")


def test_a_run_keeps_what_a_server_froze_at_start(collector_state):
    """A gunicorn worker freezes its app at start (gunicorn.conf.py); a batch rescored inline in that worker must
    not unfreeze it."""
    gc.freeze()
    try:
        with few_collections():
            pass
        assert gc.get_freeze_count() > 0  # still frozen (a frozen object may be freed meanwhile, not thawed)
    finally:
        gc.unfreeze()
