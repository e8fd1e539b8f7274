# The two commands a new user needs (see README.md):
#   make demo   install everything, build the sample review and render its report
#   make test   install everything and run the whole test suite (then its 20 slowest tests)
.PHONY: setup demo test bench mutation clean

DEMO ?= demo/eastvale-2026

setup:
	@bash scripts/setup.sh

demo: setup
	@rm -rf $(DEMO)
	@.venv/bin/reviewkit sample $(DEMO)
	@.venv/bin/reviewkit report $(DEMO) --to html,pdf,docx --out $(DEMO)/report --final
	@echo "The sample review workspace is in $(DEMO); its report is in $(DEMO)/report/"

test: setup  # and the 20 slowest tests, to see where the suite's time goes
	@.venv/bin/python -m pytest --durations=20

bench: setup
	@for b in benchmarks/*.py; do echo "== $$b"; .venv/bin/python $$b || exit 1; done

mutation: setup  # slow (about an hour on two cores): mutants of screening, redaction, analysis, import
	@.venv/bin/python -m pip install -q -e '.[mutation]' -c constraints.txt
	@.venv/bin/mutmut run && .venv/bin/mutmut results

clean:
	rm -rf demo .pytest_cache .hypothesis mutants
