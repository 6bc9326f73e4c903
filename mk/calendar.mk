# The real iCalendar parser the API suite reads the calendar feed with: Python's
# icalendar package (docs/testing.md), in a virtualenv of its own under target/tools,
# installed from PyPI with pip. `make tools` (and so `make test`) provides it.

ICAL_VENV   := $(CURDIR)/target/tools/icalendar-venv
ICAL_PYTHON := $(ICAL_VENV)/bin/python
export ICAL_PYTHON

.PHONY: ical-parser

tools: ical-parser

ical-parser: $(ICAL_VENV)/.installed

$(ICAL_VENV)/.installed:
	@command -v python3 >/dev/null || { apt-get update -qq && apt-get install -y -qq python3 python3-venv; }
	@# Debian's python3 makes a venv only with python3-venv installed.
	python3 -m venv $(ICAL_VENV) || { apt-get update -qq && apt-get install -y -qq python3-venv \
	  && rm -rf $(ICAL_VENV) && python3 -m venv $(ICAL_VENV); }
	$(ICAL_VENV)/bin/pip install --quiet --disable-pip-version-check 'icalendar>=6,<8'
	@touch $@
