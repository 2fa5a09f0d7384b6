.PHONY: bench bench-scale bench-observability

# GraphQL against plain Django views (see README, "Benchmark"); needs .venv (python3 dev.py test).
bench:
	.venv/bin/python bench/run.py $(ARGS)

# One page of contacts at 10k, 100k and 1M visible contacts (see docs/performance.md).
bench-scale:
	.venv/bin/python bench/scale.py $(ARGS)

# CPU per request of the request log line and the metrics (see docs/observability.md).
bench-observability:
	.venv/bin/python bench/observability.py $(ARGS)
