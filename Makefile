# upgrader: the one build entry (docs/design.md). `make` builds both programs into build/;
# `make check` builds and runs every test twice, plain and under ASan+UBSan.

PREFIX  ?= /usr/local
DESTDIR ?=
# Where `make install` puts the systemd units (systemd reads /usr/local/lib/systemd/system too).
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
CC      ?= cc

# SAN=1 selects the sanitizer build, kept apart in its own folder.
ifeq ($(SAN),1)
BUILD    ?= build-asan
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT      := -O1
else
BUILD    ?= build
SANFLAGS :=
OPT      := -O2
endif

PKGS := libcurl openssl zlib libarchive expat json-c libmicrohttpd libzstd libubootenv blkid
# ISA-L (fast gzip inflate) is used where its package is present, zlib otherwise.
HAVE_ISAL := $(shell pkg-config --exists libisal 2>/dev/null && echo 1)
ifeq ($(HAVE_ISAL),1)
PKGS += libisal
ISAL_DEF := -DHAVE_ISAL=1
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE $(ISAL_DEF) $(SANFLAGS) \
           -I. -Iupgrader -Itests/unit/support $(PKG_CFLAGS) -MMD -MP
LDFLAGS += $(SANFLAGS)
LDLIBS  += $(PKG_LIBS) -lpthread

