"""The record of the CPU (vectorstore/machine.py, shown by eval/bench.py), from /proc/cpuinfo text written here."""

from __future__ import annotations

from eval.bench import _cpu_line
from vectorstore.machine import CPU_FEATURES, cpu_info

# Two processors of one made-up machine; the first one's lines are read.
CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: Example EPYC 7000 Processor
flags\t\t: fpu sse sse2 fma avx avx2 bmi2 avx512f avx512_vnni

processor\t: 1
model name\t: Example EPYC 7000 Processor
flags\t\t: fpu sse sse2 fma avx avx2 bmi2 avx512f avx512_vnni
"""


def test_cpu_info_names_the_model_and_the_instruction_sets_that_matter():
    info = cpu_info(CPUINFO)
    assert info == {"model": "Example EPYC 7000 Processor", "features": ["avx2", "fma", "avx512f", "avx512_vnni"]}
    assert _cpu_line({"cpu": info}) == "Example EPYC 7000 Processor: avx2, fma, avx512f, avx512_vnni"


def test_an_avx2_only_cpu_lacks_the_int8_instructions():
    info = cpu_info("model name : Old Server CPU\nflags : sse4_2 avx avx2 fma\n")
    assert info["features"] == ["avx2", "fma"]
    assert not {"avx512_vnni", "avx_vnni", "amx_int8"} & set(info["features"])


def test_a_cpu_with_none_of_the_features_says_so():
    info = cpu_info("model name : Tiny Board\nflags : fpu vme\n")
    assert info["features"] == []
    assert _cpu_line({"cpu": info}) == "Tiny Board: none of " + "/".join(CPU_FEATURES)
    assert _cpu_line({}) == "CPU unknown: features unknown"


def test_the_running_machine_is_described():
    info = cpu_info()
    assert info["model"]
    assert info["features"] is None or set(info["features"]) <= set(CPU_FEATURES)
