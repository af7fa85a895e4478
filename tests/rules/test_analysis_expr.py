"""Table tests for simdeploy.rules.analysis_expr: the successCondition / failureCondition
language, valid and invalid expressions.

Rows marked ``upstream-`` follow argo-rollouts ``utils/evaluate/evaluate_test.go`` and the
analysis docs (NaN, Inf, ``isNil`` / ``default`` for empty results).
"""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdeploy.rules import analysis_expr
from simdeploy.rules.analysis_expr import (
    Condition,
    ConditionEvalError,
    InvalidCondition,
    parse_condition,
)

NAN = float("nan")
INF = float("inf")


# ============================================================================================
# Conditions: valid expressions
# ============================================================================================


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        pytest.param("result >= 0.99", 0.99, True, id="ge-boundary-inclusive"),
        pytest.param("result >= 0.99", 0.98, False, id="ge-below"),
        pytest.param("result > 0.99", 0.99, False, id="gt-boundary-exclusive"),
        pytest.param("result < 0.05", 0.01, True, id="lt"),
        pytest.param("result <= 0.05", 0.05, True, id="le-boundary"),
        pytest.param("result == 1", 1.0, True, id="eq"),
        pytest.param("result != 1", 1.0, False, id="ne"),
        pytest.param("0.99 <= result", 0.995, True, id="number-op-result"),
        pytest.param("0.05 > result", 0.1, False, id="number-op-result-false"),
        pytest.param("result>=0.99", 1.0, True, id="no-spaces"),
        pytest.param("result <= 1e-3", 0.0005, True, id="exponent-literal"),
        pytest.param("result >= .5", 0.5, True, id="leading-dot-literal"),
        pytest.param("result >= 5", 7, True, id="integer-literal-and-int-value"),
        pytest.param("result > -1", -0.5, True, id="negative-literal"),
        pytest.param("-result > -0.5", 0.4, True, id="negated-result"),
        pytest.param("result > 0.5 and result < 0.9", 0.7, True, id="and-word"),
        pytest.param("result > 0.5 && result < 0.9", 0.95, False, id="and-symbol"),
        pytest.param("result < 0.1 or result > 0.9", 0.95, True, id="or-word"),
        pytest.param("result < 0.1 || result > 0.9", 0.5, False, id="or-symbol"),
        pytest.param(
            "result < 0.1 or result > 0.2 and result < 0.3", 0.25, True, id="and-binds-tighter-1"
        ),
        pytest.param(
            "result < 0.1 or result > 0.2 and result < 0.3", 0.5, False, id="and-binds-tighter-2"
        ),
        pytest.param("(result < 0.1 or result > 0.2) and result < 0.3", 0.05, True, id="parens"),
        pytest.param("((result >= 0.99))", 0.999, True, id="nested-parens"),
        pytest.param("not (result > 1)", 0.5, True, id="not-word"),
        pytest.param("!(result > 1)", 2.0, False, id="not-symbol"),
        pytest.param("true", 0.0, True, id="literal-true"),
        pytest.param("false || result > 0", 1.0, True, id="literal-false"),
        pytest.param("isNaN(result) == true", NAN, True, id="bool-eq-bool"),
        # NaN compares false (IEEE, as Go)
        pytest.param("result >= 0.99", NAN, False, id="nan-ge-false"),
        pytest.param("result < 0.95", NAN, False, id="nan-lt-false"),
        pytest.param("result != 0.5", NAN, True, id="nan-ne-true"),
        pytest.param("isNaN(result)", NAN, True, id="isnan-nan"),
        pytest.param("isNaN(result)", 0.5, False, id="isnan-number"),
        pytest.param("isNaN(result) || result >= 0.95", NAN, True, id="upstream-docs-nan-ok"),
        pytest.param("!isNaN(result) && result >= 0.95", NAN, False, id="nan-guard-and"),
        pytest.param("result >= 0.95", INF, True, id="upstream-docs-inf-passes-ge"),
        pytest.param("isInf(result)", -INF, True, id="isinf-negative"),
        pytest.param("isInf(result)", 1e308, False, id="isinf-finite"),
        # no data (None): guarded conditions evaluate normally
        pytest.param("isNil(result)", None, True, id="isnil-no-data"),
        pytest.param("isNil(result)", 0.0, False, id="isnil-zero-is-data"),
        pytest.param(
            "isNil(result) || result >= 0.99", None, True, id="guard-first-short-circuits"
        ),
        pytest.param("isNil(result) || result >= 0.99", 0.5, False, id="guard-with-data"),
        pytest.param("default(result, 0) < 0.05", None, True, id="upstream-docs-default"),
        pytest.param("default(result, 1) < 0.05", None, False, id="default-used"),
        pytest.param("default(result, 1) < 0.05", 0.01, True, id="default-unused"),
        pytest.param("result == 1", None, False, id="eq-nil-false-no-error"),
        pytest.param("result != 1", None, True, id="ne-nil-true-no-error"),
    ],
)
def test_condition_evaluates(text: str, value: float | None, expected: bool) -> None:
    assert parse_condition(text).evaluate(value) is expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param("result >= 0.99", "'>=' with nil", id="ordering-needs-data"),
        pytest.param("0.5 < result", "'<' with nil", id="ordering-needs-data-reversed"),
        pytest.param("isNaN(result)", "isNaN() of nil", id="isnan-needs-data"),
        pytest.param("isInf(result)", "isInf() of nil", id="isinf-needs-data"),
        pytest.param("-result < 0", "'-' of nil", id="negation-needs-data"),
        pytest.param("result >= 0.99 || isNil(result)", "with nil", id="guard-last-too-late"),
    ],
)
def test_condition_without_data_cannot_be_evaluated(text: str, fragment: str) -> None:
    with pytest.raises(ConditionEvalError) as exc:
        parse_condition(text).evaluate(None)
    assert fragment in str(exc.value)
    assert repr(text) in str(exc.value)


