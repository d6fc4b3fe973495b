"""An area's units: their label, how one is named on a page, and finding one by code or name."""

from __future__ import annotations

import pandas as pd
import pytest

from assetmap._errors import AreaError, ValidationError
from assetmap.area.units import UnitLabel, find_unit, find_units, singular_of, unit_title

UNITS = pd.DataFrame(
    {
        "code": ["E05000001", "E05000002", "E05000003", "West", "E05000005"],
        "name": ["Northgate", "North End", "Southfield", "West", None],
    }
)


@pytest.mark.parametrize(
    ("plural", "singular"),
    [
        ("Wards", "Ward"),
        ("Localities", "Locality"),
        ("Neighbourhoods", "Neighbourhood"),
        ("PCN neighbourhoods", "PCN neighbourhood"),
        ("Parishes", "Parish"),
        ("Areas", "Area"),
    ],
)
def test_singular_is_derived_from_the_plural(plural, singular):
    assert singular_of(plural) == singular
    assert UnitLabel.of(plural) == UnitLabel(plural, singular)


def test_label_forms_inside_a_sentence_keep_acronyms():
    assert UnitLabel.of("  localities ").plural == "Localities"
    assert UnitLabel.of("Localities").singular_lower == "locality"
    assert UnitLabel.of("PCN neighbourhoods").plural_lower == "PCN neighbourhoods"
    assert UnitLabel.of(None) == UnitLabel("Wards", "Ward")
    assert UnitLabel.of("Quarters", "Quarter of town").singular == "Quarter of town"
    with pytest.raises(AreaError, match="--boundary-label is blank"):
        UnitLabel.of("  ", source="--boundary-label")


def test_a_unit_whose_name_is_its_code_or_blank_is_named_once():
    assert unit_title("Northgate", "E05000001") == "Northgate (E05000001)"
    assert unit_title("West", "West") == "West"
    assert unit_title(" west ", "West") == "West"
    assert unit_title(None, "E05000005") == "E05000005"
    assert unit_title(float("nan"), "E05000005") == "E05000005"
    assert unit_title("", "E05000005") == "E05000005"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("E05000001", "E05000001"),
        (" e05000002 ", "E05000002"),
        ("northgate", "E05000001"),
        ("  NORTH   end ", "E05000002"),
        ("south", "E05000003"),  # the one name that holds it
        ("west", "West"),
    ],
)
def test_find_unit_by_code_or_name(text, code):
    assert find_unit(UNITS, text) == code


def test_an_exact_name_wins_over_names_that_contain_it():
    units = pd.DataFrame({"code": ["A", "B"], "name": ["Moss Side", "Moss Side East"]})
    assert find_unit(units, "moss side") == "A"


def test_several_matches_are_listed_with_the_flag():
    with pytest.raises(ValidationError) as caught:
        find_unit(UNITS, "north", label=UnitLabel.of("Localities"), flag="--ward")
    text = str(caught.value)
    assert text.startswith("--ward 'north': 2 localities have a name with 'north' in it.")
    assert "Did you mean: Northgate (E05000001), North End (E05000002)?" in text
    assert "locality's code" in text


def test_no_match_suggests_close_names_or_lists_some():
    with pytest.raises(ValidationError) as caught:
        find_unit(UNITS, "Nothgate", area_name="Tinyborough", flag="--ward")
    text = str(caught.value)
    assert "--ward 'Nothgate': no ward with code or name 'Nothgate' in Tinyborough." in text
    assert "Did you mean: Northgate (E05000001)" in text
    with pytest.raises(ValidationError, match="Use the code or name of one of its wards, such as Northgate"):
        find_unit(UNITS, "zzzz")
    with pytest.raises(ValidationError, match="no ward with code or name ''"):
        find_unit(UNITS, "   ")


def test_find_units_reports_every_bad_text_and_drops_repeats():
    assert find_units(UNITS, ["northgate", "E05000001", "west"]) == ["E05000001", "West"]
    with pytest.raises(ValidationError) as caught:
        find_units(UNITS, ["zzzz", "north", "Southfield"], flag="--ward")
    assert [p.message.split(":")[0] for p in caught.value.problems] == ["--ward 'zzzz'", "--ward 'north'"]
