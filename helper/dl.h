/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Libraries loaded on first use. hutch links json-c, libcap, libseccomp and libnl,
 * which nearly every command needs; libcurl (image pull), libarchive (layer
 * unpacking, image import), libnftables (published ports) and libsystemd (sd-bus, for
 * --systemd-cgroup) are used by a few commands only, yet with their dependencies (gnutls,
 * krb5, ldap, ICU, libxml2, libstdc++ ...) they
 * are 40 of the 55 objects the dynamic loader would map and relocate at every start,
 * which doubles the cost of `hutch state` and of each process `create` re-executes.
 * libkmod (`hutch module`, with libzstd and liblzma) and libcrypto (image digests: 21000
 * of the 24000 relocations left, and 400 KiB of pages written at every start) too.
 * So they are dlopen()ed by soname when a command first needs them, as systemd does with
 * its optional libraries.
 *
 * Use: include this header after the library's own header. For each function the
 * library block lists, the name becomes a macro for a function pointer of the same
 * type (so calls are still type-checked), filled in by hutch_dl_load(), which the
 * entry points of the code using the library call before anything else:
 *
 *     #include <nftables/libnftables.h>
 *     #include "dl.h"
 *     ...
 *     if (hutch_dl_load(HUTCH_DL_NFTABLES, err) < 0)
 *             return -1;
 *
 * dl.c defines HUTCH_DL_IMPL to see the real names. curl.h's type-checking wrappers are macros named like the functions, so a user of
 * libcurl defines CURL_DISABLE_TYPECHECK before including it.
 */
#ifndef HUTCH_DL_H
#define HUTCH_DL_H

#include "error.h"

enum hutch_dl_lib {
	HUTCH_DL_CURL,
	HUTCH_DL_ARCHIVE,
	HUTCH_DL_NFTABLES,
	HUTCH_DL_SYSTEMD,
	HUTCH_DL_KMOD,
	HUTCH_DL_CRYPTO,
	HUTCH_DL_N
};

/* Load LIB and resolve every symbol this header lists for it; idempotent. */
int hutch_dl_load(enum hutch_dl_lib lib, hutch_err *err);
/* The same where the caller cannot fail: a library that does not load ends the process
 * with the error, as running out of memory does. */
void hutch_dl_require(enum hutch_dl_lib lib);

#define HUTCH_DL_DECLARE(sym) extern __typeof__(sym) *hutch_dl_##sym;

#endif

#if defined(CURLINC_CURL_H) && !defined(HUTCH_DL_CURL_DECLARED)
#define HUTCH_DL_CURL_DECLARED
#define HUTCH_DL_CURL_SYMS(X) \
	X(curl_easy_cleanup) \
	X(curl_easy_escape) \
	X(curl_easy_getinfo) \
	X(curl_easy_init) \
	X(curl_easy_perform) \
	X(curl_easy_setopt) \
	X(curl_easy_strerror) \
	X(curl_free) \
	X(curl_multi_add_handle) \
	X(curl_multi_cleanup) \
	X(curl_multi_info_read) \
	X(curl_multi_init) \
	X(curl_multi_perform) \
	X(curl_multi_poll) \
	X(curl_multi_remove_handle) \
	X(curl_multi_setopt) \
	X(curl_slist_append) \
	X(curl_slist_free_all)
HUTCH_DL_CURL_SYMS(HUTCH_DL_DECLARE)
#ifndef HUTCH_DL_IMPL /* dl.c needs the real names */
/* curl.h's argument-count checks, same names (CURL_DISABLE_TYPECHECK leaves only these) */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#define curl_easy_cleanup hutch_dl_curl_easy_cleanup
#define curl_easy_escape hutch_dl_curl_easy_escape
#define curl_easy_getinfo hutch_dl_curl_easy_getinfo
#define curl_easy_init hutch_dl_curl_easy_init
#define curl_easy_perform hutch_dl_curl_easy_perform
#define curl_easy_setopt hutch_dl_curl_easy_setopt
#define curl_easy_strerror hutch_dl_curl_easy_strerror
#define curl_free hutch_dl_curl_free
#define curl_multi_add_handle hutch_dl_curl_multi_add_handle
#define curl_multi_cleanup hutch_dl_curl_multi_cleanup
#define curl_multi_info_read hutch_dl_curl_multi_info_read
#define curl_multi_init hutch_dl_curl_multi_init
#define curl_multi_perform hutch_dl_curl_multi_perform
#define curl_multi_poll hutch_dl_curl_multi_poll
#define curl_multi_remove_handle hutch_dl_curl_multi_remove_handle
#define curl_multi_setopt hutch_dl_curl_multi_setopt
#define curl_slist_append hutch_dl_curl_slist_append
#define curl_slist_free_all hutch_dl_curl_slist_free_all
#endif
#endif

