"""Block Kit builders: cards, the correction modal, App Home — valid per slack_sdk's models, within
Slack's limits, and escaping what records and the API say."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot import blocks as bk
from bot import messages, modal
from nextcaller_ops.api.models import Address, Profile
from nextcaller_ops.sandbox import SEINFELD

PHONE = "2125558383"


@pytest.fixture
def jerry() -> Profile:
    return Profile.from_api(SEINFELD)


def valid_blocks(blocks: list[dict]) -> list[dict]:
    assert 0 < len(blocks) <= bk.MAX_BLOCKS
    for block in blocks:
        Block.parse(block).validate_json()
    return blocks


def text_of(blocks: list[dict]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_a_card_has_header_fields_context_and_three_buttons(jerry):
    blocks = valid_blocks(bk.profile_cards([jerry], PHONE))
    assert [b["type"] for b in blocks] == ["header", "section", "context", "actions"]
    assert blocks[0]["text"]["text"] == "Jerry Seinfeld"
    assert "demo@nextcaller.com" in text_of(blocks) and "129 West 81st Street" in text_of(blocks)
    buttons = blocks[3]["elements"]
    assert [b["action_id"] for b in buttons] == [
        bk.ACTION_SUGGEST,
        bk.ACTION_SHARE,
        bk.ACTION_REFRESH,
        bk.ACTION_VERIFY,
    ]
    assert {json.dumps(json.loads(b["value"]), sort_keys=True) for b in buttons} == {
        json.dumps({"i": 0, "id": jerry.id, "phone": PHONE}, sort_keys=True)
    }


def test_a_shared_redacted_card_hides_email_street_and_number(jerry):
    blocks = valid_blocks(bk.profile_cards([jerry], PHONE, redact=True, buttons=False, shared_by="U0AGENT001"))
    text = text_of(blocks)
    assert "demo@nextcaller.com" not in text and "129 West 81st" not in text and PHONE not in text
    assert "212***8383" in text and messages.REDACTED_NOTE in text and "<@U0AGENT001>" in text
    assert not any(b["type"] == "actions" for b in blocks)


def mrkdwn_texts(node) -> list[str]:
    """Every mrkdwn text in the blocks: what Slack renders with its markup."""
    if isinstance(node, list):
        return [t for item in node for t in mrkdwn_texts(item)]
    if not isinstance(node, dict):
        return []
    own = [node["text"]] if node.get("type") == "mrkdwn" else []
    return own + [t for value in node.values() for t in mrkdwn_texts(value)]


def test_record_text_is_escaped_for_mrkdwn(jerry):
    hostile = replace(jerry, carrier="<!channel> & <https://evil.example|click>", id="<@U0BOSS>")
    text = "\n".join(mrkdwn_texts(bk.profile_cards([hostile], PHONE)))
    assert "Record `&lt;@U0BOSS&gt;`" in text
    assert "<!channel>" not in text and "<https://evil" not in text and "<@U0BOSS>" not in text
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in text


def test_many_records_stay_within_the_block_limit_and_say_how_many_were_left_out():
    profiles = [Profile(id=f"{i:030x}", name=f"Person {i}") for i in range(20)]
    blocks = valid_blocks(bk.profile_cards(profiles, PHONE))
    headers = [b for b in blocks if b["type"] == "header"]
    assert len(headers) == (bk.MAX_BLOCKS - 1) // 5
    assert blocks[-1]["elements"][0]["text"] == messages.more_records_not_shown(20 - len(headers))


def test_long_values_are_cut_to_slacks_limits(jerry):
    long = replace(jerry, name="N" * 400, department="D" * 3000)
    blocks = valid_blocks(bk.profile_cards([long], PHONE))
    assert len(blocks[0]["text"]["text"]) == 150
    assert all(len(f["text"]) <= 2000 for f in blocks[1]["fields"]) and len(blocks[1]["fields"]) <= 10


def test_no_record_is_the_core_sentence_masked_when_redacted():
    assert bk.profile_cards([], PHONE) == bk.text_blocks("No record for (212) 555-8383.")
    assert bk.profile_cards([], PHONE, redact=True) == bk.text_blocks("No record for 212***8383.")


def test_card_text_is_the_notification_line(jerry):
    assert bk.card_text([jerry], PHONE) == "Caller 2125558383: Jerry Seinfeld"
    assert bk.card_text([], PHONE) == "Caller 2125558383: no record"


def test_text_blocks_cut_at_3000_characters():
    (block,) = valid_blocks(bk.text_blocks("x" * 5000))
    assert len(block["text"]["text"]) == 3000
    assert bk.usage_blocks() == bk.text_blocks(messages.USAGE)


# -- the correction modal -----------------------------------------------------------------------


def test_the_modal_is_a_valid_view_prefilled_with_the_record(jerry):
    view = modal.correction_modal(jerry, PHONE, "C0TRIAGE01")
    View(**view).validate_json()
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert list(inputs) == [modal.field_block_id(name) for name, _, _ in modal.MODAL_FIELDS]
    assert inputs[modal.field_block_id("first_name")]["initial_value"] == "Jerry"
    assert inputs[modal.field_block_id("shipping_address1.zip_code")]["initial_value"] == "10024"
    assert "initial_value" not in inputs[modal.field_block_id("phone3")]  # empty fields stay empty
    meta = json.loads(view["private_metadata"])
    assert (meta["id"], meta["phone"], meta["channel"]) == (jerry.id, PHONE, "C0TRIAGE01")
    assert meta["fp"]["email"] == modal.fingerprint("demo@nextcaller.com")
    assert "phone3" not in meta["fp"]  # empty before: only a value typed there is a change


def test_prefilled_values_fit_the_inputs_and_big_records_keep_a_fingerprint_of_every_field(jerry):
    street = Address(line1="S" * 2000, city="New York", state="NY", zip_code="10024")
    big = replace(jerry, addresses=(street,), email="e" * 1000 + "@example.com")
    view = modal.correction_modal(big, PHONE, None)
    View(**view).validate_json()
    for block in view["blocks"]:
        if block["type"] == "input" and "initial_value" in block["element"]:
            assert len(block["element"]["initial_value"]) <= block["element"]["max_length"]
    assert len(view["private_metadata"]) <= 3000
    meta = json.loads(view["private_metadata"])
    assert (meta["id"], meta["phone"], meta["channel"]) == (jerry.id, PHONE, None)
    assert meta["fp"]["shipping_address1.line1"] == modal.fingerprint("S" * 200)  # what the input showed
    assert meta["fp"]["email"] == modal.fingerprint("e" * 254)


def test_only_what_the_person_changed_counts_whatever_the_sizes(jerry):
    street = Address(line1="S" * 400, city="New York", state="NY", zip_code="10024")
    big = replace(jerry, addresses=(street,), first_name="  Jerry  ")
    view = modal.correction_modal(big, PHONE, None)
    meta = json.loads(view["private_metadata"])
    untouched = {
        name: b["element"].get("initial_value") or ""
        for b in view["blocks"]
        if b["type"] == "input"
        for name in [modal.block_id_field(b["block_id"])]
    }
    assert modal.changed_values(meta, untouched) == {}
    assert modal.changed_values(meta, {**untouched, "email": "jerry@example.com"}) == {"email": "jerry@example.com"}
    assert modal.changed_values(meta, {**untouched, "phone3": "3125550142", "last_name": ""}) == {
        "phone3": "3125550142",
        "last_name": "",  # cleared on purpose
    }
    assert modal.changed_values({"id": jerry.id}, untouched) is None  # no fingerprints: the form can't tell


def test_block_ids_and_field_names_round_trip():
    for name, _, _ in modal.MODAL_FIELDS:
        assert modal.block_id_field(modal.field_block_id(name)) == name


def test_submitted_values_by_field_name_stripped():
    view = {
        "state": {
            "values": {
                modal.field_block_id("first_name"): {"value": {"value": "  Jerome "}},
                modal.field_block_id("shipping_address1.city"): {"value": {"value": None}},
                "nc_modal_ctx": {"value": {"value": "not a field"}},
            }
        }
    }
    assert modal.submitted_values(view) == {"first_name": "Jerome", "shipping_address1.city": ""}


# -- App Home ------------------------------------------------------------------------------------


def test_home_masks_numbers_and_escapes_what_the_api_said():
    status = {"api_ok": False, "key_ok": None, "api_error": "<b>proxy</b> & co", "cache": 3, "outbox_pending": 1}
    recent = [{"ts": 0.0, "action": "lookup", "phone": PHONE, "outcome": "found 1"}]
    view = bk.home_view(status, recent)
    View(**view).validate_json()
    text = text_of(view["blocks"])
    assert "212***8383" in text and PHONE not in text
    assert "❌ &lt;b&gt;proxy&lt;/b&gt; &amp; co" in text and "❌ not accepted" in text
    assert "3 lookup(s) held" in text and "1 waiting" in text


def test_home_without_lookups_says_so():
    view = bk.home_view({"api_ok": True, "key_ok": True}, [])
    View(**view).validate_json()
    text = text_of(view["blocks"])
    assert messages.NO_LOOKUPS_YET in text and "✅ reachable" in text and "✅ valid" in text
