# The two commands of the README. Both do all set-up themselves on a fresh machine.
.PHONY: demo test bench

## demo: start moto, seed a demo organization, run orglake into demo/lake, query it
demo:
	bash scripts/demo.sh

## test: install moto and run the whole test suite
test:
	bash scripts/test.sh

## bench: the scan and load+query benchmarks (release build; not part of `make test`)
bench:
	bash scripts/bench.sh $(ARGS)
