"""A data file read against a schema (schema/conform.py), sanitised (schema/sanitise.py), and
read the same way by a validator's holdout (evaluate/holdout.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fedledger.evaluate.errors import HoldoutError
from fedledger.evaluate.holdout import Holdout
from fedledger.schema.conform import DataFileError, Finding, conform_file
from fedledger.schema.sanitise import SanitiseError, sanitise_file
from fedledger.schema.types import Schema

SCHEMA = Schema.from_dict(
    {
        "features": [
            {
                "name": "country",
                "type": "category",
                "categories": ["BR", "US"],
                "format": "iso3166-alpha2",
            },
            {"name": "income", "type": "float", "nullable": True},
            {"name": "age", "type": "int"},
            {"name": "paid", "type": "bool"},
            {"name": "segment", "type": "category", "categories": ["retail", "corporate"]},
        ],
        "target": {"name": "default", "type": "category", "classes": ["no", "yes"]},
    }
)
AGREED = """loan,country,income,age,paid,segment,default
a1,BR,1200.5,34,true,retail,no
a2,US,,45,0,corporate,yes
"""
MESSY = """loan,country,income,age,paid,segment,default
a1,Brazil, 1200.5 ,34,yes,Retail ,NO
a2, us ,NA,45,N,corporate,yes
a3,BRA,abc,51.5,maybe,xx,no
a4,Germany,10,29,true,retail,
"""
NOT_A_NUMBER = "not a number: write digits with a decimal point, e.g. 1250.5"


def write(folder: Path, text: str, name: str = "data.csv") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_in_the_agreed_shape_has_no_findings(tmp_path: Path) -> None:
    conformed = conform_file(write(tmp_path, AGREED), SCHEMA)
    assert list(conformed.findings()) == []
    assert (conformed.refused, conformed.fixable, conformed.rows) == (0, 0, 2)
    assert conformed.frame.to_csv(index=False) == AGREED


def test_every_cell_out_of_shape_is_found_by_row_as_a_user_counts_it(tmp_path: Path) -> None:
    conformed = conform_file(write(tmp_path, MESSY), SCHEMA)
    assert [str(f) for f in conformed.findings()] == [
        "row 2, country 'Brazil' -> 'BR' (country name to alpha-2)",
        "row 2, income ' 1200.5 ' -> '1200.5' (trimmed whitespace)",
        "row 2, paid 'yes' -> 'true' (boolean word to true/false)",
        "row 2, segment 'Retail ' -> 'retail' (trimmed whitespace, matched ignoring case)",
        "row 2, default 'NO' -> 'no' (matched ignoring case)",
        "row 3, country ' us ' -> 'US' (trimmed whitespace, matched ignoring case)",
        "row 3, paid 'N' -> 'false' (boolean word to true/false)",
        "row 4, country 'BRA' -> 'BR' (alpha-3 code to alpha-2)",
        f"row 4, income 'abc': {NOT_A_NUMBER}",
        "row 4, age '51.5': not a whole number, and the feature is int: round it or declare float",
        "row 4, paid 'maybe': not a boolean: write true or false (yes/no, y/n, 1/0 and on/off "
        "are read too)",
        "row 4, segment 'xx': not one of the categories (retail, corporate)",
        "row 5, country 'Germany': the country DE is not one of the categories (BR, US)",
        "row 5, default '': missing target: every row needs one",
    ]
    assert conformed.refused_rows.tolist() == [False, False, True, True]
    assert (conformed.refused, conformed.fixable) == (6, 8)


def test_refusals_only_and_their_one_line_description(tmp_path: Path) -> None:
    conformed = conform_file(write(tmp_path, MESSY), SCHEMA)
    refused = list(conformed.findings(fixable=False))
    assert refused[0] == Finding(4, "income", "abc", NOT_A_NUMBER)
    assert conformed.describe_refusals(limit=1) == (
        f"6 value(s) cannot be used: row 4, income 'abc': {NOT_A_NUMBER}; ..."
    )


def test_missing_column_and_missing_non_nullable_value(tmp_path: Path) -> None:
    text = "country,income,paid,segment,default\nBR,1,true,,no\n"
    conformed = conform_file(write(tmp_path, text), SCHEMA)
    assert [str(f) for f in conformed.findings()] == [
        "column age: missing column: the schema has this field",
        "row 2, segment '': missing, and the feature is not nullable: fill it in or declare "
        "nullable: true",
    ]


def test_parquet_rows_count_from_one_and_typed_cells_are_read(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "country": ["BR", "Brazil"],
            "income": [1.5, np.nan],
            "age": [3, 4],
            "paid": [True, False],
            "segment": ["retail", "nope"],
            "default": ["no", "yes"],
        }
    )
    path = tmp_path / "data.parquet"
    frame.to_parquet(path)
    conformed = conform_file(path, SCHEMA)
    assert [str(f) for f in conformed.findings()] == [
        "row 2, country 'Brazil' -> 'BR' (country name to alpha-2)",
        "row 2, segment 'nope': not one of the categories (retail, corporate)",
    ]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("absent.csv", None, "absent.csv: no such file"),
        ("data.xlsx", "x", "data.xlsx: unsupported file type '.xlsx'; use .csv or .parquet"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, text: str | None, message: str) -> None:
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    with pytest.raises(DataFileError) as info:
        conform_file(path, SCHEMA)
    assert str(info.value) == f"{tmp_path}/{message}"


def test_sanitise_writes_the_agreed_shape_and_counts_changes(tmp_path: Path) -> None:
    source = write(tmp_path, MESSY.replace("a3,BRA,abc,51.5,maybe,xx,no\n", ""))
    source = write(tmp_path, source.read_text().replace("a4,Germany,10,29,true,retail,\n", ""))
    before = source.read_bytes()
    result = sanitise_file(source, tmp_path / "out.csv", SCHEMA)
    assert (tmp_path / "out.csv").read_text() == (
        "loan,country,income,age,paid,segment,default\n"
        "a1,BR,1200.5,34,true,retail,no\n"
        "a2,US,NA,45,false,corporate,yes\n"
    )
    assert source.read_bytes() == before
    assert result.changes == {
        ("country", "country name to alpha-2"): 1,
        ("country", "trimmed whitespace"): 1,
        ("country", "matched ignoring case"): 1,
        ("income", "trimmed whitespace"): 1,
        ("paid", "boolean word to true/false"): 2,
        ("segment", "trimmed whitespace"): 1,
        ("segment", "matched ignoring case"): 1,
        ("default", "matched ignoring case"): 1,
    }
    assert list(conform_file(tmp_path / "out.csv", SCHEMA).findings()) == []


def test_sanitise_writes_nothing_when_a_row_cannot_be_normalised(tmp_path: Path) -> None:
    source = write(tmp_path, MESSY)
    with pytest.raises(SanitiseError) as info:
        sanitise_file(source, tmp_path / "out.csv", SCHEMA)
    assert str(info.value) == (
        f"{source}: 2 row(s) have values that cannot be normalised (rows 4, 5); nothing was "
        "written: correct them (`fedledger data check` lists each), or pass --rejects FILE to "
        "write the other rows and set these aside"
    )
    assert info.value.conformed is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def test_sanitise_with_rejects_sets_the_refused_rows_aside_as_read(tmp_path: Path) -> None:
    source = write(tmp_path, MESSY)
    result = sanitise_file(source, tmp_path / "out.csv", SCHEMA, rejects=tmp_path / "rejects.csv")
    assert (result.written, result.rejected) == (2, 2)
    rejects = pd.read_csv(tmp_path / "rejects.csv", dtype=str, keep_default_na=False)
    assert rejects["_row"].tolist() == ["4", "5"]
    assert rejects["country"].tolist() == ["BRA", "Germany"]
    assert rejects["_problems"].tolist()[1] == (
        "country: the country DE is not one of the categories (BR, US); "
        "default: missing target: every row needs one"
    )
    assert ("country", "alpha-3 code to alpha-2") not in result.changes  # row 4 is not written
    assert len(pd.read_csv(tmp_path / "out.csv")) == 2


@pytest.mark.parametrize(
    ("out", "rejects", "message"),
    [
        (
            "data.csv",
            None,
            "--out {d}/data.csv is the input file; the input is never changed: "
            "write to another file",
        ),
        (
            "existing.csv",
            None,
            "--out {d}/existing.csv exists; nothing was written: remove it, "
            "choose another name, or pass --overwrite",
        ),
        ("out.csv", "out.csv", "--rejects and --out are the same file {d}/out.csv: name two files"),
        (
            "nowhere/out.csv",
            None,
            "--out {d}/nowhere/out.csv: the folder {d}/nowhere does not exist",
        ),
    ],
)
def test_sanitise_refuses_to_lose_a_file(
    tmp_path: Path, out: str, rejects: str | None, message: str
) -> None:
    source = write(tmp_path, AGREED)
    write(tmp_path, "keep me", "existing.csv")
    with pytest.raises(SanitiseError) as info:
        sanitise_file(
            source,
            tmp_path / out,
            SCHEMA,
            rejects=None if rejects is None else tmp_path / rejects,
        )
    assert str(info.value) == message.format(d=tmp_path)
    assert source.read_text() == AGREED
    assert (tmp_path / "existing.csv").read_text() == "keep me"


def test_sanitise_refuses_a_missing_column_even_with_rejects(tmp_path: Path) -> None:
    source = write(tmp_path, "country,default\nBR,no\n")
    with pytest.raises(SanitiseError, match="has no column income, age, paid, segment"):
        sanitise_file(source, tmp_path / "o.csv", SCHEMA, rejects=tmp_path / "r.csv")
    assert not (tmp_path / "o.csv").exists()
    assert not (tmp_path / "r.csv").exists()


def test_a_holdout_is_read_as_data_check_reads_it(tmp_path: Path) -> None:
    agreed = write(tmp_path, AGREED)
    with Holdout.load(agreed, SCHEMA) as holdout:
        frame = holdout.frame
    assert frame["country"].tolist() == ["BR", "US"]
    assert frame["income"].tolist()[0] == 1200.5
    assert np.isnan(frame["income"].tolist()[1])
    assert frame["paid"].tolist() == [True, False]
    assert holdout.y.tolist() == [0, 1]
    messy = write(tmp_path, MESSY.replace("a3,BRA,abc,51.5,maybe,xx,no\n", ""), "messy.csv")
    messy.write_text(messy.read_text().replace("a4,Germany,10,29,true,retail,\n", ""))
    with Holdout.load(messy, SCHEMA) as normalised:
        assert normalised.frame["country"].tolist() == ["BR", "US"]
        assert normalised.frame["paid"].tolist() == [True, False]


def test_a_holdout_with_refused_cells_names_the_rows(tmp_path: Path) -> None:
    path = write(tmp_path, MESSY)
    with pytest.raises(HoldoutError) as info:
        Holdout.load(path, SCHEMA)
    assert str(info.value).startswith(
        f"holdout {path} does not match the task schema: 6 value(s) cannot be used: "
        f"row 4, income 'abc': {NOT_A_NUMBER}; "
    )
    assert str(info.value).endswith(
        f"; ...; `fedledger data check --task <task> {path}` lists every row"
    )
