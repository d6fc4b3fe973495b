import pytest

from assetmap import DataFormatError, load_taxonomy
from assetmap.record import normalise_columns, parse_elements


def test_framework_shape():
    tax = load_taxonomy()
    assert [p.key for p in tax.pillars] == ["scaling", "involving", "strengthening", "sustaining"]
    assert [e.id for e in tax.elements] == list(range(1, 12))
    assert tax.elements_of_pillar("Strengthening") == [6, 7, 8]
    assert tax.elements_of_pillar("sustaining") == [9, 10, 11]
    # Every element is served by at least one asset type.
    served = {i for t in tax.asset_types for i in t.elements}
    assert served == set(range(1, 12))


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Food bank or pantry", "food_bank"),
        ("food_bank", "food_bank"),
        ("FOODBANK", "food_bank"),
        ("Local authority run library", "library"),
        ("Residents' Association", "neighbourhood_forum"),
        ("Social Prescribing", "social_prescribing"),
        ("spaceship", None),
        ("", None),
    ],
)
def test_type_spellings(text, key):
    assert load_taxonomy().normalise_type(text) == key


def test_pillars_in_framework_order():
    assert load_taxonomy().pillars_of([11, 1, 6, 7]) == ["scaling", "strengthening", "sustaining"]


def test_authority_taxonomy_file_checked(tmp_path):
    f = tmp_path / "t.toml"
    f.write_text(
        '[[pillars]]\nkey="a"\nname="A"\n[[elements]]\nid=1\npillar="zzz"\nname="x"\n[[asset_types]]\n'
        'key="k"\nlabel="K"\nelements=[1]\n',
        encoding="utf-8",
    )
    with pytest.raises(DataFormatError, match="unknown pillar 'zzz'"):
        load_taxonomy(f)
    f.write_text("not toml [", encoding="utf-8")
    with pytest.raises(DataFormatError, match="TOML"):
        load_taxonomy(f)


def test_column_aliases():
    got = normalise_columns(["Group Name", "Category", "Post Code", "Lat", "Lng", "Opening Hours", "Other"])
    assert got == {
        "Group Name": "name",
        "Category": "type",
        "Post Code": "postcode",
        "Lat": "latitude",
        "Lng": "longitude",
        "Opening Hours": "opening_times",
    }


def test_parse_elements():
    assert parse_elements("6; 4, 6") == (4, 6)
    assert parse_elements("") is None
    with pytest.raises(ValueError, match="not an element"):
        parse_elements("12", {*range(1, 12)})
    with pytest.raises(ValueError, match="'x'"):
        parse_elements("1;x")
