"""The contact data document: JSON schema validation, the override merge, search normalization."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from backend.errors import Invalid
from directory.contact_data import (
    DATA_MAX_BYTES,
    contact_data_merge,
    contact_data_schema,
    contact_data_validate,
    contact_text_merge,
)
from directory.search import search_normalize, search_terms

FULL = {
    "emails": [{"type": "Work", "value": "ryan@example.com"}],
    "phones": [{"type": "Work Fax", "value": "+1 (555) 010-0200 ext. 12"}],
    "addresses": [
        {
            "type": "Home",
            "street": "1 Main St",
            "city": "Springfield",
            "state": "IL",
            "zip": "62701",
            "country": "US",
        }
    ],
    "links": [{"type": "LinkedIn", "value": "https://www.linkedin.com/in/ryan"}],
    "organizations": [{"name": "Acme", "department": "R&D", "jobTitle": "Engineer"}],
    "customFields": {"Shirt size": "L"},
}


def messages(data) -> list[str]:
    with pytest.raises(Invalid) as caught:
        contact_data_validate(data)
    assert {item.field for item in caught.value.messages} == {"data"}
    assert {item.code for item in caught.value.messages} == {"INVALID"}
    return [item.message for item in caught.value.messages]


def test_the_schema_file_is_a_valid_draft_2020_12_schema():
    schema = contact_data_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_a_complete_document_is_accepted():
    assert contact_data_validate(FULL) == FULL
    assert contact_data_validate({}) == {}
    assert contact_data_validate(None) == {}


@pytest.mark.parametrize(
    "value", ["not-an-email", "a@", "@b.com", "a@b", "two@@example.com", "a b@example.com"]
)
def test_a_bad_email_address_is_refused_with_its_path(value):
    assert messages({"emails": [{"type": "Work", "value": value}]}) == [
        "data.emails[0].value: not a valid email address."
    ]


@pytest.mark.parametrize(
    "value",
    [
        "not a uri",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://example.com/file",
        "//example.com",
        "example.com",
    ],
)
def test_a_bad_link_is_refused(value):
    assert messages({"links": [{"type": "Website", "value": value}]}) == [
        "data.links[0].value: not a valid http(s) URL."
    ]


def test_unknown_keys_are_refused_at_every_level():
    assert messages({"nickname": "R"}) == [
        "data: Additional properties are not allowed ('nickname' was unexpected)"
    ]
    assert messages({"emails": [{"type": "Work", "value": "a@example.com", "primary": True}]}) == [
        "data.emails[0]: Additional properties are not allowed ('primary' was unexpected)"
    ]


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"emails": [{"type": "Mobile", "value": "a@example.com"}]}, "data.emails[0].type"),
        ({"phones": [{"type": "Cell", "value": "555"}]}, "data.phones[0].type"),
        ({"links": [{"type": "MySpace", "value": "https://x.example"}]}, "data.links[0].type"),
        ({"addresses": [{"type": "Moon", "city": "Tycho"}]}, "data.addresses[0].type"),
    ],
)
def test_types_are_from_their_lists(data, path):
    assert messages(data)[0].startswith(f"{path}: ")


def test_entries_need_their_required_parts():
    assert messages({"emails": [{"type": "Work"}]}) == [
        "data.emails[0]: 'value' is a required property"
    ]
    assert messages({"phones": [{"type": "Mobile", "value": "call me"}]}) == [
        "data.phones[0].value: not a valid phone number."
    ]
    assert messages({"addresses": [{"type": "Home"}]})[0].startswith("data.addresses[0]: ")
    assert messages({"customFields": {"Size": 42}}) == [
        "data.customFields.Size: 42 is not of type 'string'"
    ]
    assert messages([]) == ["data: [] is not of type 'object'"]


@pytest.mark.parametrize("phone", ["+1 555 0100", "(555) 010-0100", "555.0100", "555-0100 x12"])
def test_usual_phone_numbers_are_accepted(phone):
    contact_data_validate({"phones": [{"type": "Mobile", "value": phone}]})


def test_size_limits_on_lists_strings_and_the_document():
    too_many = [{"type": "Work", "value": f"p{i}@example.com"} for i in range(21)]
    assert messages({"emails": too_many})[0].startswith("data.emails: ")
    long_street = {"type": "Home", "street": "x" * 201}
    message = messages({"addresses": [long_street]})[0]
    assert message.startswith("data.addresses[0].street: ")
    assert len(message) <= 300, "the offending value is not echoed back in full"
    fields = {f"k{i}": "v" for i in range(31)}
    assert messages({"customFields": fields})[0].startswith("data.customFields: ")
    assert messages({"customFields": {"x" * 101: "v"}})[0].startswith("data.customFields: ")
    huge = {"customFields": {"k": "x" * (DATA_MAX_BYTES + 1)}}
    assert messages(huge) == ["data: larger than 64 KB."]


def test_every_failure_is_reported_in_path_order():
    found = messages(
        {
            "phones": [{"type": "Mobile", "value": "x"}],
            "emails": [{"type": "Work", "value": "x"}],
        }
    )
    assert [message.split(":")[0] for message in found] == [
        "data.emails[0].value",
        "data.phones[0].value",
    ]


def test_merge_puts_override_entries_first_then_the_missing_base_entries():
    base = {
        "emails": [
            {"type": "Work", "value": "ryan@work.example"},
            {"type": "Other", "value": "ryan@old.example"},
        ],
        "phones": [{"type": "Work", "value": "+1 555 0100"}],
        "customFields": {"Team": "Blue", "Floor": "3"},
    }
    override = {
        "emails": [
            {"type": "Home", "value": "ryan@home.example"},
            {"type": "Other", "value": "RYAN@old.example"},
        ],
        "links": [{"type": "Blog", "value": "https://ryan.example"}],
        "customFields": {"Team": "Red"},
    }
    assert contact_data_merge(base, override) == {
        "emails": [
            {"type": "Home", "value": "ryan@home.example"},
            {"type": "Other", "value": "RYAN@old.example"},
            {"type": "Work", "value": "ryan@work.example"},
        ],
        "phones": [{"type": "Work", "value": "+1 555 0100"}],
        "links": [{"type": "Blog", "value": "https://ryan.example"}],
        "customFields": {"Team": "Red", "Floor": "3"},
    }


def test_merge_treats_the_same_number_and_the_same_address_as_one_entry():
    base = {
        "phones": [{"type": "Work", "value": "+1 (555) 010-0100"}],
        "addresses": [{"type": "Work", "city": "Lyon"}, {"type": "Home", "city": "Paris"}],
    }
    override = {
        "phones": [{"type": "Mobile", "value": "+1 555 010 0100"}],
        "addresses": [{"type": "Work", "city": "lyon"}],
    }
    merged = contact_data_merge(base, override)
    assert merged["phones"] == [{"type": "Mobile", "value": "+1 555 010 0100"}]
    assert merged["addresses"] == [
        {"type": "Work", "city": "lyon"},
        {"type": "Home", "city": "Paris"},
    ]
    assert contact_data_merge(base, {}) == base
    assert contact_data_merge({}, {}) == {}


def test_override_names_win_only_when_set():
    assert contact_text_merge("Ryan Smith", "Ry") == "Ry"
    assert contact_text_merge("Ryan Smith", "") == "Ryan Smith"
    assert contact_text_merge("Ryan Smith", "   ") == "Ryan Smith"


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("José", "jose"),
        ("  ÅSTRÖM   Ærø ", "astrom aero"),
        ("Łukasz Żółć", "lukasz zolc"),
        ("Straße", "strasse"),
        ("Ｆｕｌｌｗｉｄｔｈ", "fullwidth"),
        ("İstanbul", "istanbul"),
        ("", ""),
        (None, ""),
    ],
)
def test_search_normalization(text, normalized):
    assert search_normalize(text) == normalized


def test_search_terms_add_bare_digits_for_phone_numbers():
    assert search_terms("  ") == []
    assert search_terms("José") == ["jose"]
    assert search_terms("+1 (555) 0100") == ["+1 (555) 0100", "15550100"]
    assert search_terms("0100") == ["0100"]
