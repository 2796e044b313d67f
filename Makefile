# attnscope: build, test, bench, install.
#
#   make            build ./attnscope
#   make run        open the UI on the bundled model
#   make test       build and run the whole suite (unit, reference, terminal)
#   make bench      speed and memory, medians of repeated runs
#   make install    PREFIX=/usr/local DESTDIR= (binary, man page, themes, model)
#   make SANITIZE=1 test   the suite under ASan + UBSan
#
# Missing Debian packages are installed first (scripts/deps.sh says what).

CC         ?= cc
PKG_CONFIG ?= pkg-config
PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR      = $(PREFIX)/bin
MANDIR      = $(PREFIX)/share/man/man1
DATADIR     = $(PREFIX)/share/attnscope

CFLAGS  ?= -O2 -g
LDFLAGS ?=
PKGS     = openblas ncursesw libconfig libcjson cairo fontconfig
TESTPKGS = cmocka

# Flags the build needs whatever the user's CFLAGS say.
REQ_CFLAGS  = -std=c11 -D_GNU_SOURCE -Wall -Wextra -MMD -MP -Iinclude -fopenmp \
              -DATTNSCOPE_DATADIR='"$(DATADIR)"' \
              $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
REQ_LDLIBS  = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -fopenmp -lm

ifeq ($(SANITIZE),1)
  BUILD    = build/san
  CFLAGS   = -O1 -g -fno-omit-frame-pointer
  REQ_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=undefined
  REQ_LDLIBS += -fsanitize=address,undefined
else
  BUILD    = build/rel
endif

SRC      = $(wildcard src/*/*.c)
MAIN     = src/cli/main.c
LIBSRC   = $(filter-out $(MAIN),$(SRC))
LIBOBJ   = $(LIBSRC:%.c=$(BUILD)/%.o)
MAINOBJ  = $(MAIN:%.c=$(BUILD)/%.o)
TESTSRC  = $(wildcard tests/unit/test_*.c)
TESTBIN  = $(TESTSRC:tests/unit/%.c=$(BUILD)/tests/%)
BIN      = attnscope
ifeq ($(SANITIZE),1)
  BIN    = $(BUILD)/attnscope
endif

.PHONY: all deps run test unit-tests tui-tests bench fixtures install uninstall clean fuzz

all: $(BIN)

deps:
	@scripts/deps.sh

$(BIN): $(LIBOBJ) $(MAINOBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(REQ_LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(REQ_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIBOBJ) tests/unit/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(REQ_CFLAGS) $(shell $(PKG_CONFIG) --cflags $(TESTPKGS)) $(CFLAGS) -Itests/unit \
	    -o $@ $< $(LIBOBJ) $(LDFLAGS) $(REQ_LDLIBS) $(shell $(PKG_CONFIG) --libs $(TESTPKGS))

run: deps
	@$(MAKE) --no-print-directory $(BIN)
	./$(BIN)

# The suite: every unit test binary, then the terminal tests in tmux.
# Each test binary exits non-zero on a failure; the summary line counts them.
test: deps
	@$(MAKE) --no-print-directory $(BIN) $(TESTBIN)
	@BUILD=$(BUILD) BIN=$(abspath $(BIN)) scripts/run-tests.sh $(TESTBIN)

bench: deps
	@$(MAKE) --no-print-directory $(BIN)
	@BIN=$(abspath $(BIN)) bench/run.sh

# Regenerate tests/fixtures/ from the PyTorch reference (needs python3-torch).
fixtures:
	/usr/bin/python3 tests/reference/make_fixtures.py tests/fixtures
	/usr/bin/python3 tests/reference/make_train_fixtures.py tests/fixtures

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(DATADIR)/themes
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/attnscope
	install -m 644 man/attnscope.1 $(DESTDIR)$(MANDIR)/attnscope.1
	install -m 644 themes/*.cfg $(DESTDIR)$(DATADIR)/themes/
	for d in sample_models/*/; do \
	    n=$$(basename $$d); install -d $(DESTDIR)$(DATADIR)/models/$$n; \
	    install -m 644 $$d/config.json $$d/model.safetensors $(DESTDIR)$(DATADIR)/models/$$n/; \
	done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/attnscope $(DESTDIR)$(MANDIR)/attnscope.1
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build attnscope

-include $(shell find build -name '*.d' 2>/dev/null)
