# vnet: make builds build/vnet (the host) and build/lib/vnet.so (the modules
# for stock lua5.4); `make demo` and `make test` install what they need.
CC      ?= cc
PKGS    := lua5.4 libnl-3.0 libnl-route-3.0
LUA     ?= lua5.4
# BUILD: where objects and binaries go (make BUILD=build/asan CFLAGS=... for
# a sanitizer build beside the normal one; see fuzz/fuzz.mk)
BUILD   ?= build

# The pkg-config flags come from a generated fragment, $(CONFIG), never from
# $(shell pkg-config) at parse time: on a fresh machine the packages (and
# pkg-config itself) are not there yet when make reads this file. Make first
# remakes $(CONFIG) (tools/config.sh installs the build packages, then asks
# pkg-config), then reads itself again with the flags. Goals that only
# install or clean need no flags and must not install: clean, deps, fuzz-deps,
# and test-fresh (it builds inside its own root).
.DEFAULT_GOAL   := all
CONFIG          := $(BUILD)/config.mk
NO_CONFIG_GOALS := clean deps fuzz-deps test-fresh
ifneq ($(filter-out $(NO_CONFIG_GOALS),$(or $(MAKECMDGOALS),all)),)
include $(CONFIG)
endif
$(CONFIG): tools/config.sh tools/deps.sh Makefile
	@sh tools/config.sh $@ VNET="$(PKGS)" LUA=lua5.4

CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -fPIC -Wall -Wextra -Wshadow -Wno-unused-parameter \
           $(VNET_CFLAGS)
LDLIBS  := $(VNET_LIBS) -lm

LIB_SRC  := $(filter-out core/main.c core/preload.c core/repl.c,$(wildcard core/*.c))
HOST_SRC := core/main.c core/preload.c core/repl.c
LUA_SRC  := $(wildcard lua/vnet/*.lua)
LIB_OBJ  := $(LIB_SRC:core/%.c=$(BUILD)/obj/%.o)
HOST_OBJ := $(HOST_SRC:core/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/embed.o

.PHONY: all deps demo test test-local check clean bench
all: $(BUILD)/vnet $(BUILD)/lib/vnet.so

deps:
	@sh tools/deps.sh

$(BUILD)/obj/%.o: core/%.c $(wildcard core/*.h) $(CONFIG) | $(BUILD)/obj
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/embed.c: tools/embed.lua $(LUA_SRC) | $(BUILD)/obj
	$(LUA) tools/embed.lua $@ $(sort $(LUA_SRC))

$(BUILD)/obj/embed.o: $(BUILD)/embed.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/vnet: $(LIB_OBJ) $(HOST_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lreadline

$(BUILD)/lib/vnet.so: $(LIB_OBJ) | $(BUILD)/lib
	$(CC) $(LDFLAGS) -shared -o $@ $^ $(filter-out -llua5.4,$(LDLIBS))

$(BUILD)/obj $(BUILD)/lib:
	mkdir -p $@

demo: deps all
	sh scripts/demo.sh

# both lanes (this kernel, and Debian's full kernel under qemu), summed
test: deps all
	sh tools/lanes.sh

# lane 1 alone: the spec suite on this machine's kernel
test-local: deps all
	sh tools/test.sh

check: test

clean:
	rm -rf build

# Lane 2: the spec suite in Debian's stock cloud kernel under qemu, where every
# device kind is a module (tools/kernel-lane.sh, docs/kernel-lane.md).
.PHONY: test-kernel
test-kernel: deps all
	bash tools/kernel-lane.sh

# Lane fresh: `make demo` and `make test` in a fresh Debian 12 root
# (debootstrap minbase), proving the two commands install what they need
# (tools/fresh-root.sh). FRESH_LANES picks the lanes run inside.
.PHONY: test-fresh
test-fresh:
	bash tools/fresh-root.sh

# `make bench`: the benchmark suite (bench/), on demand; not part of tests.
BENCH_PKGS := iperf3 python3 python3-pyroute2
build/bench/cfwd: bench/cfwd.c | build/obj
	mkdir -p build/bench
	$(CC) -O2 -Wall -Wextra -o $@ $<

build/bench/udpflood: bench/udpflood.c | build/obj
	mkdir -p build/bench
	$(CC) -O2 -Wall -Wextra -o $@ $<

bench: deps all build/bench/cfwd build/bench/udpflood
	@sh tools/deps.sh $(BENCH_PKGS)
	sh bench/run.sh $(BENCH_ARGS)

include fuzz/fuzz.mk
