"""The known-answer set for the picture analysis: small real files made with ffmpeg,
each with the findings a person watching it would name.

Every case is made at any size and rate, so the same answers are checked on small
files in CI and on 1080p30 footage at camera bitrates in the benchmark.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Expected:
    kind: str
    at: float
    seconds: float


@dataclass(frozen=True)
class Case:
    name: str
    why: str
    args: Callable[[str, int, list[str]], list[str]]  # (size, rate, encoder args) -> ffmpeg arguments
    expected: tuple[Expected, ...]
    suffix: str = ".mp4"

    def make(self, folder: Path, size: str = "320x240", rate: int = 15, encoder: list[str] | None = None) -> Path:
        path = folder / f"{self.name}{self.suffix}"
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            enc = encoder if encoder is not None else x264(rate)
            subprocess.run(["ffmpeg", "-v", "error", "-y", *self.args(size, rate, enc), str(path)], check=True)
        return path


def x264(rate: int, bitrate: str | None = None, gop_seconds: float = 1.0) -> list[str]:
    """Camera-like H.264: B-frames, a keyframe every gop_seconds, yuv420p; CRF unless a bitrate is given."""
    rc = ["-b:v", bitrate, "-maxrate", bitrate, "-bufsize", bitrate] if bitrate else []
    return ["-c:v", "libx264", "-preset", "veryfast", "-g", str(round(rate * gop_seconds)), "-pix_fmt", "yuv420p", *rc]


def _live(size: str, rate: int, seconds: float, noise: int = 8) -> list[str]:
    return ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}",
            "-f", "lavfi", "-i", f"anoisesrc=duration={seconds}:amplitude=0.05", "-vf",
            f"noise=alls={noise}:allf=t"]


def _moving(size: str, rate: int, enc: list[str]) -> list[str]:
    return [*_live(size, rate, 10), *enc, "-c:a", "aac", "-shortest"]


def _still(size: str, rate: int, enc: list[str]) -> list[str]:
    return ["-f", "lavfi", "-i", f"smptehdbars=size={size}:rate={rate}:duration=10", "-vf", "noise=alls=6:allf=t",
            *enc]


def _slow(size: str, rate: int, enc: list[str]) -> list[str]:
    width = int(size.split("x")[0])
    box = max(8, width // 25)
    return ["-f", "lavfi", "-i", f"smptehdbars=size={size}:rate={rate}:duration=10", "-f", "lavfi", "-i",
            f"color=white:size={box}x{box}:rate={rate}:duration=10", "-filter_complex",
            f"[0:v]noise=alls=6:allf=t[bg];[bg][1:v]overlay=x='{box}+{width / 100:g}*t':y={box * 4}[v]",
            "-map", "[v]", *enc]


def _black(size: str, rate: int, enc: list[str]) -> list[str]:
    width = int(size.split("x")[0])
    osd = f"{max(8, width // 20)}x{max(4, width // 40)}"
    return ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration=3",
            "-f", "lavfi", "-i", f"color=c=0x101010:size={size}:rate={rate}:duration=3",
            "-f", "lavfi", "-i", f"color=c=gray:size={osd}:rate={rate}:duration=3",
            "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration=4", "-filter_complex",
            f"[1:v][2:v]overlay=x='{width // 30}*(1+floor(t))':y=10,noise=alls=4:allf=t[dark];"
            "[0:v][dark][3:v]concat=n=3:v=1,noise=alls=2:allf=t[v]", "-map", "[v]", *enc]


def _frozen(size: str, rate: int, enc: list[str]) -> list[str]:
    first, last = 4 * rate, 7 * rate - 1
    return ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration=10", "-filter_complex",
            f"[0:v]noise=alls=8:allf=t,split[a][b];[a][b]freezeframes=first={first}:last={last}:replace={first}[v]",
            "-map", "[v]", *enc]


def _frozen_intra(size: str, rate: int, enc: list[str]) -> list[str]:
    del enc  # every picture a keyframe, as MJPEG recorders write them
    return [*_frozen(size, rate, []), "-c:v", "mjpeg", "-q:v", "5", "-pix_fmt", "yuvj420p"]


def _jump(size: str, rate: int, enc: list[str]) -> list[str]:
    return ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration=4", "-vf",
            "setpts='if(gte(T,2),PTS+6/TB,PTS)'", "-fps_mode", "passthrough", *enc]


def _vfr(size: str, rate: int, enc: list[str]) -> list[str]:
    """The rate drops to a third for four seconds and a few pictures are missing: still no gap of a second."""
    lo, hi = 2 * rate, 6 * rate
    gap = (7 * rate, 7 * rate + rate // 2)
    return ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration=10", "-vf",
            f"select='not(between(n,{lo},{hi})*mod(n,3))*not(between(n,{gap[0]},{gap[1]}))',noise=alls=8:allf=t",
            "-fps_mode", "vfr", *enc]


def _audio(codec: str) -> Callable[[str, int, list[str]], list[str]]:
    def args(size: str, rate: int, enc: list[str]) -> list[str]:
        del size, rate, enc
        return ["-f", "lavfi", "-i", "sine=frequency=440:duration=6", "-c:a", codec]
    return args


CASES = (
    Case("moving", "an ordinary moving scene with sensor noise", _moving, ()),
    Case("still", "a still interrogation room: sensor noise, nothing moves", _still, ()),
    Case("slow_motion", "a still room where one small thing moves slowly", _slow, ()),
    Case("black", "three seconds of a covered lens with the camera's clock overlay", _black,
         (Expected("black", 3.0, 3.0),)),
    Case("frozen", "the encoder repeats one picture for three seconds", _frozen, (Expected("frozen", 4.0, 3.0),)),
    Case("frozen_intra", "the same, where every picture is a keyframe (MJPEG)", _frozen_intra,
         (Expected("frozen", 4.0, 3.0),), suffix=".avi"),
    Case("jump", "the timestamps jump six seconds (a pause)", _jump, (Expected("jump", 1.933, 6.067),)),
    Case("vfr", "a variable frame rate, never a second without a picture", _vfr, ()),
    Case("audio_m4a", "sound only, AAC", _audio("aac"), (), suffix=".m4a"),
    Case("audio_wav", "sound only, PCM", _audio("pcm_s16le"), (), suffix=".wav"),
)
"""Times are for 15 pictures a second; the jump's start is the last picture before it."""


def matches(found: list[dict[str, float | str]], expected: tuple[Expected, ...], rate: int,
            tolerance: float | None = None) -> bool:
    """Same kinds in the same order, each start and length within ``tolerance`` (default two pictures)."""
    slack = tolerance if tolerance is not None else 2 / rate + 1e-3
    if [f["kind"] for f in found] != [e.kind for e in expected]:
        return False
    return all(abs(float(f["at"]) - e.at) <= slack and abs(float(f["seconds"]) - e.seconds) <= slack
               for f, e in zip(found, expected, strict=True))
