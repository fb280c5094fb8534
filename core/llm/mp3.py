"""MP3 frames, read without a decoder: duration, and cuts on frame boundaries.

A transcription endpoint takes uploads up to a size limit; an MP3 cut between frames is still a
valid MP3, so long episodes are split that way (no ffmpeg needed). Other formats are not split.
"""

from __future__ import annotations

from dataclasses import dataclass

# Bitrates (kbit/s) by index for MPEG-1 Layer III and MPEG-2/2.5 Layer III.
_BITRATES_V1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_BITRATES_V2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


class NotMp3(ValueError):
    """The audio is not MP3 (or has no readable frames)."""


@dataclass(frozen=True, slots=True)
class Frame:
    offset: int
    length: int
    seconds: float


def _frame_at(data: bytes, i: int) -> Frame | None:
    if i + 4 > len(data) or data[i] != 0xFF or data[i + 1] & 0xE0 != 0xE0:
        return None
    version = (data[i + 1] >> 3) & 0x03  # 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    layer = (data[i + 1] >> 1) & 0x03  # 1: Layer III
    bitrate_index = data[i + 2] >> 4
    rate_index = (data[i + 2] >> 2) & 0x03
    padding = (data[i + 2] >> 1) & 0x01
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    rate = _RATES[version][rate_index]
    bitrates = _BITRATES_V1 if version == 3 else _BITRATES_V2
    samples = 1152 if version == 3 else 576
    length = samples // 8 * bitrates[bitrate_index] * 1000 // rate + padding
    return Frame(i, length, samples / rate)


def _skip_id3(data: bytes) -> int:
    if data[:3] == b"ID3" and len(data) >= 10:
        size = 0
        for byte in data[6:10]:
            size = (size << 7) | (byte & 0x7F)
        return 10 + size
    return 0


def frames(data: bytes) -> list[Frame]:
    out: list[Frame] = []
    i = _skip_id3(data)
    while i < len(data):
        frame = _frame_at(data, i)
        if frame is None:
            i += 1  # resynchronise past junk
            continue
        out.append(frame)
        i += frame.length
    if not out:
        raise NotMp3("the audio has no MP3 frames")
    return out


def duration_seconds(data: bytes) -> float:
    return sum(f.seconds for f in frames(data))


def split(data: bytes, max_bytes: int) -> list[tuple[bytes, float]]:
    """Parts of at most ``max_bytes`` cut between frames, each with its start in seconds."""
    parts: list[tuple[bytes, float]] = []
    start_offset: int | None = None
    start_seconds = elapsed = 0.0
    end = 0
    for frame in frames(data):
        if start_offset is None:
            start_offset, start_seconds = frame.offset, elapsed
        if frame.offset + frame.length - start_offset > max_bytes and end > start_offset:
            parts.append((data[start_offset:end], start_seconds))
            start_offset, start_seconds = frame.offset, elapsed
        end = frame.offset + frame.length
        elapsed += frame.seconds
    if start_offset is not None and end > start_offset:
        parts.append((data[start_offset:end], start_seconds))
    return parts
