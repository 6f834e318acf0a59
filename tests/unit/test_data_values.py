"""Every normalisation and refusal of one cell (schema/values.py), table by table."""

from __future__ import annotations

import pytest

from fedledger.schema import values
from fedledger.schema.values import (
    ALPHA3,
    BOOL_WORD,
    CASE,
    COUNTRY_NAME,
    NUMERIC_CODE,
    TRIMMED,
    Outcome,
)

COUNTRIES = ("BR", "US", "NA", "DE")
NOT_A_COUNTRY = (
    "not an ISO 3166 country: write its alpha-2 code (e.g. BR), alpha-3 code or English name"
)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("BR", Outcome("BR", "BR")),
        (" br ", Outcome("BR", "BR", (TRIMMED, CASE))),
        ("br", Outcome("BR", "BR", (CASE,))),
        ("Brazil", Outcome("BR", "BR", (COUNTRY_NAME,))),
        ("brazil", Outcome("BR", "BR", (COUNTRY_NAME,))),
        ("BRA", Outcome("BR", "BR", (ALPHA3,))),
        ("bra ", Outcome("BR", "BR", (TRIMMED, ALPHA3))),
        ("076", Outcome("BR", "BR", (NUMERIC_CODE,))),
        ("76", Outcome("BR", "BR", (NUMERIC_CODE,))),
        ("United States", Outcome("US", "US", (COUNTRY_NAME,))),
        ("USA", Outcome("US", "US", (ALPHA3,))),
        ("Germany", Outcome("DE", "DE", (COUNTRY_NAME,))),
        ("NA", Outcome("NA", "NA")),  # Namibia, not a missing value
        ("Namibia", Outcome("NA", "NA", (COUNTRY_NAME,))),
        ("France", values.refused("the country FR is not one of the categories (BR, US, NA, DE)")),
        ("FRA", values.refused("the country FR is not one of the categories (BR, US, NA, DE)")),
        ("UK", values.refused(NOT_A_COUNTRY)),  # ISO 3166 writes GB
        ("Brasil", values.refused(NOT_A_COUNTRY)),
        ("XX", values.refused(NOT_A_COUNTRY)),
        ("XYZ", values.refused(NOT_A_COUNTRY)),
        ("999", values.refused(NOT_A_COUNTRY)),
    ],
)
def test_country(cell: str, expected: Outcome) -> None:
    assert values.country(cell, COUNTRIES) == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("retail", Outcome("retail", "retail")),
        ("  retail", Outcome("retail", "retail", (TRIMMED,))),
        ("Retail", Outcome("retail", "retail", (CASE,))),
        (" RETAIL ", Outcome("retail", "retail", (TRIMMED, CASE))),
        ("SME", Outcome("SME", "SME")),
        ("sme", Outcome("SME", "SME", (CASE,))),
        ("a", Outcome("a", "a")),
        # "a" and "A" are both categories: a case variant of both is not guessed.
        ("a ", Outcome("a", "a", (TRIMMED,))),
        ("retial", values.refused("not one of the categories (retail, SME, a, A)")),
    ],
)
def test_category(cell: str, expected: Outcome) -> None:
    assert values.label(cell, ("retail", "SME", "a", "A")) == expected


def test_a_case_variant_of_two_categories_is_refused() -> None:
    assert values.label("Aa", ("aa", "AA")) == values.refused("not one of the categories (aa, AA)")


def test_long_category_lists_are_shortened_in_refusals() -> None:
    labels = tuple(f"c{i}" for i in range(8))
    assert values.label("x", labels, "classes") == values.refused(
        "not one of the classes (c0, c1, c2, c3, c4, ... 8 in all)"
    )


