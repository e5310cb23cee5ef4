"""companyos.heap: a served process freezes its heap after start-up and after its first requests,
then stops listening (issue 10: full collections of the start-up objects were p95 spikes)."""

import gc
from unittest import mock

from django.core.signals import request_finished

from companyos import heap


def test_freeze_moves_the_live_objects_out_of_the_collectors_reach():
    gc.unfreeze()
    try:
        heap.freeze()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_it_freezes_after_the_first_tenth_and_hundredth_request_then_disconnects():
    with mock.patch.object(heap, "freeze") as freeze:
        heap.freeze_after_warmup((1, 3, 5))
        try:
            calls = []
            for _ in range(1, 8):
                request_finished.send(sender=None)
                calls.append(freeze.call_count)
            assert calls == [1, 1, 2, 2, 3, 3, 3]
            assert not request_finished.disconnect(dispatch_uid="companyos.heap")  # already gone
        finally:
            request_finished.disconnect(dispatch_uid="companyos.heap")
