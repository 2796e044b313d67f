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
CXX        ?= c++
PKG_CONFIG ?= pkg-config
PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR      = $(PREFIX)/bin
MANDIR      = $(PREFIX)/share/man/man1
DATADIR     = $(PREFIX)/share/attnscope

CFLAGS  ?= -O2 -g
LDFLAGS ?=
PKGS     = openblas ncursesw libconfig libcjson cairo fontconfig sentencepiece
TESTPKGS = cmocka

# Flags the build needs whatever the user's CFLAGS say.
REQ_CFLAGS  = -std=c11 -D_GNU_SOURCE -Wall -Wextra -MMD -MP -Iinclude -fopenmp \
              -DATTNSCOPE_DATADIR='"$(DATADIR)"' \
              $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
REQ_LDLIBS  = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -fopenmp -lm -lstdc++
# The one C++ file (src/core/spm_shim.cc, SentencePiece) gets the same flags.
REQ_CXXFLAGS = $(filter-out -std=c11,$(REQ_CFLAGS)) -std=c++17

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
CXXSRC   = $(wildcard src/*/*.cc)
LIBOBJ   = $(LIBSRC:%.c=$(BUILD)/%.o) $(CXXSRC:%.cc=$(BUILD)/%.o)
MAINOBJ  = $(MAIN:%.c=$(BUILD)/%.o)
TESTSRC  = $(wildcard tests/unit/test_*.c)
TESTBIN  = $(TESTSRC:tests/unit/%.c=$(BUILD)/tests/%)
# Fuzz targets: `make test` replays each seed corpus through a plain driver
# (tests/fuzz/replay.c, any compiler); `make fuzz` runs libFuzzer (clang).
FUZZSRC  = $(wildcard tests/fuzz/fuzz_*.c)
REPLAYBIN = $(FUZZSRC:tests/fuzz/fuzz_%.c=$(BUILD)/fuzz/replay_%)
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD = build/fuzz
FUZZ_CXX ?= clang++
FUZZOBJ  = $(LIBSRC:%.c=$(FUZZ_BUILD)/%.o) $(CXXSRC:%.cc=$(FUZZ_BUILD)/%.o)
FUZZBIN  = $(FUZZSRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
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

# DATADIR is compiled into common.c: rebuild it when PREFIX changes.
DATADIR_STAMP = $(BUILD)/datadir.txt
$(shell mkdir -p $(BUILD) && (echo '$(DATADIR)' | cmp -s - $(DATADIR_STAMP) || \
    echo '$(DATADIR)' > $(DATADIR_STAMP)))
$(BUILD)/src/cli/common.o: $(DATADIR_STAMP)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(REQ_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.cc
	@mkdir -p $(dir $@)
	$(CXX) $(REQ_CXXFLAGS) $(CXXFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIBOBJ) tests/unit/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(REQ_CFLAGS) $(shell $(PKG_CONFIG) --cflags $(TESTPKGS)) $(CFLAGS) -Itests/unit \
	    -o $@ $< $(LIBOBJ) $(LDFLAGS) $(REQ_LDLIBS) $(shell $(PKG_CONFIG) --libs $(TESTPKGS))

$(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(LIBOBJ)
	@mkdir -p $(dir $@)
	$(CC) $(REQ_CFLAGS) $(CFLAGS) -DFUZZ_CORPUS='"tests/fuzz/corpus/$*"' -o $@ \
	    $< tests/fuzz/replay.c $(LIBOBJ) $(LDFLAGS) $(REQ_LDLIBS)

run: deps
	@$(MAKE) --no-print-directory $(BIN)
	./$(BIN)

# The suite: every unit test binary, then the terminal tests in tmux.
# Each test binary exits non-zero on a failure; the summary line counts them.
test: deps
	@$(MAKE) --no-print-directory $(BIN) $(TESTBIN) $(REPLAYBIN)
	@BUILD=$(BUILD) BIN=$(abspath $(BIN)) scripts/run-tests.sh $(TESTBIN) $(REPLAYBIN)

# libFuzzer on each target for FUZZ_SECONDS (default 60), ASan+UBSan, clang.
# New inputs go to build/fuzz/work/<target>; crashes to build/fuzz/crash-*.
$(FUZZ_BUILD)/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(REQ_CFLAGS) -Wno-pass-failed -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
	    -c -o $@ $<

$(FUZZ_BUILD)/src/%.o: src/%.cc
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(REQ_CXXFLAGS) -g -O1 -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<

# Linked by the C++ driver: the SentencePiece shim's UBSan checks (vptr) need
# clang's C++ sanitizer runtime.
$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZOBJ)
	$(FUZZ_CC) $(REQ_CFLAGS) -g -O1 -fsanitize=fuzzer-no-link,address,undefined -c -o $@.o $<
	$(FUZZ_CXX) -g -fsanitize=fuzzer,address,undefined -o $@ $@.o $(FUZZOBJ) \
	    $(LDFLAGS) $(REQ_LDLIBS)

.SECONDARY: $(FUZZOBJ)

fuzz:
	@scripts/deps.sh clang libclang-rt-14-dev libomp-dev
	@$(MAKE) --no-print-directory $(FUZZBIN)
	@for t in $(FUZZBIN); do \
	    n=$${t##*/fuzz_}; mkdir -p $(FUZZ_BUILD)/work/$$n; \
	    echo "fuzz $$n: $(FUZZ_SECONDS) s"; \
	    if $$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	        -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/ \
	        $(FUZZ_BUILD)/work/$$n tests/fuzz/corpus/$$n > $(FUZZ_BUILD)/$$n.log 2>&1; \
	    then grep -E '^stat::(number_of_executed_units|peak_rss_mb)' $(FUZZ_BUILD)/$$n.log; \
	    else tail -n 40 $(FUZZ_BUILD)/$$n.log; echo "fuzz $$n: FAILED"; exit 1; fi; \
	done
