# Two commands on a fresh machine: `make run` and `make test`. Everything else is set up from here.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

.PHONY: run test lint format install serve worker matcher witness clean-venv

$(STAMP): requirements.txt requirements-face.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required (Python 3.11)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip wheel "setuptools<82"
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-face.txt
	$(PY) scripts/check_face_stack.py
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --base-url http://$(HOST):$(PORT)
	-$(PY) scripts/audit_witness.py sign  # the DEVELOPMENT witness (key in var/); a refusal is shown, the server still starts
	@echo "Kiosk: http://$(HOST):$(PORT)/kiosk/   Branch enrolment: http://$(HOST):$(PORT)/branch/"
	$(MAKE) serve

# Processes, not threads: dlib is not safe in concurrent request threads.
serve: $(STAMP)
	$(VENV)/bin/gunicorn atmsite.wsgi:application --bind $(HOST):$(PORT) --workers $(WORKERS) \
		--worker-class sync --timeout 60 --access-logfile - --config atmsite/gunicorn_conf.py

worker: $(STAMP)
	$(VENV)/bin/celery -A atmsite worker --loglevel=INFO --concurrency=2

# One 1:N matcher shard (SHARD=k of MATCHER_SHARDS): one process holding its part of the gallery.
SHARD ?= 0
matcher: $(STAMP)
	$(VENV)/bin/celery -A atmsite worker --loglevel=INFO --pool=solo -Q $${MATCHER_QUEUE:-match}.$(SHARD) -n matcher$(SHARD)@%h

# The audit witness (development key in var/): signs the chain head every AUDIT_WITNESS_INTERVAL_S and serves
# its copy on AUDIT_WITNESS_LISTEN. In production it runs on its own host, with its own environment.
witness: $(STAMP)
	$(PY) scripts/audit_witness.py serve

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy atmsite notifications accounts audit biometrics kiosk portal branch bench tests scripts

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: lint
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
