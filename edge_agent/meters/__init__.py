"""Meters: RS-485 / TCP buses, Modbus, DL/T 645-2007 and CJ/T 188-2004 codecs, polling, simulators."""
