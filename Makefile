# hutch — OCI container runtime with an optional kernel module.
#   make            build helper/hutch
#   make check      install deps, build, run every test suite; last line "N passed, N failed"
#   make demo       run a container from a bundled busybox rootfs
#   make module     build hutch.ko through Kbuild (KDIR= kernel build dir)

CC      ?= gcc
PKGS    := json-c libcap libseccomp libnl-genl-3.0 libnl-route-3.0
# Loaded on first use by helper/dl.c (dlopen by soname), not linked: see helper/dl.h.
PKGS_DL := libcurl libarchive libnftables libsystemd libkmod libcrypto
OPT     ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral \
           -Wmissing-prototypes -Wstrict-prototypes -Wno-unused-parameter
CFLAGS  += -std=gnu11 $(OPT) $(WARN) -I. -Ihelper -Iuapi \
           -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -ldl
CFLAGS  += $(shell pkg-config --cflags $(PKGS_DL) 2>/dev/null)
# soname LIB: the SONAME of the library pkg-config's LIB links, e.g. libcurl.so.4
soname = $(shell objdump -p $$(pkg-config --variable=libdir $(1) 2>/dev/null)/$(2).so 2>/dev/null | \
	   awk '$$1 == "SONAME" { print $$2 }')
DL_SONAMES := -DHUTCH_SONAME_CURL='"$(call soname,libcurl,libcurl)"' \
	      -DHUTCH_SONAME_ARCHIVE='"$(call soname,libarchive,libarchive)"' \
	      -DHUTCH_SONAME_NFTABLES='"$(call soname,libnftables,libnftables)"' \
	      -DHUTCH_SONAME_SYSTEMD='"$(call soname,libsystemd,libsystemd)"' \
	      -DHUTCH_SONAME_KMOD='"$(call soname,libkmod,libkmod)"' \
	      -DHUTCH_SONAME_CRYPTO='"$(call soname,libcrypto,libcrypto)"'

