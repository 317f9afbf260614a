"""What the machine's CPU can do: the facts that decide how fast the encoder and llama.cpp run here."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

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


def thread_options(cpus: int | None = None) -> list[int]:
    """The thread counts a calibration tries: all the cores and half of them."""
    cpus = cpus or os.cpu_count() or 1
    return sorted({max(1, cpus // 2), cpus})


def calibrate(measure: Callable[[int, int], float], threads: list[int], batches: list[int] | tuple[int, ...],
              rounds: int = 2) -> dict:
    """The fastest (threads, batch size) by `measure(threads, batch)` (passages/s), with every rate measured:
    the best of `rounds` passes over all the settings, so a burst of other work hurts no one setting alone.
    Hand-written: a search over a handful of settings that no library offers for onnxruntime sessions."""
    rates: dict[tuple[int, int], float] = {}
    for _ in range(rounds):
        for t in threads:
            for b in batches:
                rates[(t, b)] = max(rates.get((t, b), 0.0), measure(t, b))
    best_threads, best_batch = max(rates, key=lambda key: (rates[key], key[0], -key[1]))
    return {"threads": best_threads, "batch_size": best_batch,
            "rates": {f"{t} threads, batch {b}": float(f"{rate:.4g}") for (t, b), rate in rates.items()}}


def calibrated(folder: Path, prefix: str, measure: Callable[[int, int], float], threads: int | None,
               batch: int | None, batch_options: tuple[int, ...], rounds: int = 2) -> dict:
    """The fastest (threads, batch size) for this CPU: the given ones where set, the others measured by
    `calibrate` over thread_options() and `batch_options`, kept in `folder` under a name made of `prefix`,
    the CPU key and the settings tried (load_or_calibrate)."""
    tried_threads = [threads] if threads else thread_options()
    tried_batches = [batch] if batch else list(batch_options)
    tried = f"t{'-'.join(map(str, tried_threads))}-b{'-'.join(map(str, tried_batches))}"
    return load_or_calibrate(folder / f"{prefix}-{cpu_key()}-{tried}.json", lambda: {
        **calibrate(measure, tried_threads, tried_batches, rounds), "cpu": cpu_key(), "measured": time.strftime("%Y-%m-%d")})


def load_or_calibrate(path: Path, run: Callable[[], dict]) -> dict:
    """The calibration kept in `path`, or `run()`'s, written there atomically (other processes may race).
    A file that cannot be read is measured again; one that cannot be written is only logged."""
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(kept.get("threads"), int) and isinstance(kept.get("batch_size"), int):
            return kept
    except (OSError, ValueError, AttributeError):
        pass
    result = run()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp", encoding="utf-8") as out:
            json.dump(result, out, indent=1)
        os.replace(out.name, path)
    except OSError as exc:
        log.warning("Could not keep the calibration in %s (%s); it will be measured again.", path, exc)
    return result
