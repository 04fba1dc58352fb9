# Developer tasks that are not part of the build or of CI.
#
# `make fuzz` runs every cargo-fuzz target in fuzz/ (issue #11: the parsers that read
# what others wrote) for FUZZ_SECONDS each, one after the other. It needs a nightly
# toolchain and cargo-fuzz, which CI and the README's test command do not have, so it
# is kept out of both. Seeds come from fuzz/corpus/TARGET (committed); what the fuzzer
# grows goes to fuzz/generated/TARGET and crashes to fuzz/artifacts/TARGET (ignored).

FUZZ_SECONDS ?= 300
FUZZ_TARGETS ?= protocol_stream rundoc inventory_toml known_hosts

.PHONY: fuzz
fuzz:
	@cargo +nightly --version >/dev/null 2>&1 && cargo +nightly fuzz --version >/dev/null 2>&1 || { \
	  echo "make fuzz needs a nightly toolchain and cargo-fuzz: rustup toolchain install nightly && cargo install cargo-fuzz" >&2; \
	  exit 1; }
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/generated/$$t || exit 1; \
	  echo "make fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  cargo +nightly fuzz run $$t fuzz/generated/$$t fuzz/corpus/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -timeout=10 || exit 1; \
	done
