# peerflow — build, run, test.
#
#   make            build/peerflow (optimised, warnings as errors)
#   make deps       install missing Debian packages (as root), else nothing
#   make run        private PostgreSQL under var/, migrate, demo data, serve
#   make stop       stop what make run started
#   make test       unit + integration suites under ASan+UBSan, own services
#   make install    PREFIX=/usr/local DESTDIR=: binary, data, man pages, units, completion
#   make deb        build/deb/peerflow_VERSION_ARCH.deb (debian/, debhelper)
#   make man        build/man/peerflow.1, build/man/peerflow.conf.5 (scdoc)
#   make clean

# The version has one source: the first line of debian/changelog.
VERSION   := $(shell sed -n '1{s/^[^ ]* .//;s/. .*//;p}' debian/changelog)
PREFIX    ?= /usr/local
SYSCONFDIR ?= /etc
BINDIR     = $(PREFIX)/bin
DATADIR    = $(PREFIX)/share/peerflow
MANDIR     = $(PREFIX)/share/man
UNITDIR   ?= $(PREFIX)/lib/systemd/system
COMPLDIR   = $(PREFIX)/share/bash-completion/completions

PKGS      := libpq libmicrohttpd jansson libsodium libcurl openssl
CC        ?= cc
CSTD      := -std=c11 -D_GNU_SOURCE -DPF_MIGRATIONS_DIR=\"$(CURDIR)/migrations\" \
             -DPF_WEB_DIR=\"$(CURDIR)/web\"
# Where an installed binary finds its files (cmd/config.c); a binary run
# from build/ of this tree uses the tree's instead.
PATH_DEFS := -DPF_VERSION=\"$(VERSION)\" -DPF_DATADIR=\"$(DATADIR)\" \
             -DPF_SYSCONFDIR=\"$(SYSCONFDIR)\" -DPF_TREE_DIR=\"$(CURDIR)\"
WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_CFLAGS = $(shell pkg-config --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   = $(shell pkg-config --libs cmocka 2>/dev/null)
CFLAGS    ?= -O2 -g
ALL_CFLAGS = $(CSTD) $(WARN) -I. $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS) -MMD -MP
LDLIBS     = $(PKG_LIBS) -lpthread -lm

SAN        := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_CFLAGS = $(CSTD) $(WARN) -I. $(PKG_CFLAGS) $(CMOCKA_CFLAGS) -O1 -g $(SAN) -MMD -MP

