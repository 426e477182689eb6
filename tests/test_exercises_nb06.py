"""Notebook 06's checks: right answers pass, wrong ones, wrong shapes and None fail, none raises."""

from __future__ import annotations

import pytest

from k8slearn.notebook.exercises import nb06

# ELF64 headers' first 20 bytes as the cross-builds have them: magic, class 2, data 1 (LSB),
# version 1, OS/ABI 0, padding, e_type 2 (EXEC), e_machine 243 (RISC-V) / 258 (LoongArch)
RISCV = "7f454c46020101000000000000000000" + "0200f300"
LOONG = "7f454c46020101000000000000000000" + "02000201"


class FakeLab:
    """What the checks ask of a Lab, with fixed answers (no Go, no cluster)."""

    def __init__(self, broken: bool = False):
        self.broken = broken

    def cross_build(self, arch: str) -> dict:
        if self.broken:
            raise RuntimeError("no builds here")
        header = {"riscv64": RISCV, "loong64": LOONG}[arch]
        return {"binaries": {"kube-apiserver": {"elf": {"header_hex": header}}}}

    def source_survey(self, arch: str) -> dict:
        if self.broken:
            raise RuntimeError("no go here")
        return {"asm_only_reference": ["github.com/cespare/xxhash/v2", "golang.org/x/crypto/salsa20/salsa"]}


def test_e_machine_reads_both_byte_orders():
    assert nb06.e_machine(RISCV) == 243
    assert nb06.e_machine(LOONG) == 258
    big = "7f454c46020201000000000000000000" + "00020016"  # s390x is big-endian: EM_S390 = 22
    assert nb06.e_machine(big) == 22


def test_check_e_machine(capsys):
    lab = FakeLab()
    assert nb06.check_e_machine(lab, {"riscv64": 243, "loong64": 258})
    assert "✅" in capsys.readouterr().out
    for wrong in ({"riscv64": 243, "loong64": 243}, {"riscv64": 62}, [243, 258], "243", 0):
        assert not nb06.check_e_machine(lab, wrong)
        assert "❌" in capsys.readouterr().out
    assert not nb06.check_e_machine(lab, None)
    assert "⏳" in capsys.readouterr().out
    assert not nb06.check_e_machine(FakeLab(broken=True), {"riscv64": 243, "loong64": 258})


def test_check_dropped_platforms(capsys):
    lab = FakeLab()
    assert nb06.check_dropped_platforms(lab, {"linux/arm"})
    assert nb06.check_dropped_platforms(lab, ["linux/arm"])  # any iterable of names
    for wrong in (set(), {"linux/arm", "linux/amd64"}, {"linux/riscv64"}, 42, "linux/arm"):
        assert not nb06.check_dropped_platforms(lab, wrong)
    assert not nb06.check_dropped_platforms(lab, None)
    assert "⏳" in capsys.readouterr().out.splitlines()[-1]


def test_check_lost_fast_paths():
    lab = FakeLab()
    right = {"github.com/cespare/xxhash/v2", "golang.org/x/crypto/salsa20/salsa"}
    assert nb06.check_lost_fast_paths(lab, right)
    for wrong in ({"github.com/cespare/xxhash/v2"}, right | {"golang.org/x/sys/unix"}, set(), 3):
        assert not nb06.check_lost_fast_paths(lab, wrong)
    assert not nb06.check_lost_fast_paths(lab, None)
    assert not nb06.check_lost_fast_paths(FakeLab(broken=True), right)


@pytest.mark.parametrize("check", [nb06.check_e_machine, nb06.check_dropped_platforms, nb06.check_lost_fast_paths])
def test_checks_never_raise(check):
    for answer in (None, object(), {"riscv64": object()}, [[]], b"\x00"):
        assert not check(FakeLab(), answer)
        assert not check(FakeLab(broken=True), answer)
