.PHONY: bench

# GraphQL against plain Django views (see README, "Benchmark"); needs .venv (python3 dev.py test).
bench:
	.venv/bin/python bench/run.py $(ARGS)
