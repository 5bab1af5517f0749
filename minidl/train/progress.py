"""``progress_bar``: a tqdm bar over an epoch's batches or steps, when tqdm is installed."""

from __future__ import annotations

import sys
from collections.abc import Iterable


def progress_bar(
    items: Iterable, total: int, description: str, enabled: bool, unit: str = "batch"
) -> Iterable:
    """Wrap ``items`` in a tqdm bar when asked and tqdm is there; else return them as they are."""
    if not enabled:
        return items
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is optional: without it there is just no bar
        return items
    # leave=False: the bar is erased when the epoch ends, and the epoch's line takes its place.
    return tqdm(items, total=total, desc=description, leave=False, unit=unit, file=sys.stderr)
