"""DL/T 645-2007 codec against the public frames of NOTES.md section 3 (byte for byte, both ways)."""

from __future__ import annotations

import pytest

from edge_agent.meters import dlt645
from edge_agent.meters.bcd import BcdError
from edge_agent.meters.framing import ChecksumError, TruncatedFrame, UnexpectedReply


def h(text: str) -> bytes:
    return bytes.fromhex(text)


READ_COMBINED = h("FE FE FE FE 68 03 20 12 22 20 65 68 11 04 33 33 33 33 8D 16")
REPLY_COMBINED_ZERO = h("68 03 20 12 22 20 65 68 91 08 33 33 33 33 33 33 33 33 DD 16")
READ_FORWARD = h("68 25 04 03 02 01 00 68 11 04 33 33 34 33 E1 16")
REPLY_FORWARD = h("68 25 04 03 02 01 00 68 91 08 33 33 34 33 75 39 45 33 8B 16")
REPLY_VOLTAGE_BLOCK = h("FE FE FE FE 68 18 20 12 22 20 65 68 91 0A 33 32 34 35 33 33 33 33 C7 56 13 16")
READ_ADDRESS = h("FE FE FE 68 AA AA AA AA AA AA 68 13 00 DF 16")


def test_build_read_requests_byte_for_byte() -> None:
    assert dlt645.build_read("652022122003", 0x00000000, preamble=4) == READ_COMBINED
    assert dlt645.build_read("000102030425", 0x00010000, preamble=0) == READ_FORWARD
    assert dlt645.build_read_address(preamble=3) == READ_ADDRESS


def test_build_replies_byte_for_byte() -> None:
    payload = dlt645.encode_values(0x00000000, {"energy_kwh": 0.0})
    assert dlt645.build_read_reply("652022122003", 0x00000000, payload) == REPLY_COMBINED_ZERO
    payload = dlt645.encode_values(0x00010000, {"energy_import_kwh": 1206.42})
    assert dlt645.build_read_reply("000102030425", 0x00010000, payload) == REPLY_FORWARD
    payload = dlt645.encode_values(0x0201FF00, {"voltage_v": 0.0, "voltage_b_v": 0.0, "voltage_c_v": 239.4})
    assert dlt645.build_read_reply("652022122018", 0x0201FF00, payload, preamble=4) == REPLY_VOLTAGE_BLOCK


def test_parse_requests() -> None:
    f = dlt645.decode_frame(READ_COMBINED)
    assert (f.address, f.control, f.data) == ("652022122003", 0x11, b"\x00\x00\x00\x00")
    f = dlt645.decode_frame(READ_FORWARD)
    assert f.address == "000102030425" and f.data == dlt645.di_bytes(0x00010000)
    f = dlt645.decode_frame(READ_ADDRESS)
    assert f.address == dlt645.WILDCARD and f.function == dlt645.FN_READ_ADDRESS and f.data == b""


def test_parse_replies_values_and_units() -> None:
    f = dlt645.decode_frame(REPLY_COMBINED_ZERO)
    assert f.is_reply and not f.is_error
    assert dlt645.parse_read_reply(f, 0x00000000) == {"energy_kwh": 0.0}
    f = dlt645.decode_frame(REPLY_FORWARD)
    assert dlt645.parse_read_reply(f, 0x00010000) == {"energy_import_kwh": 1206.42}
    f = dlt645.decode_frame(REPLY_VOLTAGE_BLOCK)
    assert f.address == "652022122018"
    assert dlt645.parse_read_reply(f, 0x0201FF00) == {
        "voltage_v": 0.0,
        "voltage_b_v": 0.0,
        "voltage_c_v": 239.4,
    }


def test_address_is_nameplate_order_on_api_and_reversed_on_wire() -> None:
    frame = dlt645.build_read("000102030425", 0x00010000, preamble=0)
    assert frame[1:7] == h("25 04 03 02 01 00")
    assert dlt645.parse_address("102030425") == "000102030425"
    with pytest.raises(ValueError):
        dlt645.parse_address("1234567890123")


def test_error_reply_is_raised_with_its_code() -> None:
    raw = dlt645.build_error_reply("000102030425", 0x02)
    assert raw == h("68 25 04 03 02 01 00 68 D1 01 35") + bytes([raw[-2]]) + b"\x16"
    f = dlt645.decode_frame(raw)
    assert f.is_error
    with pytest.raises(dlt645.ErrorReply) as err:
        dlt645.parse_read_reply(f, 0x00010000)
    assert err.value.code == 2 and "no such data" in str(err.value)


def test_bad_checksum_truncation_and_wrong_di_are_told_apart() -> None:
    bad = bytearray(REPLY_FORWARD)
    bad[-2] ^= 0xFF
    with pytest.raises(ChecksumError):
        dlt645.decode_frame(bytes(bad))
    with pytest.raises(TruncatedFrame):
        dlt645.decode_frame(REPLY_FORWARD[:-3])
    with pytest.raises(UnexpectedReply):
        dlt645.parse_read_reply(dlt645.decode_frame(REPLY_FORWARD), 0x00000000)


def test_extract_skips_garbage_before_a_frame() -> None:
    noise = h("00 13 68 37 FF")  # contains a stray 68 that is not a frame start
    found = dlt645.extract(noise + REPLY_FORWARD + h("FE"))
    assert found.frame == REPLY_FORWARD
    assert found.garbage == 5
    assert found.consumed == len(noise) + len(REPLY_FORWARD)


def test_extract_waits_for_the_rest_of_a_frame() -> None:
    found = dlt645.extract(REPLY_FORWARD[:12])
    assert found.frame is None and found.need_more


def test_signed_values_and_invalid_bcd() -> None:
    payload = dlt645.encode_values(0x02030000, {"power_w": -1234.5})
    assert dlt645.decode_payload(0x02030000, payload) == {"power_w": -1234.5}
    with pytest.raises(BcdError):
        dlt645.decode_payload(0x00000000, h("FF FF FF FF"))


@pytest.mark.parametrize("di", sorted(dlt645.DATA_IDS), ids=lambda di: f"{di:08X}")
def test_round_trip_every_known_di(di: int) -> None:
    spec = dlt645.DATA_IDS[di]
    values = {f.quantity: 1.2 * f.scale for f in spec.fields}
    raw = dlt645.build_read_reply("112233445566", di, dlt645.encode_values(di, values), preamble=2)
    assert dlt645.parse_read_reply(dlt645.decode_frame(raw), di) == pytest.approx(values)