# Every module but the two main.c files goes into one static library that the programs
# and the unit tests link against, so a test links exactly the modules it uses. Modules live
# in folders by concern (docs/architecture.md has the map).
SRC_DIRS := common bootctl upgrader
LIB_SRCS := $(filter-out upgrader/main.c bootctl/main.c, $(shell find $(SRC_DIRS) -name '*.c' | sort))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/libupgrader.a

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
# Fixtures shared by several unit tests (tests/unit/support/), linked into every one.
TEST_SUPPORT_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/unit/support/*.c))
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

# Test helpers (servers, drivers) in tests/tools/, built into $(BUILD)/tools/ for make test.
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)

BENCH_SRCS := $(wildcard tests/bench/bench_*.c)
BENCH_BINS := $(BENCH_SRCS:tests/bench/%.c=$(BUILD)/bench/%)

PROGRAMS := $(BUILD)/upgrader $(BUILD)/bootctl

.PHONY: all deps deps-deb check test unit integration demo bench fuzz fuzz-ci powercut install clean images format format-check vm-test
all: $(PROGRAMS)

# Quiet by default; `make V=1` shows the full commands.
Q := $(if $(V),,@)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	@$(if $(Q),echo "  AR      $@")
	$(Q)$(AR) rcs $@ $^

$(BUILD)/upgrader: $(BUILD)/obj/upgrader/main.o $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bootctl: $(BUILD)/obj/bootctl/main.o $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A unit test may name link-time mocks in tests/unit/test_NAME.wrap (one symbol a line);
# each becomes -Wl,--wrap=SYMBOL for that test alone.
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(TEST_SUPPORT_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(TEST_SUPPORT_OBJS) $(LIB) \
	    $(if $(wildcard tests/unit/$*.wrap),$(addprefix -Wl$(comma)--wrap=,$(shell cat tests/unit/$*.wrap))) \
	    $(CMOCKA_LIBS) $(LDLIBS)
comma := ,

$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# The web pages' static files are built into the program (.incbin): a change rebuilds it.
$(BUILD)/obj/upgrader/web/assets.o: $(wildcard upgrader/web/assets/*)

# Unit test objects stay after the link, so make does not rebuild them each time.
.SECONDARY:

# Runs the unit tests and the integration tests against the programs of this build.
test: $(PROGRAMS) $(UNIT_BINS) $(TOOL_BINS)
	@BUILD=$(BUILD) tests/run.sh

# The QEMU story runs once, after the plain suite (not again under ASan: it boots the plain
# build's programs inside the guest).
check: deps
	$(MAKE) format-check
	$(MAKE) test
	$(MAKE) vm-test
	$(MAKE) test SAN=1

# A whole A/B device booted by OVMF and GRUB under QEMU through an upgrade with a stepping
# stone and a rollback (tests/vm/run.sh), then Debian's U-Boot choosing from the environment
# the uboot backend writes (tests/vm/uboot.sh); console logs stay in $(BUILD)/vm-logs/.
vm-test: all
	@BUILD=$(BUILD) tests/vm/run.sh
	@BUILD=$(BUILD) tests/vm/uboot.sh

# Layout is mechanical: .clang-format decides it, `make format` applies it, and `make check`
# fails on any C file that differs from it.
FORMAT_SRCS = $(shell git ls-files '*.c' '*.h' 2>/dev/null || find $(SRC_DIRS) tests -name '*.[ch]')
format:
	@clang-format -i $(FORMAT_SRCS)
format-check:
	@bad=$$(for f in $(FORMAT_SRCS); do clang-format $$f | cmp -s - $$f || echo $$f; done); \
	if [ -n "$$bad" ]; then echo "not formatted (run make format):"; echo "$$bad" | sed 's/^/  /'; exit 1; fi; \
	echo "format: every C file is as .clang-format lays it out"

demo: deps all
	@BUILD=$(BUILD) tests/demo.sh

# Speed goals live here, never in timed tests: each benchmark prints its figures beside a
# baseline measured in the same run.
bench: all $(BENCH_BINS) $(TOOL_BINS)
	@BUILD=$(BUILD) tests/bench.sh

# Demo firmware: ext4 images, signed bundles and a signed catalog (images/README.md).
images: $(BUILD)/upgrader
	images/build.sh $(BUILD)/images $(BUILD)/upgrader

# Fuzzing (tests/fuzz/run.sh): `make fuzz` runs each harness FUZZ_SECONDS at random to look
# for new defects (FUZZ_RUNS=N runs N executions per harness instead, FUZZ_ONLY="a b" picks
# harnesses); `make fuzz-ci` (CI) replays every seed input and makes one fixed-seed run
# of a fixed length per harness, so it fails only on a defect.
fuzz:
	@BUILD=$(BUILD) PKGS="$(PKGS)" tests/fuzz/run.sh
fuzz-ci:
	@BUILD=$(BUILD) PKGS="$(PKGS)" tests/fuzz/run.sh ci

# Power cuts (tests/integration/test_powercut.sh, docs/reliability.md): RUNS cuts (default
# 1000) at random instants and at fsyncs and renames of a resync, apply, param set, upgrade
# pass, boot step or bootctl change, each followed by a power-on and its checks. SEED=S
# reproduces a run's schedule; without it a new seed is drawn and printed. `make test` runs
# 12 cuts with a fixed seed.
RUNS ?= 1000
powercut: $(PROGRAMS) $(TOOL_BINS)
	@UPGRADER=$(CURDIR)/$(BUILD)/upgrader BOOTCTL=$(CURDIR)/$(BUILD)/bootctl TOP=$(CURDIR) RUNS=$(RUNS) \
	    SEED=$${SEED:-$$(od -An -N3 -tu4 /dev/urandom | tr -d ' ')} bash tests/integration/test_powercut.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/share/upgrader/dhcp
	for f in udhcpc-hook.sh dhclient-exit-hook.sh; do \
	    sed 's|@BINDIR@|$(PREFIX)/bin|g' upgrader/resync/hooks/$$f >$(DESTDIR)$(PREFIX)/share/upgrader/dhcp/$$f && \
	    chmod 0755 $(DESTDIR)$(PREFIX)/share/upgrader/dhcp/$$f || exit 1; \
	done
	install -m 0644 upgrader/resync/hooks/dhclient-upgrader.conf $(DESTDIR)$(PREFIX)/share/upgrader/dhcp/
	install -d $(DESTDIR)$(SYSTEMD_UNIT_DIR)
	for f in upgrader.service upgrader-boot.service; do \
	    sed 's|@BINDIR@|$(PREFIX)/bin|g' upgrader/daemon/units/$$f >$(DESTDIR)$(SYSTEMD_UNIT_DIR)/$$f && \
	    chmod 0644 $(DESTDIR)$(SYSTEMD_UNIT_DIR)/$$f || exit 1; \
	done

clean:
	rm -rf build build-asan build-fuzz

# Debian packages that building, testing, the QEMU story and the demo need; installed only
# where missing. The QEMU device's kernel is not installed: tests/vm/build.sh fetches
# Debian's linux-image package with apt-get download and unpacks it (an installed kernel's
# initramfs hook alone takes minutes).
# baresip-core and sip-tester (sipp) place and take the real calls of the daemon's tests.
# policy-rc.d keeps apt from starting nginx or tftpd-hpa as system services on all
# addresses: the tests start their own on 127.0.0.1 high ports.
DEB_PACKAGES := build-essential pkg-config libcurl4-openssl-dev libssl-dev zlib1g-dev \
                libarchive-dev libcmocka-dev libexpat1-dev libjson-c-dev libmicrohttpd-dev \
                libzstd-dev libisal-dev tftpd-hpa tftp-hpa openssl e2fsprogs curl zstd gzip jq \
                clang clang-format libclang-rt-14-dev iproute2 time strace python3 \
                libubootenv-dev libubootenv-tool libblkid-dev grub-common u-boot-tools \
                qemu-system-x86 ovmf grub-efi-amd64-bin mtools gdisk busybox-static \
                dosfstools cpio kmod util-linux qemu-system-arm u-boot-qemu \
                baresip-core sip-tester chromium nodejs
# The web pages' browser test drives Debian's chromium with puppeteer-core (never a browser
# download), installed from tests/browser/package-lock.json into tests/browser/node_modules.
# npm comes with nodejs (NodeSource's package) or as Debian's npm, installed when missing.
deps: deps-deb
	@if [ -d tests/browser/node_modules/puppeteer-core ]; then echo "deps: puppeteer-core installed"; exit 0; fi; \
	SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	command -v npm >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends npm; \
	cd tests/browser && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund
deps-deb:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$$missing nginx-light"; \
	if [ -z "$$missing" ]; then echo "deps: all installed"; exit 0; fi; \
	echo "deps: installing$$missing"; \
	SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	had_policy=0; [ -e /usr/sbin/policy-rc.d ] && had_policy=1; \
	if [ $$had_policy = 0 ]; then printf '#!/bin/sh\nexit 101\n' | $$SUDO tee /usr/sbin/policy-rc.d >/dev/null; $$SUDO chmod 755 /usr/sbin/policy-rc.d; fi; \
	$$SUDO apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; rc=$$?; \
	if [ $$had_policy = 0 ]; then $$SUDO rm -f /usr/sbin/policy-rc.d; fi; \
	exit $$rc

-include $(LIB_OBJS:.o=.d) $(TEST_SUPPORT_OBJS:.o=.d) $(BUILD)/obj/upgrader/main.d $(BUILD)/obj/bootctl/main.d $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/obj/tests/unit/%.d) \
    $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/obj/tests/tools/%.d)
