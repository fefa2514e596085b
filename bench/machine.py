"""The CPU a benchmark ran on, for its JSON line: figures from different CPUs do not compare."""
import os
import platform
from pathlib import Path


def cpu_name():
    """'Intel(R) Xeon(R) Processor @ 2.80GHz, 2 CPUs, avx2 avx512f amx_bf16' (the model name, the CPU
    count, and which of the vector units that decide the speed of charrnn's products it has)."""
    name, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                name = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    except OSError:
        pass
    units = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]
    return f"{name}, {os.cpu_count()} CPUs" + (f", {' '.join(units)}" if units else "")