# ============================================================================================
# Conditions: invalid expressions, rejected up front with a message
# ============================================================================================


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param("", "empty expression", id="empty"),
        pytest.param("   ", "empty expression", id="blank"),
        pytest.param("result", "is a number, not a condition", id="bare-result"),
        pytest.param("0.5", "is a number, not a condition", id="bare-number"),
        pytest.param("result[1] >= 0.95", "use result[0]", id="index-beyond-the-one-value"),
        pytest.param("len(foo) == 0", "len() takes `result`", id="len-of-a-name"),
        pytest.param("result = 1", "use '==' to compare", id="single-equals"),
        pytest.param("result > 1 & result < 2", "use '&&' or 'and'", id="single-ampersand"),
        pytest.param("result > 1 | result < 2", "use '||' or 'or'", id="single-pipe"),
        pytest.param("result == 'ok'", "strings are not supported", id="string-literal"),
        pytest.param("result == nil", "use isNil(result)", id="nil"),
        pytest.param("asFloat(result)", "is a number, not a condition", id="bare-asfloat"),
        pytest.param("foo > 1", "unknown name 'foo'", id="unknown-name"),
        pytest.param("Result > 1", "unknown name 'Result'", id="case-sensitive"),
        pytest.param("bar(result)", "unknown function 'bar'", id="unknown-function"),
        pytest.param("__import__(result)", "unknown function '__import__'", id="no-python"),
        pytest.param("result.real > 1", "unexpected character '.'", id="no-attributes"),
        pytest.param("result @ 1", "unexpected character '@'", id="bad-character"),
        pytest.param("result >= 0.99abc", "malformed number", id="malformed-number"),
        pytest.param("result > 1.5.2", "unexpected '.2'", id="two-dots"),
        pytest.param("0.9 < result < 1", "chained comparisons are not supported", id="chain"),
        pytest.param("result >=", "unexpected end of expression", id="missing-operand"),
        pytest.param("(result > 1", "expected ')'", id="unclosed-paren"),
        pytest.param("result > 1)", "unexpected ')'", id="extra-paren"),
        pytest.param("result > 1 result", "unexpected 'result'", id="trailing-token"),
        pytest.param("and result > 1", "unexpected 'and'", id="leading-and"),
        pytest.param("not result > 1", "'not' needs a condition", id="not-binds-tight"),
        pytest.param("result > 1 and 2", "'and' joins conditions", id="and-number"),
        pytest.param("result or result > 1", "'or' joins conditions", id="or-number"),
        pytest.param("isNaN(result) > 1", "'>' needs numbers on both sides", id="order-bool"),
        pytest.param("isNaN(result) == 1", "'==' compares a bool with a number", id="eq-mixed"),
        pytest.param("-isNaN(result)", "'-' needs a number", id="negate-bool"),
        pytest.param("isNaN()", "isNaN() takes 1 argument(s), got 0", id="arity-0"),
        pytest.param("isNaN(result, 1)", "isNaN() takes 1 argument(s), got 2", id="arity-2"),
        pytest.param("default(result) > 1", "default() takes 2 argument(s)", id="default-arity"),
        pytest.param(
            "default(0.5, 1) > 0", "takes `result` as its first argument", id="default-arg"
        ),
        pytest.param("isNil(0)", "takes `result` as its first argument", id="isnil-arg"),
        pytest.param("isNaN(result > 1)", "isNaN() takes numbers", id="isnan-bool-arg"),
    ],
)
def test_invalid_condition(text: str, fragment: str) -> None:
    with pytest.raises(InvalidCondition) as exc:
        parse_condition(text)
    message = str(exc.value)
    assert message.startswith(f"invalid condition {text!r}: ")
    assert fragment in message


