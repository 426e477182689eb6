"""The command line's one error rule, and record refusing bad input before it writes anything."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from k8slearn.errors import K8sLearnError


def run(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "k8slearn", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, **(env or {})),
    )


def test_version_and_every_verb_says_what_it_does():
    out = run("--version")
    assert out.returncode == 0 and out.stdout.startswith("k8slearn ")
    for verb in ("doctor", "cluster", "record", "decode", "encode", "schema"):
        help_text = run(verb, "--help")
        assert help_text.returncode == 0 and "usage: k8slearn " + verb in help_text.stdout, verb
        assert len(help_text.stdout.split("\n\n")[1].strip()) > 20, f"{verb} --help has no description"


def test_an_error_is_one_line_and_exit_code_1(tmp_path):
    out = run("record", "99-no-such-notebook", env={"KUBECONFIG": str(tmp_path / "none")})
    assert out.returncode == 1
    assert out.stderr.startswith("k8slearn: no notebook named 99-no-such-notebook")
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_record_of_an_unknown_notebook_touches_no_recording(tmp_path, monkeypatch):
    from k8slearn.recording import record

    monkeypatch.setenv("K8SLEARN_RECORDINGS", str(tmp_path))
    with pytest.raises(K8sLearnError, match="no notebook named nosuch"):
        record.record_live(["nosuch"])
    assert list(tmp_path.iterdir()) == []


def test_a_hint_is_printed_under_the_message(capsys, monkeypatch):
    from k8slearn import cli

    def boom(args):
        raise K8sLearnError("something is wrong", hint="do this instead")

    parser_factory = cli.build_parser

    def patched():
        p = parser_factory()
        p._subparsers._group_actions[0].choices["doctor"].set_defaults(func=boom)
        return p

    monkeypatch.setattr(cli, "build_parser", patched)
    assert cli.main(["doctor"]) == 1
    err = capsys.readouterr().err
    assert err == "k8slearn: something is wrong\n  hint: do this instead\n"
