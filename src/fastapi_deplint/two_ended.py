"""Sharing a list of work items between processes from both ends.

Workers take items from the front, the parent from the back, each one at a time through one
shared pair of counters `[front, back)`, until the two ends meet. Nobody idles while another
still has a long tail, and nothing but the counters passes between processes while they
work. Used for per-file facts (`project`) and for rules (`rules_parallel`).
"""

from __future__ import annotations

from typing import Any


def counters(context: Any, items: int) -> Any:
    """The shared `[front, back)` pair for `items` items (a `multiprocessing` context's
    `Array`, created before the workers start: they inherit it)."""
    return context.Array("l", [0, items])


def take(ends: Any, from_front: bool, reserved: int = 0) -> int | None:
    """The index of the next item from one end, or None when the ends have met. Taking from
    the back never takes the first `reserved` items (they are the front's)."""
    with ends.get_lock():
        front, back = ends[0], ends[1]
        if from_front:
            if front >= back:
                return None
            ends[0] = front + 1
            return front
        if back - 1 < max(front, reserved):
            return None
        ends[1] = back - 1
        return back - 1
