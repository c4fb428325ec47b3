# Two commands from a fresh clone: `make map` builds the product, `make test` runs the tests.
PY     := $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: map test validate bench lock clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[test]'
	# GDAL's GeoPackage validator, without the GDAL bindings it declares but does not need
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps $$(grep '^gdal-utils==' constraints.txt)
	# EIS Toolkit for tests/test_eis_crosscheck.py only: it declares Python < 3.11 and pins what we do not use
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --ignore-requires-python $$(grep -iE '^(eis[-_]toolkit|beartype)==' constraints.txt)
	touch $(STAMP)

map: $(STAMP)  ## build build/vietnam_ree.gpkg and build/maps/*.html, print their paths
	$(BIN)/geo build

test: $(STAMP)  ## run the whole test suite (installs the Debian packages it drives when it can, else they skip)
	bash .ci/debian-packages
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadfile --no-loadscope-reorder

validate: $(STAMP)
	$(BIN)/geo validate

bench: $(STAMP)  ## national map vs GeoDataFrame.explore(): HTML size and time to interactive
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[test,bench]'
	$(BIN)/python -m bench

lock: $(STAMP)  ## re-pin constraints.txt to what is installed now
	$(BIN)/python -m pip freeze --exclude-editable --disable-pip-version-check | sort > constraints.txt

clean:
	rm -rf build
