"""What a benchmark says it ran on: enough to tell apart two machines that both call themselves "AMD EPYC"."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.hardware import describe

CPUINFO = "processor\t: {n}\nvendor_id\t: AuthenticAMD\ncpu family\t: {family}\nmodel\t\t: {model}\n" + (
    "model name\t: AMD EPYC\nflags\t\t: fpu sse4_2 {flags}\n\n"
)


@pytest.mark.parametrize(
    ("family", "model", "flags", "expected"),
    [
        (25, 17, "avx2 avx512f avx512_vnni", "AMD EPYC (family 25, model 17), AVX-512 VNNI"),
        (25, 1, "avx avx2 fma", "AMD EPYC (family 25, model 1), AVX2 without VNNI"),
        (6, 151, "avx2 avx_vnni", "AMD EPYC (family 6, model 151), AVX2 with VNNI"),
    ],
)
def test_the_cpu_is_named_with_its_family_and_the_vector_units_int8_products_run_on(
    tmp_path: Path, family: int, model: int, flags: str, expected: str
) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("".join(CPUINFO.format(n=n, family=family, model=model, flags=flags) for n in range(2)))
    assert describe(cpuinfo).startswith(expected + ",")


def test_a_machine_without_proc_cpuinfo_is_still_described(tmp_path: Path) -> None:
    assert "logical cores" in describe(tmp_path / "missing")


def test_the_pure_python_speed_is_measured_and_printed(tmp_path: Path) -> None:
    text = describe(tmp_path / "missing")
    ms = float(text.split("(")[-1].split(" ms a pure-Python loop)")[0])
    assert 0.5 < ms < 1000, text