NOT_A_BOOLEAN = "not a boolean: write true or false (yes/no, y/n, 1/0 and on/off are read too)"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("true", Outcome("true", True)),
        ("false", Outcome("false", False)),
        ("1", Outcome("1", True)),
        ("0", Outcome("0", False)),
        (" true", Outcome("true", True, (TRIMMED,))),
        ("TRUE", Outcome("true", True, (BOOL_WORD,))),
        ("False", Outcome("false", False, (BOOL_WORD,))),
        ("yes", Outcome("true", True, (BOOL_WORD,))),
        ("Y", Outcome("true", True, (BOOL_WORD,))),
        ("no", Outcome("false", False, (BOOL_WORD,))),
        ("n ", Outcome("false", False, (TRIMMED, BOOL_WORD))),
        ("t", Outcome("true", True, (BOOL_WORD,))),
        ("F", Outcome("false", False, (BOOL_WORD,))),
        ("on", Outcome("true", True, (BOOL_WORD,))),
        ("OFF", Outcome("false", False, (BOOL_WORD,))),
        (True, Outcome("true", True)),
        (False, Outcome("false", False)),
        (1, Outcome("1", True)),
        (0.0, Outcome("0", False)),
        ("maybe", values.refused(NOT_A_BOOLEAN)),
        ("2", values.refused(NOT_A_BOOLEAN)),
        ("1.0", values.refused(NOT_A_BOOLEAN)),
        ("si", values.refused(NOT_A_BOOLEAN)),
    ],
)
def test_boolean(cell: object, expected: Outcome) -> None:
    assert values.boolean(cell) == expected


NOT_A_NUMBER = "not a number: write digits with a decimal point, e.g. 1250.5"
NOT_WHOLE = "not a whole number, and the feature is int: round it or declare float"


@pytest.mark.parametrize(
    ("cell", "integer", "expected"),
    [
        ("1250.5", False, Outcome("1250.5", 1250.5)),
        (" 1250.5 ", False, Outcome("1250.5", 1250.5, (TRIMMED,))),
        ("-3", False, Outcome("-3", -3.0)),
        ("+.5", False, Outcome("+.5", 0.5)),
        ("1e3", False, Outcome("1e3", 1000.0)),
        ("7.", True, Outcome("7.", 7.0)),
        ("12", True, Outcome("12", 12.0)),
        ("12.0", True, Outcome("12.0", 12.0)),
        (12.5, False, Outcome("12.5", 12.5)),
        (3, True, Outcome("3", 3.0)),
        ("12.5", True, values.refused(NOT_WHOLE)),
        (2.5, True, values.refused(NOT_WHOLE)),
        ("1,250.5", False, values.refused(NOT_A_NUMBER)),
        ("12,5", False, values.refused(NOT_A_NUMBER)),
        ("1_000", False, values.refused(NOT_A_NUMBER)),
        ("$12", False, values.refused(NOT_A_NUMBER)),
        ("inf", False, values.refused(NOT_A_NUMBER)),
        ("1e999", False, values.refused("not a finite number")),
        (float("inf"), False, values.refused("not a finite number")),
        (
            True,
            False,
            values.refused("not a number but a boolean: declare the feature as type: bool"),
        ),
        (
            " TRUE",
            True,
            values.refused("not a number but a boolean: declare the feature as type: bool"),
        ),
    ],
)
def test_number(cell: object, integer: bool, expected: Outcome) -> None:
    assert values.number(cell, integer=integer) == expected


@pytest.mark.parametrize(
    ("cell", "tokens", "missing"),
    [
        ("", values.MISSING_TOKENS, True),
        ("  ", values.MISSING_TOKENS, True),
        ("NA", values.MISSING_TOKENS, True),
        (" null ", values.MISSING_TOKENS, True),
        (None, values.MISSING_TOKENS, True),
        (float("nan"), values.MISSING_TOKENS, True),
        ("0", values.MISSING_TOKENS, False),
        ("NA", frozenset({""}), False),
        ("", frozenset({""}), True),
    ],
)
def test_missing(cell: object, tokens: frozenset[str], missing: bool) -> None:
    assert values.is_missing(cell, tokens) is missing
