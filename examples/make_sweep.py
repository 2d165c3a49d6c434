#!/usr/bin/env python3
"""Write a test signal: an exponential sine sweep (20 Hz to 20 kHz) followed
by a short silence, as 16-bit WAV.  Standard library only.

    make_sweep.py OUT.wav [SECONDS] [SAMPLE_RATE] [CHANNELS]
"""
import math
import struct
import sys
import wave


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out = argv[1]
    seconds = float(argv[2]) if len(argv) > 2 else 2.0
    rate = int(argv[3]) if len(argv) > 3 else 48000
    channels = int(argv[4]) if len(argv) > 4 else 2
    f0, f1 = 20.0, 20000.0
    n = int(seconds * rate)
    k = math.log(f1 / f0)
    frames = bytearray()
    for i in range(n + rate // 4):
        t = i / rate
        x = 0.0
        if i < n:
            x = 0.5 * math.sin(2 * math.pi * f0 * seconds / k *
                               (math.exp(t / seconds * k) - 1))
        frames += struct.pack("<h", int(x * 32767)) * channels
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
