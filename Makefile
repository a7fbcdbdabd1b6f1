# corsd - one non-recursive Makefile.  `make help` lists the targets.
#
# Variants build side by side under build/<variant>/:
#   release  -O2, the default
#   debug    -O0 -g
#   asan     AddressSanitizer + UndefinedBehaviorSanitizer
#   tsan     ThreadSanitizer (the daemon's threaded tests)
# Pick one with VARIANT=<name>; `make test` runs the ones it needs itself.

VARIANT ?= release
B ?= build/$(VARIANT)

CC  := gcc
CXX := g++

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wcast-qual \
	-Wvla -Wundef -Wformat=2
CPPFLAGS := -Iengine/include -Iengine -Iipc/include -Iipc -MMD -MP \
	-D_GNU_SOURCE
CFLAGS := -std=c17 $(WARN) -fPIC -fvisibility=hidden -g
CXXFLAGS := -std=c++17 -Wall -Wextra -Werror -g

ifeq ($(VARIANT),release)
CFLAGS += -O2
CXXFLAGS += -O2
else ifeq ($(VARIANT),debug)
CFLAGS += -O0
else ifeq ($(VARIANT),asan)
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
CFLAGS += -O1 $(SAN)
LDFLAGS += $(SAN)
else ifeq ($(VARIANT),tsan)
SAN := -fsanitize=thread
CFLAGS += -O1 $(SAN)
LDFLAGS += $(SAN)
else
$(error unknown VARIANT '$(VARIANT)': release, debug, asan or tsan)
endif

# Debian packages everything here needs; `make deps` installs the missing.
DEB_PKGS := gcc g++ make pkg-config libxxhash-dev libyaml-dev libpcre2-dev \
	libpsl-dev libcmocka-dev libbenchmark-dev valgrind clang-format \
	liburcu-dev

ENGINE_LIBS := -lyaml -lpcre2-8 -lpsl

ifeq ($(V),1)
Q :=
else
Q := @
endif

