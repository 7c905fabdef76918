.PHONY: demo test lint fmt bench venv
VENV := .venv/bin

venv:
	tools/venv.sh

demo: venv
	$(VENV)/edge-agent demo

test:
	tools/test.sh

lint: venv
	$(VENV)/ruff check edge_agent tests bench tools
	$(VENV)/ruff format --check edge_agent tests bench tools
	$(VENV)/mypy

fmt: venv
	$(VENV)/ruff format edge_agent tests bench tools
	$(VENV)/ruff check --fix edge_agent tests bench tools

bench: venv
	for b in bench/*.py; do $(VENV)/python $$b || exit 1; done
