"""What the machine's CPU can do: the facts that decide how fast the encoder and llama.cpp run here."""

from __future__ import annotations

import hashlib
import os
import platform
from pathlib import Path

# The instruction sets that decide how fast the int8 encoder and llama.cpp run: on an AVX2-only EPYC the
# int8 encoder's lead over PyTorch all but vanished (issue 16), as it leans on VNNI/AMX int8 dot products.
CPU_FEATURES = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8", "amx_bf16")


def cpu_info(cpuinfo: str | None = None) -> dict:
    """The CPU's model name and which of CPU_FEATURES it has, from /proc/cpuinfo (Linux); elsewhere the
    model is platform.processor() and the features are unknown (None)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return {"model": platform.processor() or platform.machine(), "features": None}
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        key, colon, value = line.partition(":")
        if colon and key.strip() not in fields:  # the first processor's lines: the cores are alike
            fields[key.strip()] = value.strip()
    flags = set(fields.get("flags", "").split())
    return {"model": fields.get("model name") or platform.processor() or platform.machine(),
            "features": [name for name in CPU_FEATURES if name in flags]}


def cpu_key() -> str:
    """A short name for this CPU (model, instruction sets, cores): what a calibration measured on it is
    valid for. Another machine, or the same disk in a bigger VM, gets another key."""
    info = cpu_info()
    text = f"{info['model']}|{','.join(info['features'] or [])}|{os.cpu_count()}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]