def test_invalid_condition_is_a_value_error_with_column() -> None:
    with pytest.raises(ValueError, match=r"\(column 8\)$"):
        parse_condition("result[1] >= 0.95")


def test_non_string_condition_is_rejected() -> None:
    with pytest.raises(InvalidCondition, match="expected a string"):
        parse_condition(0.99)  # type: ignore[arg-type]


def test_conditions_compare_by_text() -> None:
    assert parse_condition("result > 1") == parse_condition("result > 1")
    assert str(parse_condition("result > 1")) == "result > 1"
    assert hash(parse_condition("result > 1")) == hash(parse_condition("result > 1"))


@given(st.text(max_size=40))
def test_parse_never_raises_anything_but_invalid_condition(text: str) -> None:
    try:
        c = parse_condition(text)
    except InvalidCondition:
        return
    assert isinstance(c, Condition)


@given(
    st.sampled_from(
        [
            "result >= 0.99",
            "isNaN(result) || result < 0.5",
            "not (result > 1) and result != 0",
            "default(result, 0) <= -1e3 or isInf(result)",
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True),
)
def test_conditions_evaluate_every_float(text: str, value: float) -> None:
    assert parse_condition(text).evaluate(value) in (True, False)


# ============================================================================================
# Docstring examples
# ============================================================================================


def test_docstring_examples() -> None:
    result = doctest.testmod(analysis_expr, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 5
    assert result.failed == 0


# --- the vector forms of Argo's Prometheus provider ------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        pytest.param("result[0] >= 0.95", 0.97, True, id="index-0-passes"),
        pytest.param("result[0] >= 0.95", 0.90, False, id="index-0-fails"),
        pytest.param("len(result) > 0 && result[0] < 0.5", 0.2, True, id="len-guard"),
        pytest.param("len(result) == 0", None, True, id="len-of-no-data"),
        pytest.param("len(result) == 1", 0.0, True, id="len-of-one-value"),
        # Argo's docs with the web provider: asFloat / asInt of a JSON value.
        pytest.param("asFloat(result) >= 0.9", 0.95, True, id="as-float"),
        pytest.param("asInt(result) == 2", 2.9, True, id="as-int-truncates"),
        pytest.param("asInt(result) == -2", -2.9, True, id="as-int-toward-zero"),
    ],
)
def test_vector_forms(text: str, value: float | None, expected: bool) -> None:
    assert parse_condition(text).evaluate(value) is expected


@pytest.mark.parametrize("text", ["result[0] >= 0.95", "result[0] == 1"])
def test_index_of_no_data_cannot_be_evaluated(text: str) -> None:
    # Upstream: an empty vector, so result[0] is out of range, whatever it is compared with
    # (plain `result == 1` with no data is simply false).
    with pytest.raises(ConditionEvalError, match="result\\[0\\] of an empty result"):
        parse_condition(text).evaluate(None)
    assert parse_condition("result == 1").evaluate(None) is False
