"""Picture measures on the decoded luma plane (OpenCV and numpy), no colour conversion.

Black: at least BLACK_SHARE of the picture darker than BLACK_LUMA, so that the
camera's own clock overlay does not hide a black picture.

Change: how far a picture is from the one before, as the largest mean difference
of any 16x16 block; whether that makes it frozen is decided in stretches.Frame.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

BLACK_LUMA_LIMITED = 36
"""Grey 24 of 255, in the 16-235 luma of camera video."""
BLACK_LUMA_FULL = 24
BLACK_SHARE = 0.9
BLOCK = 16

Luma = npt.NDArray[np.uint8]


def is_black(luma: Luma, full_range: bool) -> bool:
    sample = luma[::4, ::4]
    limit = BLACK_LUMA_FULL if full_range else BLACK_LUMA_LIMITED
    return float(np.count_nonzero(sample < limit)) >= BLACK_SHARE * sample.size


def change(luma: Luma, previous: Luma | None) -> float | None:
    """How much ``luma`` differs from ``previous``: the largest 16x16 block's mean difference, in whole grey levels.

    The picture is cut to whole blocks, so OpenCV's area resize takes its fast path
    (under a millisecond at 1080p).
    """
    if previous is None or previous.shape != luma.shape:
        return None
    h, w = luma.shape
    if h < BLOCK or w < BLOCK:
        return float(cv2.absdiff(luma, previous).mean())
    hb, wb = h // BLOCK, w // BLOCK
    diff = cv2.absdiff(luma[: hb * BLOCK, : wb * BLOCK], previous[: hb * BLOCK, : wb * BLOCK])
    return float(cv2.resize(diff, (wb, hb), interpolation=cv2.INTER_AREA).max())
