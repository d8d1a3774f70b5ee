# hutch — OCI container runtime with an optional kernel module.
#   make            build helper/hutch
#   make check      install deps, build, run every test suite; last line "N passed, N failed"
#   make demo       run a container from a bundled busybox rootfs
#   make module     build hutch.ko through Kbuild (KDIR= kernel build dir)

CC      ?= gcc
PKGS    := json-c libcap libseccomp libnl-genl-3.0 libnl-route-3.0 libkmod libcrypto
# Loaded on first use by helper/dl.c (dlopen by soname), not linked: see helper/dl.h.
PKGS_DL := libcurl libarchive libnftables
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
	      -DHUTCH_SONAME_NFTABLES='"$(call soname,libnftables,libnftables)"'

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

.PHONY: all deps check unit integration demo clean asan rootfs module vmtest vmshell bench dkms-install

all: helper/hutch

build build/cli build/asan build/asan/cli build/asan/unit:
	mkdir -p $@

HDRS := $(wildcard helper/*.h helper/cli/*.h uapi/linux/*.h)
build/%.o: helper/%.c $(HDRS) | build
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -MMD -c -o $@ $<

build/cli/%.o: helper/cli/%.c $(HDRS) | build/cli
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -Ihelper/cli -MMD -c -o $@ $<

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

# unit tests may call the dlopen()ed libraries themselves (e.g. to write test archives)
UNIT_LDLIBS := $(shell pkg-config --libs $(PKGS_DL) 2>/dev/null)

build/asan/unit/%: tests/unit/%.c $(ASAN_LIBOBJS) | build/asan/unit
	$(CC) $(CFLAGS) $(ASAN_FLAGS) -o $@ $< $(ASAN_LIBOBJS) $(LDLIBS) $(UNIT_LDLIBS)

asan: build/asan/hutch $(UNIT_BINS)

# Debian packages the build, the tests and the demo need; installs only what is missing.
DEPS_BUILD := build-essential pkg-config libjson-c-dev libcap-dev libseccomp-dev \
              libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libkmod-dev
DEPS_TEST  := busybox-static jq gojq util-linux iproute2 procps kmod
DEPS_IMAGE := libcurl4-openssl-dev libarchive-dev libssl-dev docker-registry skopeo apache2-utils \
              hyperfine python3 curl openssl
# The VM harness (tests/vm): qemu, the guest's tools, and per kernel of tests/vm/kernels the
# image (downloaded and unpacked into build/vm, not installed) and the matching headers.
DEPS_VM    := qemu-system-x86 busybox-static cpio apparmor selinux-policy-default
# networking: libraries, and nft/curl/socat for tests/integration/60-net.sh
DEPS_NET   := libnl-route-3-dev libnftables-dev nftables curl socat
DEPS_SECURITY := passwd bsdutils util-linux
# The module: DKMS and sparse (the headers of both kernels come from tests/vm/deps).
DEPS_KMOD  := dkms sparse libnl-genl-3-dev
deps:
	@./scripts/deps.sh $(DEPS_BUILD) $(DEPS_TEST) $(DEPS_IMAGE) $(DEPS_NET) $(DEPS_KMOD)
	@./scripts/deps.sh $(DEPS_SECURITY)
	@./scripts/fetch-checkpatch.sh build/checkpatch
	@./scripts/deps.sh $(DEPS_VM)
	@./tests/vm/deps

build/rootfs/bin/busybox: scripts/mkrootfs.sh
	./scripts/mkrootfs.sh build/rootfs

rootfs: build/rootfs/bin/busybox

unit: $(UNIT_BINS)

check: deps
	$(MAKE) all asan rootfs
	./tests/run

demo: deps
	$(MAKE) all rootfs
	./scripts/demo.sh

# The suites under Debian's kernels in qemu (tests/vm); also part of `make check`.
vmtest: all rootfs
	./tests/run vm

# An interactive shell on the serial console of the test image (KVER=6.1|6.12; Ctrl-a x quits).
KVER ?= 6.1
vmshell: all rootfs
	./tests/vm/fetch-kernel $(KVER)
	[ ! -f Kbuild ] || ./tests/vm/build-module $(KVER)
	./tests/vm/mkinitramfs $(KVER)
	./tests/vm/boot $(KVER) shell

clean:
	rm -rf build helper/hutch *.o *.ko *.mod *.mod.c .*.cmd modules.order Module.symvers kmod/*.o kmod/.*.cmd

# Real clients (tests/integration/80-podman.sh, 85-containerd.sh) and `make bench`.
DEPS_CLIENTS := podman conmon containerd runc crun hyperfine time python3-grpcio
.PHONY: deps-clients
deps: deps-clients
deps-clients:
	@./scripts/deps.sh $(DEPS_CLIENTS)

# hutch vs crun vs runc (hyperfine): markdown table, raw JSON in bench/results/.
# bpftrace: bench/kmod.sh compares hutch.ko's probes with a bpftrace program in the guest.
DEPS_BENCH := bpftrace
bench: deps
	@./scripts/deps.sh $(DEPS_BENCH)
	$(MAKE) all rootfs build/bench/forkloop
	./bench/run.sh
	@if [ -x bench/image.sh ]; then ./bench/image.sh; fi
	./bench/kmod.sh

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
all: $(SEC_TEST_HELPERS)
