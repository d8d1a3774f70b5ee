// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dlopen() of the libraries dl.h lists, by the soname the build saw (HUTCH_SONAME_*
 * from the Makefile), with every listed symbol resolved at once: a library that loads
 * but lacks a symbol is reported as such, never discovered by a crash later.
 */
#define _GNU_SOURCE
#define HUTCH_DL_IMPL
#define CURL_DISABLE_TYPECHECK
#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <nftables/libnftables.h>
#include <systemd/sd-bus.h>
#include <libkmod.h>
#include <openssl/evp.h>
#include <stdlib.h>

#include "dl.h"
#include "log.h"

#define HUTCH_DL_DEFINE(sym) __typeof__(sym) *hutch_dl_##sym;
HUTCH_DL_CURL_SYMS(HUTCH_DL_DEFINE)
HUTCH_DL_ARCHIVE_SYMS(HUTCH_DL_DEFINE)
HUTCH_DL_NFTABLES_SYMS(HUTCH_DL_DEFINE)
HUTCH_DL_SYSTEMD_SYMS(HUTCH_DL_DEFINE)
HUTCH_DL_KMOD_SYMS(HUTCH_DL_DEFINE)
HUTCH_DL_CRYPTO_SYMS(HUTCH_DL_DEFINE)

struct dl_sym {
	const char *name;
	void **slot;
};

#define HUTCH_DL_ENTRY(sym) { #sym, (void **)&hutch_dl_##sym },
static const struct dl_sym curl_syms[] = { HUTCH_DL_CURL_SYMS(HUTCH_DL_ENTRY) };
static const struct dl_sym archive_syms[] = { HUTCH_DL_ARCHIVE_SYMS(HUTCH_DL_ENTRY) };
static const struct dl_sym nft_syms[] = { HUTCH_DL_NFTABLES_SYMS(HUTCH_DL_ENTRY) };
static const struct dl_sym sd_syms[] = { HUTCH_DL_SYSTEMD_SYMS(HUTCH_DL_ENTRY) };
static const struct dl_sym kmod_syms[] = { HUTCH_DL_KMOD_SYMS(HUTCH_DL_ENTRY) };
static const struct dl_sym crypto_syms[] = { HUTCH_DL_CRYPTO_SYMS(HUTCH_DL_ENTRY) };

static const struct {
	const char *what;
	const char *soname;
	const char *package;
	const struct dl_sym *syms;
	size_t n;
} libs[HUTCH_DL_N] = {
	[HUTCH_DL_CURL] = { "libcurl", HUTCH_SONAME_CURL, "libcurl4", curl_syms,
			    sizeof(curl_syms) / sizeof(curl_syms[0]) },
	[HUTCH_DL_ARCHIVE] = { "libarchive", HUTCH_SONAME_ARCHIVE, "libarchive13", archive_syms,
			       sizeof(archive_syms) / sizeof(archive_syms[0]) },
	[HUTCH_DL_NFTABLES] = { "libnftables", HUTCH_SONAME_NFTABLES, "libnftables1", nft_syms,
				sizeof(nft_syms) / sizeof(nft_syms[0]) },
	[HUTCH_DL_SYSTEMD] = { "libsystemd", HUTCH_SONAME_SYSTEMD, "libsystemd0", sd_syms,
			       sizeof(sd_syms) / sizeof(sd_syms[0]) },
	[HUTCH_DL_KMOD] = { "libkmod", HUTCH_SONAME_KMOD, "libkmod2", kmod_syms,
			    sizeof(kmod_syms) / sizeof(kmod_syms[0]) },
	[HUTCH_DL_CRYPTO] = { "libcrypto", HUTCH_SONAME_CRYPTO, "libssl3", crypto_syms,
			      sizeof(crypto_syms) / sizeof(crypto_syms[0]) },
};

_Static_assert(sizeof(HUTCH_SONAME_CURL) > 1 && sizeof(HUTCH_SONAME_ARCHIVE) > 1 &&
		       sizeof(HUTCH_SONAME_NFTABLES) > 1 && sizeof(HUTCH_SONAME_SYSTEMD) > 1 &&
		       sizeof(HUTCH_SONAME_KMOD) > 1 && sizeof(HUTCH_SONAME_CRYPTO) > 1,
	       "a library's soname is unknown: are its -dev package and objdump installed?");

static bool loaded[HUTCH_DL_N];

int hutch_dl_load(enum hutch_dl_lib lib, hutch_err *err)
{
	void *h;
	size_t i;

	if ((unsigned int)lib >= HUTCH_DL_N)
		return hutch_fail(err, 0, "internal error: unknown library %d", (int)lib);
	if (loaded[lib])
		return 0;
	/* RTLD_LOCAL: its symbols serve only the pointers below, never other lookups */
	h = dlopen(libs[lib].soname, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return hutch_fail(err, 0, "%s is needed for this command but cannot be loaded (%s; install %s)",
				  libs[lib].what, dlerror(), libs[lib].package);
	for (i = 0; i < libs[lib].n; i++) {
		void *p = dlsym(h, libs[lib].syms[i].name);

		if (!p) {
			int r = hutch_fail(err, 0, "%s (%s) lacks %s", libs[lib].what, libs[lib].soname,
					   libs[lib].syms[i].name);

			while (i--)
				*libs[lib].syms[i].slot = NULL;
			dlclose(h);
			return r;
		}
		*libs[lib].syms[i].slot = p;
	}
	/* the handle stays open for the life of the process */
	loaded[lib] = true;
	return 0;
}

void hutch_dl_require(enum hutch_dl_lib lib)
{
	hutch_err err = NULL;

	if (hutch_dl_load(lib, &err) < 0) {
		log_error("%s", err->msg);
		exit(1);
	}
}
