# Two entry points for a fresh machine with Python 3.10-3.12 (README.md):
#   make demo   set up .venv, fetch the real lung2 CT, run the main job
#   make test   set up .venv with the test tools and pyradiomics (the reference), run all tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test benchmark benchmark-memory benchmark-web benchmark-train eval-segmentation clean

$(BIN)/alk-radiomics: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[report]'
	touch $@

$(VENV)/.test-ready: $(BIN)/alk-radiomics
	$(BIN)/python -m pip install --quiet -e '.[report,batch,test,train,web]'
	$(BIN)/python -m pip install --quiet "$$($(BIN)/python -c 'from ALKRadiomicsLib.sample_data import source_archive; print(source_archive())')"
	touch $@

demo: $(BIN)/alk-radiomics
	$(BIN)/python -m ALKRadiomicsLib.demo

test: $(VENV)/.test-ready
	$(BIN)/python -m pytest

benchmark: $(VENV)/.test-ready
	$(BIN)/python Testing/benchmarks/bench_scoring.py

benchmark-memory: $(VENV)/.test-ready
	$(BIN)/python Testing/benchmarks/bench_memory.py --largest

benchmark-web: $(VENV)/.test-ready
	$(BIN)/python Testing/benchmarks/bench_web.py

benchmark-train: $(VENV)/.test-ready
	$(BIN)/python Testing/benchmarks/bench_train.py

eval-segmentation: $(VENV)/.test-ready
	$(BIN)/python Testing/benchmarks/eval_segmentation.py

clean:
	rm -rf $(VENV)
