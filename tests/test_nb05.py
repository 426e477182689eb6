"""Notebook 05 (encryption at rest): what it records, read back from a replay run.

The values are kube-apiserver v1.37.2's (live or recorded); these tests pin what it wrote."""

import pytest

NAME = "05-encryption-at-rest"


@pytest.fixture(scope="module")
def records(executed):
    return executed(NAME)


def test_the_notebook_exists():
    from conftest import NOTEBOOKS

    assert (NOTEBOOKS / f"{NAME}.ipynb").is_file()


def test_aescbc_writes_its_prefix(records):
    assert records["cbc_prefix"] == "k8s:enc:aescbc:v1:key1:"


def test_overheads_match_each_layout(records):
    o = records["overheads"]
    assert o["gcm-demo"] == 12 + 16 and o["box-demo"] == 24 + 16 and 17 <= o["cbc-demo"] <= 32


def test_migration_moved_every_secret_to_the_new_key(records):
    r = records["rotation"]
    assert r["after"] == ["k8s:enc:aescbc:v1:key2:"] and r["all_moved"]
    assert r["before"] == ["k8s:enc:aescbc:v1:key1:", "k8s:enc:aesgcm:v1:keyg:", "k8s:enc:secretbox:v1:key3:"]


def test_kms_plugin_saw_one_encrypt_per_kek(records):
    assert records["kms_first_calls"] == ["Encrypt", "Status"]
    assert records["kms_rotation"] == {"new_encrypt_key_ids": ["kek-2"], "kek1_decrypts": 1}
