# corsd - one non-recursive Makefile.  `make help` lists the targets: each
# is documented by a "## " comment on its rule line, and every .PHONY
# target must be (`make help` fails otherwise).
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
	liburcu-dev libjansson-dev

ENGINE_LIBS := -lyaml -lpcre2-8 -lpsl
# Every JSON corsd and corsctl read or write (tools/common/json.c).
JSON_LIBS := -ljansson

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

# What corsd and corsctl share: the JSON rules.
TOOLS_SRC := $(wildcard tools/common/*.c)
TOOLS_OBJ := $(TOOLS_SRC:%.c=$(B)/%.o)

CORSD_SRC := $(wildcard tools/corsd/*.c)
CORSD_OBJ := $(CORSD_SRC:%.c=$(B)/%.o) $(TOOLS_OBJ)
CORSD := $(B)/corsd
DAEMON_LIBS := -lurcu-memb -lurcu-common -lpthread

IPC_TEST_SRC := $(wildcard tests/ipc/test_*.c)
IPC_TEST_BIN := $(IPC_TEST_SRC:tests/ipc/%.c=$(B)/tests/%)
IPC_SUPPORT_SRC := $(filter-out tests/ipc/test_%.c,$(wildcard tests/ipc/*.c))
IPC_SUPPORT_OBJ := $(IPC_SUPPORT_SRC:%.c=$(B)/%.o)

CORSCTL_SRC := $(wildcard tools/corsctl/*.c)
CORSCTL_OBJ := $(CORSCTL_SRC:%.c=$(B)/%.o) $(TOOLS_OBJ)
CORSCTL := $(B)/corsctl

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
# Unit and IPC test binaries share $(B)/tests/ (tests/ipc/ipcutil.c finds
# corsd at ../corsd from there): one name in both would be one binary.
TEST_CLASH := $(filter $(notdir $(UNIT_BIN)),$(notdir $(IPC_TEST_BIN)))
ifneq ($(TEST_CLASH),)
$(error tests/unit/ and tests/ipc/ both have $(TEST_CLASH:%=%.c): rename one)
endif
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

all: $(ENGINE_LIB) $(CORSCTL) $(CLIENT_LIB) $(CLIENT_SO) $(CORSD) ## (the default) engine, client library, corsd, corsctl

# The "## " comments of the rules, in the order of this file; a .PHONY
# target without one is an error.
define HELP_AWK
/^\.PHONY:/ { phony = 1 }
phony {
	for (i = 1; i <= NF; i++)
		if ($$i != ".PHONY:" && $$i != "\\")
			want[$$i] = 1
	phony = /\\$$/
}
/^[A-Za-z0-9_.-]+:([^=]|$$).*## / {
	t = $$0; sub(/:.*/, "", t)
	d = $$0; sub(/^[^#]*## /, "", d)
	if (!(t in doc)) order[++n] = t
	doc[t] = d
}
END {
	for (i = 1; i <= n; i++)
		printf "  make %-24s %s\n", order[i], doc[order[i]]
	print "  VARIANT=release|debug|asan|tsan: build/VARIANT/ (release); V=1: full commands"
	for (t in want)
		if (!(t in doc)) {
			printf "help: .PHONY target %s has no \"## \" comment\n", t > "/dev/stderr"
			bad = 1
		}
	exit bad
}
endef
export HELP_AWK

help: ## this list
	@awk "$$HELP_AWK" $(MAKEFILE_LIST)

deps: ## apt-get install the Debian packages that are missing
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
		$(ENGINE_LIBS) $(JSON_LIBS) $(DAEMON_LIBS)

$(CORSCTL): $(CORSCTL_OBJ) $(ENGINE_LIB) $(CLIENT_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CORSCTL_OBJ) $(ENGINE_LIB) $(CLIENT_LIB) \
		$(ENGINE_LIBS) $(JSON_LIBS)

# IPC tests drive real processes: the client, the server side and the
# engine (to compare answers with in-process decisions).
$(IPC_TEST_BIN): $(B)/tests/%: $(B)/tests/ipc/%.o $(UNIT_SUPPORT_OBJ) \
		$(IPC_SUPPORT_OBJ) $(CLIENT_LIB) $(SERVER_LIB) $(ENGINE_LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(UNIT_SUPPORT_OBJ) $(IPC_SUPPORT_OBJ) \
		$(SERVER_LIB) \
		$(CLIENT_LIB) $(ENGINE_LIB) $(ENGINE_LIBS) $(JSON_LIBS) \
		$(DAEMON_LIBS) -lcmocka

$(UNIT_BIN): $(B)/tests/%: $(B)/tests/unit/%.o $(UNIT_SUPPORT_OBJ) $(ENGINE_LIB)
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

build: all $(UNIT_BIN) $(IPC_TEST_BIN) ## all, the test binaries and (release) the nginx module

# The unit tests run in the release build and again under ASan+UBSan.
test: deps ## install what is missing, build, run every suite (release, ASan, TSan)
	$(Q)$(MAKE) --no-print-directory VARIANT=release build check-headers \
		format-check
	$(Q)$(MAKE) --no-print-directory VARIANT=asan build
	$(Q)$(MAKE) --no-print-directory VARIANT=tsan build/tsan/corsd
	$(Q)tests/run-all.sh build/release build/asan

# The cmocka binaries alone: the engine's unit tests and the multi-process
# daemon tests (which start $(B)/corsd).
test-unit: $(UNIT_BIN) $(IPC_TEST_BIN) $(CORSD) ## the cmocka tests alone (tests/unit, tests/ipc)
	$(Q)tests/run-all.sh --unit $(B)

test-cli: all ## the corsctl tests alone (tests/cli)
	$(Q)tests/cli/run.sh $(B)

# Each public header compiles alone, as C and as C++, from a copy of the
# public include directories and nothing else: what `make install` would
# put in $(PREFIX)/include, away from the source tree.
check-headers: ## each public header alone, as C and C++, outside the tree
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

run: deps ## install what is missing, build, run the example job
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

bench: deps ## Google Benchmark: decide(), compile, shared memory
	$(Q)$(MAKE) --no-print-directory VARIANT=release bench-run

bench-run: all $(BENCH_BIN) ## bench, in build/VARIANT, without installing
	$(Q)for b in $(BENCH_BIN); do $$b $(BENCH_FLAGS) || exit 1; done

bench-callgrind: deps ## instructions per decision under callgrind
	$(Q)$(MAKE) --no-print-directory VARIANT=release bench-callgrind-run

bench-callgrind-run: all $(CALLGRIND_BIN) ## bench-callgrind, in build/VARIANT, without installing
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
		$(ENGINE_LIBS) $(JSON_LIBS) -lbenchmark -lpthread

-include $(BENCH_OBJ:.o=.d) $(B)/bench/callgrind_decide.d

# The C sources in our style, found with find(1) (a tarball has no git);
# the X-macro tables (engine/include/corsd/tbl_*.h, ipc/tbl_*.h) are laid
# out by hand, and tools/nginx/ keeps nginx's style.
FORMAT_SRC = $(filter-out engine/include/corsd/tbl_% ipc/tbl_%,$(shell \
	find engine ipc tools/common tools/corsd tools/corsctl tests \
	-name '*.[ch]' | LC_ALL=C sort))

format: ## reformat the C sources with .clang-format
	$(Q)clang-format -i $(FORMAT_SRC)

format-check: ## fail if a C source is not formatted
	$(Q)set -- $(FORMAT_SRC); if [ $$# = 0 ]; then \
		echo "format-check: found no C sources" >&2; exit 1; fi; \
	clang-format --dry-run -Werror "$$@" && \
		echo "format-check: $$# files formatted"

clean: ## remove build/
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

nginx-module: $(NGX_MODULE) ## the nginx dynamic module (ngx_http_corsd_module.so)

$(NGX_MODULE): tools/nginx/ngx_http_corsd_module.c tools/nginx/config \
		tools/nginx/build.sh $(CLIENT_LIB) $(PUBLIC_HEADERS) \
		$(PUBLIC_TABLES)
	$(Q)tools/nginx/build.sh $(B)

test-nginx: all $(NGX_MODULE) ## the nginx tests alone (NGINX_PROTO=h2c: over HTTP/2)
	$(Q)tests/nginx/run.sh $(B)

# wrk against nginx with no CORS, with a hand-written 1000-origin map and
# with the module + corsd, interleaved in one run (bench/e2e/run.sh; about
# 3 minutes); the callgrind variant counts user-space instructions per
# request instead (about 1 minute).  bench/RESULTS.md has the numbers.
bench-e2e: deps ## wrk: nginx without CORS, with a map, with corsd
	$(Q)$(MAKE) --no-print-directory VARIANT=release bench-e2e-run

bench-e2e-run: all $(NGX_MODULE) ## bench-e2e, in build/VARIANT, without installing
	$(Q)bench/e2e/run.sh $(B)

bench-e2e-callgrind: deps ## bench-e2e in user-space instructions per request
	$(Q)$(MAKE) --no-print-directory VARIANT=release bench-e2e-callgrind-run

bench-e2e-callgrind-run: all $(NGX_MODULE) ## bench-e2e-callgrind, in build/VARIANT, without installing
	$(Q)CALLGRIND=1 bench/e2e/run.sh $(B)

ifeq ($(VARIANT),release)
build: $(NGX_MODULE)
endif