LIB_DIRS  := common db workflow provisioner web
LIB_SRC   := $(wildcard $(addsuffix /*.c,$(LIB_DIRS)))
CMD_SRC   := $(wildcard cmd/*.c)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
INTEG_SRC := $(wildcard tests/integration/test_*.c)
TESTLIB_SRC := $(wildcard tests/support/*.c)

OBJ       := $(patsubst %.c,build/obj/%.o,$(LIB_SRC) $(CMD_SRC))
ASAN_LIB  := $(patsubst %.c,build/asan/%.o,$(LIB_SRC))
ASAN_CMD  := $(patsubst %.c,build/asan/%.o,$(CMD_SRC))
ASAN_TLIB := $(patsubst %.c,build/asan/%.o,$(TESTLIB_SRC))
UNIT_BIN  := $(patsubst tests/unit/%.c,build/asan/tests/%,$(UNIT_SRC))
INTEG_BIN := $(patsubst tests/integration/%.c,build/asan/tests/%,$(INTEG_SRC))
# tools the shell suites drive (tests/integration/bgp_render_test.sh)
TOOL_BIN  := build/asan/tests/bgp_render_dump

.PHONY: all deps run stop test test-build fuzz bench clean install man units deb FORCE

all: build/peerflow

deps:
	@bash scripts/deps.sh

build/peerflow: $(OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -c -o $@ $<

build/asan/peerflow: $(ASAN_LIB) $(ASAN_CMD)
	$(CC) $(SAN) -o $@ $^ $(LDLIBS)

build/asan/tests/%: build/asan/tests/unit/%.o $(ASAN_LIB) $(ASAN_TLIB)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $^ $(LDLIBS) $(CMOCKA_LIBS)

build/asan/tests/%: build/asan/tests/integration/%.o $(ASAN_LIB) $(ASAN_TLIB)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $^ $(LDLIBS) $(CMOCKA_LIBS)

# Only these two use PATH_DEFS; the stamp rebuilds them when a value
# changes (make install PREFIX=/usr after make).
CONFIG_OBJ := build/obj/cmd/config.o build/obj/cmd/main.o build/asan/cmd/config.o build/asan/cmd/main.o
$(CONFIG_OBJ): build/path_defs.stamp
$(CONFIG_OBJ): CSTD += $(PATH_DEFS)
build/path_defs.stamp: FORCE
	@mkdir -p build
	@echo '$(PATH_DEFS)' | cmp -s - $@ || echo '$(PATH_DEFS)' > $@

# test_config exercises the configuration layers of cmd/config.c.
build/asan/tests/test_config: build/asan/tests/unit/test_config.o build/asan/cmd/config.o $(ASAN_LIB) $(ASAN_TLIB)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $^ $(LDLIBS) $(CMOCKA_LIBS)

# keep the test objects make would otherwise delete as intermediates
.SECONDARY:

FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN  := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))

# libFuzzer targets (clang): tests/fuzz/fuzz_NAME.c links the libc-only
# modules it fuzzes. `make fuzz` builds them; tests/run.sh runs each briefly.
OFP13_SRC := $(wildcard provisioner/ofp13*.c)
build/fuzz/fuzz_ofp13: tests/fuzz/fuzz_ofp13.c $(OFP13_SRC) $(wildcard provisioner/ofp13*.h)
	@mkdir -p $(dir $@)
	clang -std=c11 -g -O1 -I. -fsanitize=fuzzer,address,undefined -o $@ tests/fuzz/fuzz_ofp13.c $(OFP13_SRC)

build/fuzz/fuzz_form: tests/fuzz/fuzz_form.c web/form.c web/form.h
	@mkdir -p $(dir $@)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -I. -fsanitize=fuzzer,address,undefined -o $@ tests/fuzz/fuzz_form.c web/form.c $(shell pkg-config --cflags --libs jansson)

build/fuzz/fuzz_tokens: tests/fuzz/fuzz_tokens.c workflow/tokens.c workflow/tokens.h workflow/keys.c workflow/keys.h common/pf_err.c
	@mkdir -p $(dir $@)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -I. -fsanitize=fuzzer,address,undefined -o $@ tests/fuzz/fuzz_tokens.c workflow/tokens.c workflow/keys.c common/pf_err.c -lsodium -lpthread

fuzz: $(FUZZ_BIN)

# Benchmarks: optimised build, own services, a table of ratios (bench/run.sh).
build/bench/trivial_mhd: bench/trivial_mhd.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 $(WARN) -o $@ $< $(shell pkg-config --cflags --libs libmicrohttpd)

# The flows provisioner/plan.c gives N same-switch circuits (bench/fabric_bench.sh).
build/bench/fabric_plan: bench/fabric_plan.c provisioner/plan.c provisioner/plan.h $(OFP13_SRC) $(wildcard provisioner/ofp13*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -I. $(PKG_CFLAGS) -O2 -o $@ bench/fabric_plan.c provisioner/plan.c $(OFP13_SRC) $(shell pkg-config --libs jansson)

bench: deps
	@$(MAKE) --no-print-directory build/peerflow build/bench/trivial_mhd build/bench/fabric_plan
	@bash bench/run.sh

test-build: build/asan/peerflow $(UNIT_BIN) $(INTEG_BIN) $(TOOL_BIN) $(FUZZ_BIN)

test: deps
	@$(MAKE) --no-print-directory test-build
	@bash tests/run.sh

run: deps
	@$(MAKE) --no-print-directory build/peerflow
	@bash scripts/run.sh

stop:
	@bash scripts/stop.sh

# Man pages: one scdoc source each in man/.
MAN_PAGES := build/man/peerflow.1 build/man/peerflow.conf.5
build/man/%: man/%.scd
	@mkdir -p $(dir $@)
	scdoc < $< > $@
man: $(MAN_PAGES)

# systemd units: dist/systemd/*.in with the binary's path filled in.
UNITS := build/dist/peerflow.service build/dist/peerflow-worker@.service
build/dist/%: dist/systemd/%.in build/path_defs.stamp
	@mkdir -p $(dir $@)
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' $< > $@
units: $(UNITS)

install: build/peerflow man units
	install -D -m 755 build/peerflow $(DESTDIR)$(BINDIR)/peerflow
	install -d $(DESTDIR)$(DATADIR)/migrations
	install -m 644 migrations/*.sql $(DESTDIR)$(DATADIR)/migrations/
	cd web && find templates static -type d -exec install -d $(DESTDIR)$(DATADIR)/{} \;
	cd web && find templates static -type f -exec install -m 644 {} $(DESTDIR)$(DATADIR)/{} \;
	install -m 644 docs/peering-api.openapi.json $(DESTDIR)$(DATADIR)/static/
	install -D -m 644 build/man/peerflow.1 $(DESTDIR)$(MANDIR)/man1/peerflow.1
	install -D -m 644 build/man/peerflow.conf.5 $(DESTDIR)$(MANDIR)/man5/peerflow.conf.5
	install -D -m 644 dist/bash-completion/peerflow $(DESTDIR)$(COMPLDIR)/peerflow
	install -d $(DESTDIR)$(UNITDIR)
	install -m 644 $(UNITS) $(DESTDIR)$(UNITDIR)/
	@# an existing configuration is the operator's: never overwritten
	if [ -n "$(DESTDIR)" ] || [ ! -e $(SYSCONFDIR)/peerflow/peerflow.conf ]; then \
	  install -D -m 644 dist/peerflow.conf $(DESTDIR)$(SYSCONFDIR)/peerflow/peerflow.conf; fi

# The package is built from a copy of the tracked files under build/deb/,
# so the tree stays clean; the .deb lands in build/deb/.
deb:
	@command -v dh >/dev/null || { echo "make deb needs debhelper: make deps" >&2; exit 1; }
	rm -rf build/deb && mkdir -p build/deb/peerflow-$(VERSION)
	git ls-files -z --cached --others --exclude-standard | xargs -0 sh -c \
	  'for f; do [ ! -e "$$f" ] || cp --parents "$$f" "$$0"; done' build/deb/peerflow-$(VERSION)
	cd build/deb/peerflow-$(VERSION) && dpkg-buildpackage -us -uc -b
	@ls -l build/deb/*.deb

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
