# fuzz.mk - robustness targets, included by the Makefile:
#
#   make fuzz          libFuzzer over the header parsers and setters for
#                      FUZZ_SECONDS (60) seconds; non-zero on a crash, a
#                      sanitizer report or a broken rule (fuzz/driver.lua)
#   make fuzz-ci       the same for 20 seconds, for CI
#   make fuzz-long     the same for FUZZ_LONG_SECONDS (300): the run a
#                      change to the parsers, views or builder should pass
#   make test-asan     the whole spec suite in an AddressSanitizer and
#                      UBSan build of the host (build/asan/vnet), leak
#                      checking on; non-zero on any report or failed spec
#
# Needs clang with its sanitizer and libFuzzer runtimes (Debian: clang,
# libclang-rt-14-dev; `make fuzz-deps` installs them where tools/deps.sh
# takes extra package names). A crash leaves the input in
# build/fuzz/crash-*; replay it with `build/fuzz/fuzz_proto build/fuzz/crash-...`.
FUZZ_PKGS    := clang libclang-rt-14-dev

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_LONG_SECONDS ?= 300
FUZZ_DIR     := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) -std=c11 \
                -Wall -Wextra -Wno-unused-parameter $(CORE_INC) \
                $(LUA_CFLAGS)
# LUA_CFLAGS, LUA_LIBS: from $(CONFIG), the Makefile's generated pkg-config answers
FUZZ_LIBS    := $(LUA_LIBS) -lm
# the packet layer and util, nothing else: neither the loop nor devices
# nor netlink (tools/layers.lua keeps the packet layer from using them)
FUZZ_SRC     := $(wildcard core/packet/*.c core/util/*.c)
FUZZ_OBJ     := $(FUZZ_SRC:core/%.c=$(FUZZ_DIR)/obj/%.o)

.PHONY: fuzz fuzz-ci fuzz-long fuzz-build fuzz-corpus fuzz-coverage fuzz-deps test-asan asan

fuzz-deps:
	@sh tools/deps.sh $(FUZZ_PKGS)

$(FUZZ_DIR)/obj:
	mkdir -p $@ $(FUZZ_DIR)/corpus

$(FUZZ_DIR)/obj/%.o: core/%.c $(CORE_HDR) | $(FUZZ_DIR)/obj
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/fuzz_proto: fuzz/fuzz_proto.c $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -DVNET_SRC='"$(CURDIR)"' \
	  -o $@ $^ $(FUZZ_LIBS)

fuzz-build: $(FUZZ_DIR)/fuzz_proto

# Rewrite the seed corpus from fuzz/make-corpus.lua (needs build/vnet).
fuzz-corpus: $(BUILD)/vnet
	$(BUILD)/vnet fuzz/make-corpus.lua fuzz/corpus

# New inputs go to build/fuzz/corpus; fuzz/corpus (the seeds) is only read.
fuzz: fuzz-deps
	@$(MAKE) --no-print-directory fuzz-run

.PHONY: fuzz-run
fuzz-run: $(FUZZ_DIR)/fuzz_proto
	@mkdir -p $(FUZZ_DIR)/corpus
	$(FUZZ_DIR)/fuzz_proto -max_total_time=$(FUZZ_SECONDS) -max_len=2048 \
	  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	  -artifact_prefix=$(FUZZ_DIR)/ $(FUZZ_DIR)/corpus fuzz/corpus fuzz/regress

fuzz-ci:
	$(MAKE) fuzz FUZZ_SECONDS=20

fuzz-long:
	$(MAKE) fuzz FUZZ_SECONDS=$(FUZZ_LONG_SECONDS)

# ---- the spec suite under AddressSanitizer + UBSan ---------------------
ASAN_BUILD  ?= build/asan
ASAN_CC     ?= clang
ASAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=all

# The Makefile's own rules, into $(ASAN_BUILD); CFLAGS and LDFLAGS go by
# the environment so the Makefile's `CFLAGS +=` part (warnings, $(CONFIG)'s flags)
# still applies.
asan:
	CFLAGS='$(ASAN_CFLAGS)' LDFLAGS='$(ASAN_CFLAGS)' \
	  $(MAKE) --no-print-directory CC=$(ASAN_CC) BUILD=$(ASAN_BUILD) \
	  $(ASAN_BUILD)/vnet

test-asan: deps fuzz-deps
	@$(MAKE) --no-print-directory asan
	sh fuzz/test-asan.sh $(ASAN_BUILD)/vnet

# Line and branch coverage of the protocol files by the corpus (seeds and
# what fuzzing found), from a separate instrumented build: llvm-cov report.
FUZZ_COV_FLAGS := -O0 -g -fprofile-instr-generate -fcoverage-mapping -std=c11 \
                  $(CORE_INC) $(LUA_CFLAGS)

$(FUZZ_DIR)/cov/fuzz_proto: fuzz/fuzz_proto.c $(FUZZ_SRC)
	@mkdir -p $(FUZZ_DIR)/cov
	$(FUZZ_CC) $(FUZZ_COV_FLAGS) -fsanitize=fuzzer -DVNET_SRC='"$(CURDIR)"' \
	  -o $@ $^ $(FUZZ_LIBS)

fuzz-coverage: $(FUZZ_DIR)/cov/fuzz_proto
	@mkdir -p $(FUZZ_DIR)/corpus
	LLVM_PROFILE_FILE=$(FUZZ_DIR)/cov/fuzz.profraw $< -runs=0 \
	  $(FUZZ_DIR)/corpus fuzz/corpus fuzz/regress >/dev/null 2>&1
	llvm-profdata merge -o $(FUZZ_DIR)/cov/fuzz.profdata $(FUZZ_DIR)/cov/fuzz.profraw
	llvm-cov report $< -instr-profile=$(FUZZ_DIR)/cov/fuzz.profdata \
	  $(filter core/packet/%,$(FUZZ_SRC))
