"""Opening a media file in FFmpeg (PyAV), the one way every reader does it.

By descriptor, through /proc/self/fd: FFmpeg takes names as UTF-8, and a camera's
may not be (the Shift-JIS names of issue 12). With a time limit on each open and
read (FFmpeg's interrupt callback), so a hostile file cannot hold a worker.
"""

from __future__ import annotations

import os
from pathlib import Path

import av
import av.container

READ_SECONDS = 60
"""FFmpeg gives up on an open or a read that takes longer than this."""


def open_input(path: Path) -> av.container.InputContainer:
    """The file open for reading (close it); av.error.FFmpegError when FFmpeg cannot read it."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        return av.open(f"/proc/self/fd/{fd}", "r", timeout=READ_SECONDS)
    finally:
        os.close(fd)