ENGINE_SRC := $(wildcard engine/*.c)
ENGINE_OBJ := $(ENGINE_SRC:%.c=$(B)/%.o)
ENGINE_LIB := $(B)/libcorsd_engine.a

# The client library: what a web-server worker links.  No engine, no
# liburcu, libyaml or PCRE2; err.c only for the names of codes.
CLIENT_SRC := ipc/client.c ipc/cache.c ipc/os.c engine/err.c
CLIENT_OBJ := $(CLIENT_SRC:%.c=$(B)/%.o)
CLIENT_LIB := $(B)/libcorsd_client.a
CLIENT_SO := $(B)/libcorsd_client.so

SERVER_SRC := ipc/server.c ipc/cache.c ipc/os.c
SERVER_OBJ := $(SERVER_SRC:%.c=$(B)/%.o)
SERVER_LIB := $(B)/libcorsd_server.a

CORSD_SRC := $(wildcard tools/corsd/*.c)
CORSD_OBJ := $(CORSD_SRC:%.c=$(B)/%.o)
CORSD := $(B)/corsd
DAEMON_LIBS := -lurcu-memb -lurcu-common -lpthread

IPC_TEST_SRC := $(wildcard tests/ipc/test_*.c)
IPC_TEST_BIN := $(IPC_TEST_SRC:tests/ipc/%.c=$(B)/tests/%)
IPC_SUPPORT_SRC := $(filter-out tests/ipc/test_%.c,$(wildcard tests/ipc/*.c))
IPC_SUPPORT_OBJ := $(IPC_SUPPORT_SRC:%.c=$(B)/%.o)

CORSCTL_SRC := $(wildcard tools/corsctl/*.c)
CORSCTL_OBJ := $(CORSCTL_SRC:%.c=$(B)/%.o)
CORSCTL := $(B)/corsctl

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
UNIT_SUPPORT_SRC := $(filter-out tests/unit/test_%.c,$(wildcard tests/unit/*.c))
UNIT_SUPPORT_OBJ := $(UNIT_SUPPORT_SRC:%.c=$(B)/%.o)

# bench/bench_<name>.cc: one benchmark binary each.  The other bench/*.cc
# (and unix_baseline.c) are support objects: every binary links the goal
# reporter; bench_ipc also its process harness, /proc sampler and AF_UNIX
# baseline.
BENCH_SRC := $(wildcard bench/bench_*.cc)
BENCH_BIN := $(BENCH_SRC:bench/%.cc=$(B)/bench/%)
BENCH_GOALS_OBJ := $(B)/bench/goals.o
BENCH_IPC_OBJ := $(B)/bench/ipc_procs.o $(B)/bench/proc_sampler.o \
	$(B)/bench/unix_baseline.o
BENCH_OBJ := $(BENCH_BIN:=.o) $(BENCH_GOALS_OBJ) $(BENCH_IPC_OBJ)

PUBLIC_HEADERS := $(wildcard engine/include/*.h ipc/include/*.h)
PUBLIC_TABLES := $(wildcard engine/include/corsd/tbl_*.h)

.SECONDARY:

.PHONY: all deps build test test-unit test-cli check-headers run bench \
	bench-callgrind format format-check clean help

all: $(ENGINE_LIB) $(CORSCTL) $(CLIENT_LIB) $(CLIENT_SO) $(CORSD)

help:
	@echo "make            build the release variant (engine, corsctl)"
	@echo "make run        install what is missing, build, run the example job"
	@echo "make test       install what is missing, build, run every test"
	@echo "                (release and ASan+UBSan builds; corsd under TSan)"
	@echo "make nginx-module  the nginx dynamic module (release build)"
	@echo "make test-nginx    the nginx tests alone"
	@echo "make bench      Google Benchmark: decide(), compile, shared memory"
	@echo "make bench-callgrind  instructions per decision under callgrind"
	@echo "make bench-e2e  wrk: nginx without CORS, with a map, with corsd"
	@echo "make bench-e2e-callgrind  the same, instructions per request"
	@echo "make deps       apt-get install the missing Debian packages"
	@echo "make format     reformat C sources with .clang-format"
	@echo "make format-check  fail if a C source is not formatted"
	@echo "make clean      remove build/"
	@echo "VARIANT=release|debug|asan|tsan  V=1 for full command lines"

deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "deps: installing" $$missing; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q \
			$$missing; \
	fi

$(B)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(ENGINE_LIB): $(ENGINE_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(CLIENT_LIB): $(CLIENT_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# Only the CORSD_API functions are exported: -fvisibility=hidden hides the
# rest, and the version script keeps even those to corsd_*.
$(CLIENT_SO): $(CLIENT_OBJ) ipc/client.map
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -shared -Wl,--version-script=ipc/client.map \
		-Wl,-soname,libcorsd_client.so.1 -o $@ $(CLIENT_OBJ)

$(SERVER_LIB): $(SERVER_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(CORSD): $(CORSD_OBJ) $(SERVER_LIB) $(ENGINE_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CORSD_OBJ) $(SERVER_LIB) $(ENGINE_LIB) \
		$(ENGINE_LIBS) $(DAEMON_LIBS)

$(CORSCTL): $(CORSCTL_OBJ) $(ENGINE_LIB) $(CLIENT_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CORSCTL_OBJ) $(ENGINE_LIB) $(CLIENT_LIB) \
		$(ENGINE_LIBS)

# IPC tests drive real processes: the client, the server side and the
# engine (to compare answers with in-process decisions).
$(B)/tests/test_%: $(B)/tests/ipc/test_%.o $(UNIT_SUPPORT_OBJ) \
		$(IPC_SUPPORT_OBJ) $(CLIENT_LIB) $(SERVER_LIB) $(ENGINE_LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(UNIT_SUPPORT_OBJ) $(IPC_SUPPORT_OBJ) \
		$(SERVER_LIB) \
		$(CLIENT_LIB) $(ENGINE_LIB) $(ENGINE_LIBS) $(DAEMON_LIBS) -lcmocka

$(B)/tests/test_%: $(B)/tests/unit/test_%.o $(UNIT_SUPPORT_OBJ) $(ENGINE_LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(UNIT_SUPPORT_OBJ) $(ENGINE_LIB) \
		$(ENGINE_LIBS) -lcmocka

# bench_ipc's harness builds on the IPC tests' (tests/ipc/ipcutil.h).
$(B)/bench/%.o: bench/%.cc
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CXX     $@")
	$(Q)$(CXX) $(CPPFLAGS) -Itests/ipc $(CXXFLAGS) -c $< -o $@

$(B)/bench/unix_baseline.o: CPPFLAGS += -Itests/ipc

$(B)/bench/%: $(B)/bench/%.o $(BENCH_GOALS_OBJ) $(ENGINE_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CXX) $(LDFLAGS) -o $@ $< $(BENCH_GOALS_OBJ) $(ENGINE_LIB) \
		$(ENGINE_LIBS) -lbenchmark -lpthread

build: all $(UNIT_BIN) $(IPC_TEST_BIN)

# The unit tests run in the release build and again under ASan+UBSan.
test: deps
	$(Q)$(MAKE) --no-print-directory VARIANT=release build check-headers \
		format-check
	$(Q)$(MAKE) --no-print-directory VARIANT=asan build
	$(Q)$(MAKE) --no-print-directory VARIANT=tsan build/tsan/corsd
	$(Q)tests/run-all.sh build/release build/asan

test-unit: build
	$(Q)tests/run-unit.sh $(B)

test-cli: all
	$(Q)tests/cli/run.sh $(B)

# Each public header compiles alone, as C and as C++, from a copy of the
# public include directories and nothing else: what `make install` would
# put in $(PREFIX)/include, away from the source tree.
check-headers:
	$(Q)rm -rf $(B)/hdr && mkdir -p $(B)/hdr/include
	$(Q)cp -R engine/include/. ipc/include/. $(B)/hdr/include/
	$(Q)for h in $(PUBLIC_HEADERS); do \
		printf '#include <%s>\n' "$$(basename $$h)" > $(B)/hdr/t.c; \
		$(CC) -std=c17 $(WARN) -I$(B)/hdr/include \
			-fsyntax-only $(B)/hdr/t.c || exit 1; \
		cp $(B)/hdr/t.c $(B)/hdr/t.cc; \
		$(CXX) -std=c++17 -Wall -Wextra -Werror -I$(B)/hdr/include \
			-fsyntax-only $(B)/hdr/t.cc || exit 1; \
	done; echo "check-headers: $(words $(PUBLIC_HEADERS)) headers alone as C and C++, from a copy of the include directory"

run: deps
	$(Q)$(MAKE) --no-print-directory VARIANT=release all nginx-module
	$(Q)tools/examples/run.sh build/release

# Benchmarks run in the release build; bench/RESULTS.md reports the
# medians of 10 repetitions, interleaved at random so that a load that
# comes and goes on a shared machine hits every case alike (this
# libbenchmark, 1.7, takes min_time as plain seconds).  The callgrind
# driver is C, linked like the tools.
BENCH_FLAGS ?= --benchmark_min_time=0.2 --benchmark_repetitions=10 \
	--benchmark_enable_random_interleaving=true \
	--benchmark_report_aggregates_only=true
CALLGRIND_BIN := $(B)/bench/callgrind_decide

$(CALLGRIND_BIN): $(B)/bench/callgrind_decide.o $(ENGINE_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(ENGINE_LIB) $(ENGINE_LIBS)

.PHONY: bench-run bench-callgrind-run

bench: deps
	$(Q)$(MAKE) --no-print-directory VARIANT=release bench-run

bench-run: all $(BENCH_BIN)
	$(Q)for b in $(BENCH_BIN); do $$b $(BENCH_FLAGS) || exit 1; done

bench-callgrind: deps
	$(Q)$(MAKE) --no-print-directory VARIANT=release bench-callgrind-run

bench-callgrind-run: all $(CALLGRIND_BIN)
	$(Q)bench/callgrind.sh $(B)

# bench_ipc drives a real corsd through the client library, starting it
# as the IPC tests do (tests/ipc/ipcutil.c); its AF_UNIX baseline server
# decides with the engine.  This rule takes precedence over the pattern.
$(B)/bench/bench_ipc: $(B)/bench/bench_ipc.o $(BENCH_GOALS_OBJ) \
		$(BENCH_IPC_OBJ) $(B)/tests/ipc/ipcutil.o $(CLIENT_LIB) \
		$(ENGINE_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CXX) $(LDFLAGS) -o $@ $< $(BENCH_GOALS_OBJ) $(BENCH_IPC_OBJ) \
		$(B)/tests/ipc/ipcutil.o $(CLIENT_LIB) $(ENGINE_LIB) \
		$(ENGINE_LIBS) -lbenchmark -lpthread

-include $(BENCH_OBJ:.o=.d) $(B)/bench/callgrind_decide.d

# The X-macro tables (engine/include/corsd/tbl_*.h) are laid out by hand.
FORMAT_SRC = $(filter-out engine/include/corsd/tbl_%,$(shell git ls-files 'engine/*.[ch]' \
	'ipc/*.[ch]' 'tools/corsd/*.[ch]' 'tools/corsctl/*.[ch]' 'tests/*.[ch]'))

format:
	$(Q)clang-format -i $(FORMAT_SRC)

format-check:
	$(Q)clang-format --dry-run -Werror $(FORMAT_SRC)
	@echo "format-check: $(words $(FORMAT_SRC)) files formatted"

clean:
	rm -rf build

-include $(ENGINE_OBJ:.o=.d) $(CORSCTL_OBJ:.o=.d) $(CLIENT_OBJ:.o=.d) \
	$(SERVER_OBJ:.o=.d) $(CORSD_OBJ:.o=.d) $(IPC_TEST_SRC:%.c=$(B)/%.d) \
	$(UNIT_SRC:%.c=$(B)/%.d) $(UNIT_SUPPORT_OBJ:.o=.d)

# ---- nginx dynamic module (tools/nginx) and its tests (tests/nginx) ----
# The module is built against the installed nginx by nginx's own configure,
# as Debian builds its module packages (tools/nginx/build.sh), with the
# client library linked in.  `make test` builds it in the release variant,
# where tests/run-all.sh runs tests/nginx/run.sh (and tests/e2e/run.sh,
# which drives headless Chromium).
DEB_PKGS += curl nginx nginx-dev chromium wrk
NGX_MODULE := $(B)/ngx_http_corsd_module.so

.PHONY: nginx-module test-nginx bench-e2e bench-e2e-run bench-e2e-callgrind \
	bench-e2e-callgrind-run

nginx-module: $(NGX_MODULE)

$(NGX_MODULE): tools/nginx/ngx_http_corsd_module.c tools/nginx/config \
		tools/nginx/build.sh $(CLIENT_LIB) $(PUBLIC_HEADERS) \
		$(PUBLIC_TABLES)
	$(Q)tools/nginx/build.sh $(B)

test-nginx: all $(NGX_MODULE)
	$(Q)tests/nginx/run.sh $(B)

# wrk against nginx with no CORS, with a hand-written 1000-origin map and
# with the module + corsd, interleaved in one run (bench/e2e/run.sh; about
# 3 minutes); the callgrind variant counts user-space instructions per
# request instead (about 1 minute).  bench/RESULTS.md has the numbers.
bench-e2e: deps
	$(Q)$(MAKE) --no-print-directory VARIANT=release bench-e2e-run

bench-e2e-run: all $(NGX_MODULE)
	$(Q)bench/e2e/run.sh $(B)

bench-e2e-callgrind: deps
	$(Q)$(MAKE) --no-print-directory VARIANT=release bench-e2e-callgrind-run

bench-e2e-callgrind-run: all $(NGX_MODULE)
	$(Q)CALLGRIND=1 bench/e2e/run.sh $(B)

ifeq ($(VARIANT),release)
build: $(NGX_MODULE)
endif
