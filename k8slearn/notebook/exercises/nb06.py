"""Checks for notebook 06 (new CPU architectures).

Each compares the learner's answer with what this run measured or read (the ELF headers of the
cross-built programs, the platform lists extracted from Kubernetes releases, `go list`'s view of
the source), never with printed text. A wrong answer, or one of the wrong shape, prints ❌ with a
hint and returns a false Verdict; nothing here raises.
"""

from __future__ import annotations

from typing import Any

from k8slearn.notebook.exercises import Verdict, verdict


def e_machine(header_hex: str) -> int:
    """e_machine of an ELF file from its first bytes (hex): two bytes at offset 18, in the byte
    order EI_DATA (byte 5) names (1 little-endian, 2 big-endian)."""
    head = bytes.fromhex(header_hex)
    return int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")


def check_e_machine(lab: Any, answer: Any) -> Verdict:
    """answer = {"riscv64": int, "loong64": int}: e_machine of each architecture's cross-built programs."""
    hint = "read bytes 18 and 19 of each header_hex, little-endian (int.from_bytes(..., 'little'))"
    if answer is None:
        return verdict(False, None, hint)
    try:
        want = {
            a: e_machine(next(iter(lab.cross_build(a)["binaries"].values()))["elf"]["header_hex"])
            for a in ("riscv64", "loong64")
        }
    except Exception as e:  # the builds are not there (no Go in live mode): say so, do not raise
        return verdict(False, answer, "", f"the cross-builds could not be read ({type(e).__name__}: {e}).")
    if not isinstance(answer, dict) or set(answer) != set(want):
        return verdict(False, answer, hint, "Answer with a dict keyed by 'riscv64' and 'loong64'.")
    wrong = {a: v for a, v in answer.items() if v != want[a]}
    if wrong:
        return verdict(False, answer, hint, f"{sorted(wrong)} do not match the header bytes.")
    return verdict(True, answer, why=f"EM_RISCV is {want['riscv64']} and EM_LOONGARCH is {want['loong64']}.")


def check_dropped_platforms(lab: Any, answer: Any) -> Verdict:
    """answer = the set of server platforms v1.20.0 built for that v1.37.2 does not."""
    from k8slearn.cluster import platforms

    hint = "compare the 'server' lists of the two releases in release_platforms()['releases']"
    if answer is None:
        return verdict(False, None, hint)
    try:
        rel = platforms.release_platforms()["releases"]
        want = set(rel["v1.20.0"]["server"]) - set(rel["v1.37.2"]["server"])
        got = set(answer)
    except Exception as e:
        return verdict(False, answer, hint, f"That is not a set of platform names ({type(e).__name__}).")
    return verdict(got == want, answer, hint, f"{sorted(want)} was dropped." if got == want else "")


def check_lost_fast_paths(lab: Any, answer: Any) -> Verdict:
    """answer = the non-standard-library packages of kube-apiserver that have assembly on amd64
    but none on loong64 (so run their pure-Go fallback there)."""
    hint = "lab.source_survey('loong64') compares every package's .s files with amd64's"
    if answer is None:
        return verdict(False, None, hint)
    try:
        want = set(lab.source_survey("loong64")["asm_only_reference"])
    except Exception as e:
        return verdict(False, answer, "", f"the survey could not be read ({type(e).__name__}: {e}).")
    try:
        got = set(answer)
    except TypeError:
        return verdict(False, answer, hint, "Answer with a set of import paths.")
    if got != want:
        missing, extra = sorted(want - got), sorted(got - want)
        why = (f"Missing {missing}. " if missing else "") + (f"Not among them: {extra}." if extra else "")
        return verdict(False, answer, hint, why.strip())
    return verdict(True, answer, why=f"{len(want)} packages fall back to pure Go on loong64.")