# helper/*.c is the library; helper/cli/ the command-line layer over it (main.c, cmd_*.c).
LIBSRCS := $(sort $(wildcard helper/*.c))
CLISRCS := $(sort $(wildcard helper/cli/*.c))
SRCS    := $(LIBSRCS) $(CLISRCS)
OBJS    := $(SRCS:helper/%.c=build/%.o)
LIBOBJS := $(LIBSRCS:helper/%.c=build/%.o)
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_OBJS  := $(SRCS:helper/%.c=build/asan/%.o)
ASAN_LIBOBJS := $(LIBSRCS:helper/%.c=build/asan/%.o)
UNIT_SRCS  := $(sort $(wildcard tests/unit/*.c))
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=build/asan/unit/%)

.PHONY: all deps deps-demo check unit integration demo clean asan rootfs module vmtest vmshell bench dkms-install

all: helper/hutch

build build/cli build/asan build/asan/cli build/asan/unit:
	mkdir -p $@

HDRS := $(wildcard helper/*.h helper/cli/*.h uapi/linux/*.h)
build/%.o: helper/%.c $(HDRS) | build
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

build/cli/%.o: helper/cli/%.c $(HDRS) | build/cli
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -Ihelper/cli -MMD -MP -c -o $@ $<

build/dl.o build/asan/dl.o: CFLAGS += $(DL_SONAMES)

build/asan/%.o: helper/%.c $(HDRS) | build/asan
	@echo "  CC-ASAN $<"
	@$(CC) $(CFLAGS) $(ASAN_FLAGS) -c -o $@ $<

build/asan/cli/%.o: helper/cli/%.c $(HDRS) | build/asan/cli
	@echo "  CC-ASAN $<"
	@$(CC) $(CFLAGS) -Ihelper/cli $(ASAN_FLAGS) -c -o $@ $<

helper/hutch: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The same helper built with AddressSanitizer and UBSan, for the sanitizer runs.
build/asan/hutch: $(ASAN_OBJS)
	$(CC) $(LDFLAGS) $(ASAN_FLAGS) -o $@ $^ $(LDLIBS)

# The helper with fault injection (helper/fault.h) for tests/integration/35-faults.sh only:
# HUTCH_TEST_FAULT=PHASE kills it at PHASE. helper/hutch is built without it.
FAULT_OBJS := $(SRCS:helper/%.c=build/fault/%.o)
build/fault build/fault/cli:
	mkdir -p $@
build/fault/%.o: helper/%.c $(HDRS) | build/fault
	@echo "  CC-FAULT $<"
	@$(CC) $(CFLAGS) -DHUTCH_FAULT_INJECTION -c -o $@ $<
build/fault/cli/%.o: helper/cli/%.c $(HDRS) | build/fault/cli
	@echo "  CC-FAULT $<"
	@$(CC) $(CFLAGS) -Ihelper/cli -DHUTCH_FAULT_INJECTION -c -o $@ $<
build/fault/dl.o: CFLAGS += $(DL_SONAMES)
build/test/hutch-fault: $(FAULT_OBJS) | build/test
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
all: build/test/hutch-fault

# libFuzzer targets (tests/fuzz/*.c, clang) over the library built with ASan+UBSan:
#   make fuzz [FUZZ_SECONDS=60]   build them and run each (tests/fuzz/run); make check runs them
FUZZ_CC      := clang
FUZZ_FLAGS   := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
		-fno-omit-frame-pointer
FUZZ_LIBOBJS := $(LIBSRCS:helper/%.c=build/fuzz/%.o)
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(sort $(wildcard tests/fuzz/*.c)))
build/fuzz:
	mkdir -p $@
build/fuzz/%.o: helper/%.c $(HDRS) | build/fuzz
	@echo "  CC-FUZZ $<"
	@$(FUZZ_CC) $(CFLAGS) $(FUZZ_FLAGS) -c -o $@ $<
build/fuzz/dl.o: CFLAGS += $(DL_SONAMES)
build/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_LIBOBJS)
	@echo "  FUZZER  $@"
	@$(FUZZ_CC) $(CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIBOBJS) $(LDLIBS)
.SECONDARY: $(FUZZ_LIBOBJS)
.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_TARGETS)
fuzz: fuzz-build
	./tests/fuzz/run

# unit tests may call the dlopen()ed libraries themselves (e.g. to write test archives)
UNIT_LDLIBS := $(shell pkg-config --libs $(PKGS_DL) 2>/dev/null)

# A unit test of a helper/cli/ file names its object here; the others link the library only.
build/asan/unit/opts: build/asan/cli/opts.o

build/asan/unit/%: tests/unit/%.c tests/unit/check.h $(ASAN_LIBOBJS) | build/asan/unit
	$(CC) $(CFLAGS) $(ASAN_FLAGS) -o $@ $< $(filter build/asan/cli/%.o,$^) $(ASAN_LIBOBJS) \
		$(LDLIBS) $(UNIT_LDLIBS)

asan: build/asan/hutch $(UNIT_BINS)

# Debian packages the build, the tests and the demo need; installs only what is missing.
# Everything the helper's build includes: the linked libraries and the headers of the dlopen()ed ones.
DEPS_BUILD := build-essential pkg-config libjson-c-dev libcap-dev libseccomp-dev \
              libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libkmod-dev libssl-dev \
              libcurl4-openssl-dev libarchive-dev libnftables-dev libsystemd-dev
DEPS_TEST  := busybox-static jq gojq util-linux iproute2 procps kmod criu
DEPS_IMAGE := libcurl4-openssl-dev libarchive-dev libssl-dev docker-registry skopeo apache2-utils \
              hyperfine python3 curl openssl
# The VM harness (tests/vm): qemu, the guest's tools, and per kernel of tests/vm/kernels the
# image (downloaded and unpacked into build/vm, not installed) and the matching headers;
# what builds the debug kernel (tests/vm/build-debug-kernel) and the chroot of the newest
# kernel (tests/vm/chroot-setup).
DEPS_VM    := qemu-system-x86 busybox-static cpio apparmor selinux-policy-default \
              bc bison flex libelf-dev libssl-dev xz-utils debootstrap
# networking: libraries, and nft/curl/socat for tests/integration/60-net.sh
DEPS_NET   := libnl-route-3-dev libnftables-dev nftables curl socat
DEPS_SECURITY := passwd bsdutils util-linux
# The module: DKMS and sparse (the headers of both kernels come from tests/vm/deps).
DEPS_KMOD  := dkms sparse libnl-genl-3-dev
# make fuzz: clang with libFuzzer and the sanitizer runtimes
DEPS_FUZZ  := clang libclang-rt-14-dev
deps:
	@./scripts/deps.sh $(DEPS_BUILD) $(DEPS_TEST) $(DEPS_IMAGE) $(DEPS_NET) $(DEPS_KMOD) $(DEPS_FUZZ)
	@./scripts/deps.sh $(DEPS_SECURITY)
	@./scripts/fetch-checkpatch.sh build/checkpatch
	@./scripts/deps.sh $(DEPS_VM)
	@./tests/vm/deps
	@./tests/vm/apt-setup
	@./scripts/deps.sh $(DEPS_CONFORMANCE)

build/rootfs/bin/busybox: scripts/mkrootfs.sh
	./scripts/mkrootfs.sh build/rootfs

rootfs: build/rootfs/bin/busybox

unit: $(UNIT_BINS)

check: deps
	$(MAKE) all asan rootfs conformance-build fuzz-build
	./tests/run

# The OCI runtime conformance suite (opencontainers/runtime-tools, validation/*/*.t) from the
# source tarball in ../shared/conformance (vendored Go modules: builds offline with Debian's
# golang-1.23-go from bookworm-backports). Without the tarball, tests/conformance/run prints
# one SKIP line. RUNTIME=runc make conformance runs the same harness against runc.
DEPS_CONFORMANCE := golang-1.23-go
# ../shared next to the clone; in a git worktree, next to the main clone.
CONF_SHARED  ?= $(CURDIR)/../shared/conformance \
		$(abspath $(shell git rev-parse --git-common-dir 2>/dev/null)/../../shared/conformance)
CONF_TARBALL := $(firstword $(foreach d,$(CONF_SHARED),$(wildcard $(d)/runtime-tools-*.tar.gz)))
CONF_DIR     := build/conformance
CONF_GOENV   := PATH=/usr/lib/go-1.23/bin:$$PATH GOFLAGS=-mod=vendor GOTOOLCHAIN=local GOPROXY=off \
		GOCACHE=$(CURDIR)/build/go-cache GOPATH=$(CURDIR)/build/go-path
.PHONY: conformance conformance-build
ifneq ($(CONF_TARBALL),)
$(CONF_DIR)/runtimetest: $(CONF_TARBALL)
	rm -rf $(CONF_DIR) && mkdir -p $(CONF_DIR)
	tar -xzf $< -C $(CONF_DIR)
	$(CONF_GOENV) $(MAKE) -C $(CONF_DIR) COMMIT=$$(basename $< .tar.gz) runtimetest validation-executables \
		> $(CONF_DIR).log 2>&1 || { tail -n 30 $(CONF_DIR).log; rm -f $@; exit 1; }
conformance-build: $(CONF_DIR)/runtimetest
else
conformance-build:
	@echo "conformance: no ../shared/conformance/runtime-tools-*.tar.gz, the suite is skipped"
endif
conformance: all rootfs conformance-build
	./tests/conformance/run

# The demo needs only the build libraries, busybox and jq: not the VM, the clients or the images.
DEPS_DEMO := $(DEPS_BUILD) busybox-static jq
deps-demo:
	@./scripts/deps.sh $(DEPS_DEMO)

demo: deps-demo
	$(MAKE) helper/hutch rootfs
	./scripts/demo.sh

# The suites under Debian's kernels in qemu (tests/vm); also part of `make check`.
vmtest: all rootfs
	./tests/run vm

# An interactive shell on the serial console of the test image (KVER=6.1|6.12; Ctrl-a x quits).
# KVER given on the command line or in the environment picks the guest's kernel; else 6.1
# (KVER's default below, the running kernel, is dkms-install's).
VM_KVER = $(if $(filter command line environment,$(origin KVER)),$(KVER),6.1)
vmshell: all rootfs
	./tests/vm/fetch-kernel $(VM_KVER)
	[ ! -f Kbuild ] || ./tests/vm/build-module $(VM_KVER)
	./tests/vm/mkinitramfs $(VM_KVER)
	./tests/vm/boot $(VM_KVER) shell

clean:
	rm -rf build helper/hutch *.o *.ko *.mod *.mod.c .*.cmd modules.order Module.symvers kmod/*.o kmod/.*.cmd

# Real clients (tests/integration/80-podman.sh, 82-buildah.sh, 85-containerd.sh; podman and
# conmon also go into the VM guests for 66-podman-checkpoint.sh), `make bench`,
# and systemd with D-Bus for --systemd-cgroup (45-systemd.sh runs it as PID 1 of namespaces).
DEPS_CLIENTS := podman conmon containerd runc crun buildah hyperfine time python3-grpcio \
                systemd dbus strace
.PHONY: deps-clients
deps: deps-clients
deps-clients:
	@./scripts/deps.sh $(DEPS_CLIENTS)

# hutch vs crun vs runc (hyperfine): markdown table, raw JSON in bench/results/; then the
# module in the VM (bench/kmod.sh) and every target ratio in one table (bench/targets.sh).
# bpftrace: bench/kmod.sh compares hutch.ko's probes with a bpftrace program in the guest.
DEPS_BENCH := bpftrace
bench: deps
	@./scripts/deps.sh $(DEPS_BENCH)
	$(MAKE) all rootfs build/bench/forkloop
	./bench/run.sh
	./bench/profile.sh
	@if [ -x bench/image.sh ]; then ./bench/image.sh; fi
	st=0; ./bench/kmod.sh || st=$$?; echo; echo "## Targets"; echo; ./bench/targets.sh; exit $$st

# the fork+exit loop of bench/kmod.sh, static: it runs in a busybox container
build/bench/forkloop: bench/forkloop.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -static -o $@ $<

# The kernel module (kmod/, uapi/, Kbuild): hutch.ko at the top of the tree.
#   make module [KDIR=/usr/src/linux-headers-VER] [W=1] [C=1 (sparse)]
KDIR    ?= /lib/modules/$(shell uname -r)/build
KMOD_SRCS := Kbuild $(wildcard kmod/*.c kmod/*.h) uapi/linux/hutch.h
module: $(KMOD_SRCS)
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(if $(W),W=$(W)) $(if $(C),C=$(C)) modules

# The raw-API test program the VM runs (tests/kmod/*.sh); links the netlink client.
KTEST_OBJS := build/kmodule.o build/error.o build/utils.o build/log.o
tests/kmod/kmod-test: tests/kmod/kmod-test.c $(KTEST_OBJS)
	$(CC) $(CFLAGS) -o $@ $< $(KTEST_OBJS) $(LDLIBS)
all: tests/kmod/kmod-test
# The netlink fuzzer tests/kmod/70-fuzz.sh runs in the VM (raw netlink, no library).
tests/kmod/nlfuzz: tests/kmod/nlfuzz.c uapi/linux/hutch.h
	$(CC) -std=gnu11 -O2 -g $(WARN) -Iuapi -o $@ $<
all: tests/kmod/nlfuzz

# Installs the module sources as /usr/src/hutch-VERSION and builds and installs
# them with DKMS for the running kernel (KVER= for another one).
DKMS_VER := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
KVER     ?= $(shell uname -r)
dkms-install:
	rm -rf /usr/src/hutch-$(DKMS_VER)
	mkdir -p /usr/src/hutch-$(DKMS_VER)/uapi/linux /usr/src/hutch-$(DKMS_VER)/kmod
	cp Kbuild dkms.conf /usr/src/hutch-$(DKMS_VER)/
	cp kmod/*.c kmod/*.h /usr/src/hutch-$(DKMS_VER)/kmod/
	cp uapi/linux/hutch.h /usr/src/hutch-$(DKMS_VER)/uapi/linux/
	dkms remove -m hutch -v $(DKMS_VER) --all >/dev/null 2>&1 || true
	dkms add -m hutch -v $(DKMS_VER)
	dkms build -m hutch -v $(DKMS_VER) -k $(KVER)
	dkms install -m hutch -v $(DKMS_VER) -k $(KVER)

-include $(OBJS:.o=.d)

# Security part: test helpers (console-socket receiver, seccomp notify listener).
SEC_TEST_HELPERS := build/test/console-recv build/test/seccomp-listener
build/test:
	mkdir -p $@
build/test/%: tests/helpers/%.c | build/test
	$(CC) -std=gnu11 -O2 $(WARN) -o $@ $<
# a lock holder for 65-checkpoint's --file-locks test, static: it runs in the busybox rootfs
build/test/flock-hold: tests/helpers/flock-hold.c | build/test
	$(CC) -std=gnu11 -O2 $(WARN) -static -o $@ $<
all: $(SEC_TEST_HELPERS) build/test/flock-hold
