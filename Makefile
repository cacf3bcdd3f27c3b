# vnet: make builds build/vnet (the host) and build/lib/vnet.so (the modules
# for stock lua5.4); `make demo` and `make test` install what they need.
CC      ?= cc
PKGS    := lua5.4 libnl-3.0 libnl-route-3.0 libpcap liburing
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
CFLAGS  += -std=c11 -fPIC -fno-semantic-interposition -Wall -Wextra -Wshadow -Wmissing-prototypes -Wno-unused-parameter \
           $(CORE_INC) $(VNET_CFLAGS)
LDLIBS  := $(VNET_LIBS) -lm
# The host links Lua in from liblua5.4.a (liblua5.4-dev has it; Debian's own
# lua5.4 is built so): the VM's and the modules' calls into the Lua API are
# then direct calls, not through the PLT of a position-independent shared
# library, which cost a packet rewriter 8-10% of its user time (bench/
# analysis.md, eighth pass). -Wl,-E exports the API to the C modules that
# require() loads (busted's lfs, system, term), as lua5.4 does.
HOST_LDLIBS := $(patsubst -llua5.4,-l:liblua5.4.a,$(VNET_LIBS)) -lm -ldl -lreadline

# core/ by layer (docs/design.md): util, packet, io, netlink make the
# module library; host adds the binary's own files.
CORE_LAYERS := util packet io netlink
CORE_INC := -iquote core
CORE_HDR := $(wildcard core/*/*.h)
LIB_SRC  := $(foreach l,$(CORE_LAYERS),$(wildcard core/$(l)/*.c))
HOST_SRC := $(wildcard core/host/*.c)
LUA_SRC  := $(wildcard lua/vnet/*.lua)
# the API's annotation files (LuaLS ---@meta): help() and docs/api.md read them
META_SRC := $(wildcard lua/meta/vnet/*.lua)
LIB_OBJ  := $(LIB_SRC:core/%.c=$(BUILD)/obj/%.o)
HOST_OBJ := $(HOST_SRC:core/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/embed.o

.PHONY: all deps demo test test-local check clean bench docs
all: $(BUILD)/vnet $(BUILD)/lib/vnet.so

deps:
	@sh tools/deps.sh

$(BUILD)/obj/%.o: core/%.c $(CORE_HDR) $(CONFIG) | $(BUILD)/obj
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/embed.c: tools/embed.lua $(LUA_SRC) $(META_SRC) | $(BUILD)/obj
	$(LUA) tools/embed.lua $@ $(sort $(LUA_SRC)) $(sort $(META_SRC))

$(BUILD)/obj/embed.o: $(BUILD)/embed.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/vnet: $(LIB_OBJ) $(HOST_OBJ)
	$(CC) $(LDFLAGS) -Wl,-E -o $@ $^ $(HOST_LDLIBS)

$(BUILD)/lib/vnet.so: $(LIB_OBJ) | $(BUILD)/lib
	$(CC) $(LDFLAGS) -shared -o $@ $^ $(filter-out -llua5.4,$(LDLIBS))

$(BUILD)/obj $(BUILD)/lib:
	mkdir -p $@

# docs/api.md and the kinds' annotation files, generated from lua/meta/vnet/
# and the kind files (spec/api_spec.lua fails when they are not current);
# then the host again, which embeds the annotation files for help()
docs: $(BUILD)/vnet
	$(BUILD)/vnet tools/apidoc.lua
	@$(MAKE) --no-print-directory all
	@# a new kind joins vnet.modules once the host embeds lua/vnet/_kindlist.lua
	$(BUILD)/vnet tools/apidoc.lua

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
# (its Debian packages: BENCH_PKGS in tools/deps.sh)
build/bench/cfwd: bench/cfwd.c bench/tunfwd.h | build/obj
	mkdir -p build/bench
	$(CC) -O2 -Wall -Wextra -o $@ $<

build/bench/udpflood: bench/udpflood.c | build/obj
	mkdir -p build/bench
	$(CC) -O2 -Wall -Wextra -o $@ $<

# experiments for bench/profile.sh, not contestants: multishot reads
# (mfwd), and vnet's batched io_uring I/O without Lua (ufwd)
build/bench/mfwd: bench/mfwd.c bench/tunfwd.h | build/obj
	mkdir -p build/bench
	$(CC) -O2 -Wall -Wextra -o $@ $< -luring

build/bench/ufwd: bench/ufwd.c bench/tunfwd.h | build/obj
	mkdir -p build/bench
	$(CC) -O2 -Wall -Wextra -o $@ $< -luring

bench: deps all build/bench/cfwd build/bench/udpflood build/bench/mfwd build/bench/ufwd
	@sh tools/deps.sh --bench
	sh bench/run.sh $(BENCH_ARGS)

include fuzz/fuzz.mk

# The kernel lane ten times in a row with every core busy (stress-ng): each
# run must report the guest's real summary (tools/kernel-soak.sh).
.PHONY: test-kernel-soak
test-kernel-soak: deps all
	bash tools/kernel-soak.sh

# ---- make install / make uninstall ------------------------------------
# PREFIX and DESTDIR as usual (make install DESTDIR=/tmp/stage PREFIX=/usr).
# The modules go where stock lua5.4 looks under PREFIX (LUA_LMOD, LUA_CMOD);
# `make uninstall` with the same variables removes exactly these files, and
# the directories only vnet uses.
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
LUA_LMOD ?= $(PREFIX)/share/lua/5.4
LUA_CMOD ?= $(PREFIX)/lib/lua/5.4
MANDIR   ?= $(PREFIX)/share/man
DOCDIR   ?= $(PREFIX)/share/doc/vnet
DATADIR  ?= $(PREFIX)/share/vnet
INSTALL  ?= install

INST_SCRIPTS := $(filter-out scripts/_lib.lua,$(wildcard scripts/*.lua))
INST_DOCS    := README.md LICENSE $(wildcard docs/*.md)
# every file install puts, under $(DESTDIR): uninstall removes this list
INST_FILES := $(BINDIR)/vnet $(LUA_CMOD)/vnet.so $(MANDIR)/man1/vnet.1 \
    $(LUA_SRC:lua/vnet/%=$(LUA_LMOD)/vnet/%) \
    $(META_SRC:lua/meta/vnet/%=$(LUA_LMOD)/vnet/meta/%) \
    $(INST_DOCS:%=$(DOCDIR)/%) \
    $(INST_SCRIPTS:%=$(DATADIR)/%) $(DATADIR)/scripts/_lib.lua
# directories that hold only vnet's files, deepest first
INST_DIRS := $(LUA_LMOD)/vnet/meta $(LUA_LMOD)/vnet $(DOCDIR)/docs $(DOCDIR) $(DATADIR)/scripts $(DATADIR)

.PHONY: install uninstall
install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LUA_CMOD) \
	    $(DESTDIR)$(LUA_LMOD)/vnet $(DESTDIR)$(LUA_LMOD)/vnet/meta \
	    $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(DATADIR)/scripts
	$(INSTALL) -m 755 $(BUILD)/vnet $(DESTDIR)$(BINDIR)/vnet
	$(INSTALL) -m 755 $(BUILD)/lib/vnet.so $(DESTDIR)$(LUA_CMOD)/vnet.so
	$(INSTALL) -m 644 $(LUA_SRC) $(DESTDIR)$(LUA_LMOD)/vnet/
	$(INSTALL) -m 644 $(META_SRC) $(DESTDIR)$(LUA_LMOD)/vnet/meta/
	$(INSTALL) -m 644 docs/vnet.1 $(DESTDIR)$(MANDIR)/man1/vnet.1
	$(INSTALL) -m 644 README.md LICENSE $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 644 $(wildcard docs/*.md) $(DESTDIR)$(DOCDIR)/docs/
	$(INSTALL) -m 755 $(INST_SCRIPTS) $(DESTDIR)$(DATADIR)/scripts/
	$(INSTALL) -m 644 scripts/_lib.lua $(DESTDIR)$(DATADIR)/scripts/

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INST_FILES))
	@for d in $(addprefix $(DESTDIR),$(INST_DIRS)); do \
	    rmdir "$$d" 2>/dev/null || true; done
