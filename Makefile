# vnet: make builds build/vnet (the host) and build/lib/vnet.so (the modules
# for stock lua5.4); `make demo` and `make test` install what they need.
CC      ?= cc
PKGS    := lua5.4 libnl-3.0 libnl-route-3.0 libpcap
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -fPIC -Wall -Wextra -Wshadow -Wno-unused-parameter \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
LUA     ?= lua5.4
# BUILD: where objects and binaries go (make BUILD=build/asan CFLAGS=... for
# a sanitizer build beside the normal one; see fuzz/fuzz.mk)
BUILD   ?= build

LIB_SRC  := $(filter-out core/main.c core/preload.c core/repl.c,$(wildcard core/*.c))
HOST_SRC := core/main.c core/preload.c core/repl.c
LUA_SRC  := $(wildcard lua/vnet/*.lua)
LIB_OBJ  := $(LIB_SRC:core/%.c=$(BUILD)/obj/%.o)
HOST_OBJ := $(HOST_SRC:core/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/embed.o

.PHONY: all deps demo test test-local check clean bench
all: $(BUILD)/vnet $(BUILD)/lib/vnet.so

deps:
	@sh tools/deps.sh

$(BUILD)/obj/%.o: core/%.c $(wildcard core/*.h) | $(BUILD)/obj
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

# `make bench`: the benchmark suite (bench/), on demand; not part of tests.
BENCH_PKGS := iperf3 python3 python3-pyroute2 python3-scapy
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