#if defined(ARCHIVE_H_INCLUDED) && defined(ARCHIVE_ENTRY_H_INCLUDED) && !defined(HUTCH_DL_ARCHIVE_DECLARED)
#define HUTCH_DL_ARCHIVE_DECLARED
#define HUTCH_DL_ARCHIVE_SYMS(X) \
	X(archive_entry_atime) \
	X(archive_entry_atime_is_set) \
	X(archive_entry_atime_nsec) \
	X(archive_entry_filetype) \
	X(archive_entry_gid) \
	X(archive_entry_hardlink) \
	X(archive_entry_mtime) \
	X(archive_entry_mtime_nsec) \
	X(archive_entry_pathname) \
	X(archive_entry_perm) \
	X(archive_entry_rdevmajor) \
	X(archive_entry_rdevminor) \
	X(archive_entry_symlink) \
	X(archive_entry_uid) \
	X(archive_entry_xattr_next) \
	X(archive_entry_xattr_reset) \
	X(archive_error_string) \
	X(archive_read_data_block) \
	X(archive_read_free) \
	X(archive_read_new) \
	X(archive_read_next_header) \
	X(archive_read_open_fd) \
	X(archive_read_open_filename) \
	X(archive_read_support_filter_all) \
	X(archive_read_support_format_empty) \
	X(archive_read_support_format_tar)
HUTCH_DL_ARCHIVE_SYMS(HUTCH_DL_DECLARE)
#ifndef HUTCH_DL_IMPL /* dl.c needs the real names */
#define archive_entry_atime hutch_dl_archive_entry_atime
#define archive_entry_atime_is_set hutch_dl_archive_entry_atime_is_set
#define archive_entry_atime_nsec hutch_dl_archive_entry_atime_nsec
#define archive_entry_filetype hutch_dl_archive_entry_filetype
#define archive_entry_gid hutch_dl_archive_entry_gid
#define archive_entry_hardlink hutch_dl_archive_entry_hardlink
#define archive_entry_mtime hutch_dl_archive_entry_mtime
#define archive_entry_mtime_nsec hutch_dl_archive_entry_mtime_nsec
#define archive_entry_pathname hutch_dl_archive_entry_pathname
#define archive_entry_perm hutch_dl_archive_entry_perm
#define archive_entry_rdevmajor hutch_dl_archive_entry_rdevmajor
#define archive_entry_rdevminor hutch_dl_archive_entry_rdevminor
#define archive_entry_symlink hutch_dl_archive_entry_symlink
#define archive_entry_uid hutch_dl_archive_entry_uid
#define archive_entry_xattr_next hutch_dl_archive_entry_xattr_next
#define archive_entry_xattr_reset hutch_dl_archive_entry_xattr_reset
#define archive_error_string hutch_dl_archive_error_string
#define archive_read_data_block hutch_dl_archive_read_data_block
#define archive_read_free hutch_dl_archive_read_free
#define archive_read_new hutch_dl_archive_read_new
#define archive_read_next_header hutch_dl_archive_read_next_header
#define archive_read_open_fd hutch_dl_archive_read_open_fd
#define archive_read_open_filename hutch_dl_archive_read_open_filename
#define archive_read_support_filter_all hutch_dl_archive_read_support_filter_all
#define archive_read_support_format_empty hutch_dl_archive_read_support_format_empty
#define archive_read_support_format_tar hutch_dl_archive_read_support_format_tar
#endif
#endif

#if defined(LIB_NFTABLES_H) && !defined(HUTCH_DL_NFTABLES_DECLARED)
#define HUTCH_DL_NFTABLES_DECLARED
#define HUTCH_DL_NFTABLES_SYMS(X) \
	X(nft_ctx_buffer_error) \
	X(nft_ctx_buffer_output) \
	X(nft_ctx_free) \
	X(nft_ctx_get_error_buffer) \
	X(nft_ctx_new) \
	X(nft_run_cmd_from_buffer)
HUTCH_DL_NFTABLES_SYMS(HUTCH_DL_DECLARE)
#ifndef HUTCH_DL_IMPL /* dl.c needs the real names */
#define nft_ctx_buffer_error hutch_dl_nft_ctx_buffer_error
#define nft_ctx_buffer_output hutch_dl_nft_ctx_buffer_output
#define nft_ctx_free hutch_dl_nft_ctx_free
#define nft_ctx_get_error_buffer hutch_dl_nft_ctx_get_error_buffer
#define nft_ctx_new hutch_dl_nft_ctx_new
#define nft_run_cmd_from_buffer hutch_dl_nft_run_cmd_from_buffer
#endif
#endif

#if defined(foosdbushfoo) && !defined(HUTCH_DL_SYSTEMD_DECLARED)
#define HUTCH_DL_SYSTEMD_DECLARED
#define HUTCH_DL_SYSTEMD_SYMS(X) \
	X(sd_bus_call) \
	X(sd_bus_error_free) \
	X(sd_bus_error_has_name) \
	X(sd_bus_flush_close_unref) \
	X(sd_bus_match_signal) \
	X(sd_bus_message_append) \
	X(sd_bus_message_append_array) \
	X(sd_bus_message_close_container) \
	X(sd_bus_message_new_method_call) \
	X(sd_bus_message_open_container) \
	X(sd_bus_message_read) \
	X(sd_bus_message_unref) \
	X(sd_bus_new) \
	X(sd_bus_open_system) \
	X(sd_bus_process) \
	X(sd_bus_set_address) \
	X(sd_bus_slot_unref) \
	X(sd_bus_start) \
	X(sd_bus_wait)
