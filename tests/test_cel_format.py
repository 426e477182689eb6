"""Kubernetes format library and the transformMap/transformMapEntry macros in k8slearn.cel.

Expected values: the examples table of "Kubernetes format library" on
https://kubernetes.io/docs/reference/using-api/cel/ , the examples in the doc comment of
staging/src/k8s.io/apiserver/pkg/cel/library/format.go (all valid inputs), and the error
messages of staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go."""

import pytest

import k8slearn.cel as kc
from k8slearn.cel import lib_format

LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
    "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
    "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


def obj(name):
    return {"self": {"metadata": {"name": name}}}


# docs table: a validation rule and a messageExpression
def test_docs_rule_valid_name():
    assert kc.evaluate("!format.dns1123Label().validate(self.metadata.name).hasValue()", obj("my-name")) is True


def test_docs_rule_invalid_name():
    assert kc.evaluate("!format.dns1123Label().validate(self.metadata.name).hasValue()", obj("My_Name")) is False


def test_docs_message_expression_valid_is_empty_string():
    expr = 'format.dns1123Label().validate(self.metadata.name).orValue([]).join("\\n")'
    assert kc.evaluate(expr, obj("my-name")) == ""


def test_docs_message_expression_lists_the_errors():
    expr = 'format.dns1123Label().validate(self.metadata.name).orValue([]).join("\\n")'
    assert kc.evaluate(expr, obj("x" * 64 + "_")) == "must be no more than 63 characters\n" + LABEL_MSG


# format.go doc comment examples: each one is valid
GO_EXAMPLES = [
    ("dns1123Label", "my-label-name"),
    ("dns1123Subdomain", "apiextensions.k8s.io"),
    ("dns1035Label", "my-label-name"),
    ("qualifiedName", "apiextensions.k8s.io/v1beta1"),
    ("dns1123LabelPrefix", "my-label-prefix-"),
    ("dns1123SubdomainPrefix", "mysubdomain.prefix.-"),
    ("dns1035LabelPrefix", "my-label-prefix-"),
    ("uri", "http://example.com"),
    ("uuid", "123e4567-e89b-12d3-a456-426614174000"),
    ("byte", "aGVsbG8="),
    ("date", "2021-01-01"),
    ("datetime", "2021-01-01T00:00:00Z"),
    ("labelValue", ""),
]


@pytest.mark.parametrize("name,value", GO_EXAMPLES)
def test_go_doc_examples_are_valid(name, value):
    assert kc.evaluate(f"format.{name}().validate(v).hasValue()", {"v": value}) is False
    assert kc.evaluate(f"format.named('{name}').value().validate(v).hasValue()", {"v": value}) is False


