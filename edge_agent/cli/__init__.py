"""The command line: parses arguments and calls into the daemon, replay, probe, detect, scoring."""
