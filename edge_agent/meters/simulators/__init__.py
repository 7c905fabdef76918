"""Simulated meters that speak the real bytes: an RS-485 line of DL/T 645 and CJ/T 188 meters, a Modbus
slave on pymodbus's server, and a line that delays each byte by its wire time (benchmarks)."""