INVALID = [
    ("dns1123Label", "a.b", ["must not contain dots"]),
    ("dns1123Label", "-a", [LABEL_MSG]),
    (
        "dns1123Subdomain",
        "A.com",
        [
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
            "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
            "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        ],
    ),
    (
        "dns1035Label",
        "1abc",
        [
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
            "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
            "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
        ],
    ),
    ("qualifiedName", "/x", ["prefix part must be non-empty"]),
    (
        "qualifiedName",
        "a/",
        [
            "name part must be non-empty",
            "name part must consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character (e.g. 'MyName',"
            "  or 'my.name',  or '123-abc', regex used for validation is "
            "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        ],
    ),
    ("labelValue", "x" * 64, ["must be no more than 63 characters"]),
    ("dns1123Label", "my-label-prefix-", [LABEL_MSG]),
    ("uuid", "not-a-uuid", ["does not match the UUID format"]),
    ("byte", "aGVsbG8", ["invalid base64"]),
    ("date", "2021-02-30", ["invalid date"]),
    ("datetime", "2021-01-01", ["invalid datetime"]),
]


@pytest.mark.parametrize("name,value,errors", INVALID)
def test_invalid_values_give_kubernetes_messages(name, value, errors):
    assert kc.evaluate(f"format.{name}().validate(v).value()", {"v": value}) == errors
    assert lib_format.validate(name, value) == errors


def test_uri_relative_reference_is_invalid():
    errs = kc.evaluate("format.uri().validate('example.com').orValue([])")
    assert len(errs) == 1 and errs[0].startswith('parse "example.com": ')


def test_named_unknown_is_none_and_known_is_present():
    assert kc.evaluate("format.named('nope').hasValue()") is False
    assert kc.evaluate("format.named('uuid').hasValue()") is True
    assert kc.evaluate("format.named('nope').orValue(format.uuid()).validate('x').value()") == [
        "does not match the UUID format"
    ]


def test_valid_result_is_optional_none():
    assert kc.evaluate("format.labelValue().validate('ok') == optional.none()") is True
    assert kc.evaluate("format.labelValue().validate('-') != optional.none()") is True


def test_format_value_comes_back_as_kube_value():
    assert kc.evaluate("format.dns1123Label()") == kc.KubeValue("kubernetes.Format", "dns1123Label")


def test_validate_is_type_checked():
    with pytest.raises(kc.CELError) as e:
        kc.compile("format.dns1123Label().validate(1)")
    assert e.value.phase == "compile" and "validate" in str(e.value)


def test_optional_result_at_top_level_is_a_clear_error():
    with pytest.raises(kc.CELError, match="optional value"):
        kc.evaluate("format.dns1123Label().validate('-')")


def test_compiled_program_is_reusable():
    p = kc.compile("self.all(n, !format.dns1123Label().validate(n).hasValue())", ["self"])
    assert p.evaluate({"self": ["a", "b-c"]}) is True
    assert p.evaluate({"self": ["a", "B"]}) is False


def test_strings_format_is_untouched():
    assert kc.evaluate("'%s-%d'.format(['a', 1])") == "a-1"


# two-variable comprehension macros (cel-spec extension "two-var-comprehensions")
def test_transform_map():
    assert kc.evaluate("{'a': 1, 'b': 2}.transformMap(k, v, v * 10)") == {"a": 10, "b": 20}


def test_transform_map_with_filter():
    assert kc.evaluate("{'a': 1, 'b': 2}.transformMap(k, v, v > 1, k + string(v))") == {"b": "b2"}


def test_transform_map_over_a_list_uses_index_and_value():
    assert kc.evaluate("['x', 'y'].transformMap(i, v, v + string(i))") == {0: "x0", 1: "y1"}


def test_transform_map_entry():
    assert kc.evaluate("{'a': 'x', 'b': 'y'}.transformMapEntry(k, v, {v: k})") == {"x": "a", "y": "b"}


def test_transform_map_entry_with_filter_and_variables():
    expr = "self.transformMapEntry(k, v, v != 0, {k + '!': v})"
    assert kc.evaluate(expr, {"self": {"a": 0, "b": 1}}) == {"b!": 1}


def test_transform_map_entry_duplicate_key_is_an_error():
    with pytest.raises(kc.CELError) as e:
        kc.evaluate("[1, 2].transformMapEntry(i, v, {'k': v})")
    assert e.value.phase == "eval" and "already exists" in str(e.value)


def test_transform_list_still_works():
    assert kc.evaluate("[1, 2].transformList(i, v, i + v)") == [1, 3]


def test_crd_rule_and_message_expression_use_the_format_library():
    crd = {
        "spec": {
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {"host": {"type": "string"}},
                                    "x-kubernetes-validations": [
                                        {
                                            "rule": "!format.dns1123Subdomain().validate(self.host).hasValue()",
                                            "messageExpression": "format.dns1123Subdomain().validate(self.host).orValue([]).join('; ')",
                                        }
                                    ],
                                }
                            },
                        }
                    },
                }
            ]
        }
    }
    assert kc.validate_crd(crd, {"spec": {"host": "example.com"}}) == []
    (violation,) = kc.validate_crd(crd, {"spec": {"host": "Example.com"}})
    assert "a lowercase RFC 1123 subdomain" in str(violation)


def test_prefix_formats_mask_a_trailing_dash_like_go():
    # generic.go maskTrailingDash: name[:len(name)-2] + "a" when len > 1 and it ends in '-'
    assert kc.evaluate("format.dns1123LabelPrefix().validate('a-').hasValue()") is False
    assert kc.evaluate("format.dns1123LabelPrefix().validate('-').hasValue()") is True
    assert kc.evaluate("format.dns1035LabelPrefix().validate('1-').hasValue()") is False