HUTCH_DL_SYSTEMD_SYMS(HUTCH_DL_DECLARE)
#ifndef HUTCH_DL_IMPL /* dl.c needs the real names */
#define sd_bus_call hutch_dl_sd_bus_call
#define sd_bus_error_free hutch_dl_sd_bus_error_free
#define sd_bus_error_has_name hutch_dl_sd_bus_error_has_name
#define sd_bus_flush_close_unref hutch_dl_sd_bus_flush_close_unref
#define sd_bus_match_signal hutch_dl_sd_bus_match_signal
#define sd_bus_message_append hutch_dl_sd_bus_message_append
#define sd_bus_message_append_array hutch_dl_sd_bus_message_append_array
#define sd_bus_message_close_container hutch_dl_sd_bus_message_close_container
#define sd_bus_message_new_method_call hutch_dl_sd_bus_message_new_method_call
#define sd_bus_message_open_container hutch_dl_sd_bus_message_open_container
#define sd_bus_message_read hutch_dl_sd_bus_message_read
#define sd_bus_message_unref hutch_dl_sd_bus_message_unref
#define sd_bus_new hutch_dl_sd_bus_new
#define sd_bus_open_system hutch_dl_sd_bus_open_system
#define sd_bus_process hutch_dl_sd_bus_process
#define sd_bus_set_address hutch_dl_sd_bus_set_address
#define sd_bus_slot_unref hutch_dl_sd_bus_slot_unref
#define sd_bus_start hutch_dl_sd_bus_start
#define sd_bus_wait hutch_dl_sd_bus_wait
#endif
#endif

#if defined(_LIBKMOD_H_) && !defined(HUTCH_DL_KMOD_DECLARED)
#define HUTCH_DL_KMOD_DECLARED
#define HUTCH_DL_KMOD_SYMS(X) \
	X(kmod_list_next) \
	X(kmod_module_get_initstate) \
	X(kmod_module_get_module) \
	X(kmod_module_insert_module) \
	X(kmod_module_new_from_lookup) \
	X(kmod_module_new_from_name) \
	X(kmod_module_new_from_path) \
	X(kmod_module_probe_insert_module) \
	X(kmod_module_remove_module) \
	X(kmod_module_unref) \
	X(kmod_module_unref_list) \
	X(kmod_new) \
	X(kmod_unref)
HUTCH_DL_KMOD_SYMS(HUTCH_DL_DECLARE)
#ifndef HUTCH_DL_IMPL /* dl.c needs the real names */
#define kmod_list_next hutch_dl_kmod_list_next
#define kmod_module_get_initstate hutch_dl_kmod_module_get_initstate
#define kmod_module_get_module hutch_dl_kmod_module_get_module
#define kmod_module_insert_module hutch_dl_kmod_module_insert_module
#define kmod_module_new_from_lookup hutch_dl_kmod_module_new_from_lookup
#define kmod_module_new_from_name hutch_dl_kmod_module_new_from_name
#define kmod_module_new_from_path hutch_dl_kmod_module_new_from_path
#define kmod_module_probe_insert_module hutch_dl_kmod_module_probe_insert_module
#define kmod_module_remove_module hutch_dl_kmod_module_remove_module
#define kmod_module_unref hutch_dl_kmod_module_unref
#define kmod_module_unref_list hutch_dl_kmod_module_unref_list
#define kmod_new hutch_dl_kmod_new
#define kmod_unref hutch_dl_kmod_unref
#endif
#endif

#if defined(OPENSSL_EVP_H) && !defined(HUTCH_DL_CRYPTO_DECLARED)
#define HUTCH_DL_CRYPTO_DECLARED
#define HUTCH_DL_CRYPTO_SYMS(X) \
	X(EVP_DecodeBlock) \
	X(EVP_Digest) \
	X(EVP_DigestFinal_ex) \
	X(EVP_DigestInit_ex) \
	X(EVP_DigestUpdate) \
	X(EVP_EncodeBlock) \
	X(EVP_MD_CTX_free) \
	X(EVP_MD_CTX_new) \
	X(EVP_sha256)
HUTCH_DL_CRYPTO_SYMS(HUTCH_DL_DECLARE)
#ifndef HUTCH_DL_IMPL /* dl.c needs the real names */
#define EVP_DecodeBlock hutch_dl_EVP_DecodeBlock
#define EVP_Digest hutch_dl_EVP_Digest
#define EVP_DigestFinal_ex hutch_dl_EVP_DigestFinal_ex
#define EVP_DigestInit_ex hutch_dl_EVP_DigestInit_ex
#define EVP_DigestUpdate hutch_dl_EVP_DigestUpdate
#define EVP_EncodeBlock hutch_dl_EVP_EncodeBlock
#define EVP_MD_CTX_free hutch_dl_EVP_MD_CTX_free
#define EVP_MD_CTX_new hutch_dl_EVP_MD_CTX_new
#define EVP_sha256 hutch_dl_EVP_sha256
#endif
#endif