bench: deps
	@$(MAKE) --no-print-directory $(BIN)
	@BIN=$(abspath $(BIN)) bench/run.sh

# Regenerate tests/fixtures/ from the PyTorch reference (needs python3-torch;
# spm_train and python3-sentencepiece for the SentencePiece fixture).
fixtures:
	@scripts/deps.sh sentencepiece python3-sentencepiece
	/usr/bin/python3 tests/reference/make_fixtures.py tests/fixtures
	/usr/bin/python3 tests/reference/make_train_fixtures.py tests/fixtures

# The binary finds its data at DATADIR (compiled in) or, when it has been
# moved, at ../share/attnscope beside its bin folder (src/cli/common.c); a
# DESTDIR staging install therefore works both before and after it is moved
# to PREFIX. Every file of each bundled model folder is installed (train.cfg
# and metrics.json tell the UI it is a task model, README.md and report/ are
# its documentation).
install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(DATADIR)/themes
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/attnscope
	install -m 644 man/attnscope.1 $(DESTDIR)$(MANDIR)/attnscope.1
	install -m 644 themes/*.cfg $(DESTDIR)$(DATADIR)/themes/
	@for d in sample_models/*/; do \
	    [ -f "$$d/config.json" ] || continue; \
	    n=$$(basename "$$d"); \
	    (cd "$$d" && find . -type f ! -name '*.tmp.*') | while read -r f; do \
	        echo "install -D -m 644 $$d$${f#./} $(DESTDIR)$(DATADIR)/models/$$n/$${f#./}"; \
	        install -D -m 644 "$$d$${f#./}" "$(DESTDIR)$(DATADIR)/models/$$n/$${f#./}" || exit 1; \
	    done || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/attnscope $(DESTDIR)$(MANDIR)/attnscope.1
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build attnscope

-include $(shell find build -name '*.d' 2>/dev/null)
