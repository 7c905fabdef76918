"""Register maps: decoding checked against pymodbus's own converter, and the merge plan."""

from __future__ import annotations

import pytest
from pymodbus.client import ModbusTcpClient

from edge_agent.config.meters import RegisterConfig
from edge_agent.meters.modbus_map import decode_value, encode_value, plan_blocks, raw_rollover

DT = ModbusTcpClient.DATATYPE
CASES = [
    ("u16", DT.UINT16, 65000),
    ("i16", DT.INT16, -2),
    ("u32", DT.UINT32, 3_000_000_000),
    ("i32", DT.INT32, -5),
]
CASES += [
    ("f32", DT.FLOAT32, 229.5),
    ("f64", DT.FLOAT64, 1206.42),
    ("u64", DT.UINT64, 2**40 + 7),
    ("i64", DT.INT64, -9),
]


@pytest.mark.parametrize(("type_", "dt", "value"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("order", ["ABCD", "CDAB"])
def test_decode_agrees_with_pymodbus(type_: str, dt: object, value: float, order: str) -> None:
    word_order = "big" if order == "ABCD" else "little"
    regs = ModbusTcpClient.convert_to_registers(value, dt, word_order=word_order)  # type: ignore[arg-type]
    assert decode_value(regs, type_, order) == pytest.approx(value)
    assert encode_value(value, type_, order) == regs


def test_byte_swapped_orders() -> None:
    # 0x11223344 as ABCD is 1122 3344; BADC swaps bytes in each word; DCBA is fully reversed.
    assert decode_value([0x1122, 0x3344], "u32", "ABCD") == 0x11223344
    assert decode_value([0x2211, 0x4433], "u32", "BADC") == 0x11223344
    assert decode_value([0x4433, 0x2211], "u32", "DCBA") == 0x11223344
    assert decode_value([0x3344, 0x1122], "u32", "CDAB") == 0x11223344


def r(address: int, type_: str = "u16", table: str = "holding") -> RegisterConfig:
    return RegisterConfig(quantity=f"q{address}_{table}", address=address, type=type_, table=table)  # type: ignore[arg-type]


def test_merge_plan_respects_gap_size_and_table() -> None:
    regs = [r(0, "u32"), r(3), r(10), r(100, "f32"), r(0, "u16", "input")]
    blocks = plan_blocks(regs, max_gap=2, max_block=60)
    assert [(b.table, b.start, b.count) for b in blocks] == [
        ("holding", 0, 4),  # 0-1 and 3 (gap of 1 register)
        ("holding", 10, 1),  # gap of 6 > 2
        ("holding", 100, 2),
        ("input", 0, 1),
    ]
    blocks = plan_blocks([r(0), r(1), r(2), r(3)], max_gap=8, max_block=2)
    assert [(b.start, b.count) for b in blocks] == [(0, 2), (2, 2)]


def test_counter_rollover_in_scaled_units() -> None:
    reg = RegisterConfig(quantity="water_m3", address=0, type="u32", scale=0.001, counter=True)
    assert raw_rollover(reg) == pytest.approx(2**32 * 0.001)
