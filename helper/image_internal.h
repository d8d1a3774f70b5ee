/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the image_*.c files only. */
#ifndef HUTCH_IMAGE_INTERNAL_H
#define HUTCH_IMAGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "error.h"
#include "image.h"
#include "jsonutil.h"


/* "sha256:HEX" of a buffer, or of a finished 32-byte digest. */
char *image_sha256(const void *data, size_t len);
char *image_sha256_hex(const unsigned char *md);
/* A descriptor object {mediaType, digest, size}; strings are borrowed from d. */
int image_descriptor_parse(json_object *d, const char *what, const char *path, const char **digest,
			   const char **mt, int64_t *size, hutch_err *err);
int image_rm_rf(const char *path, hutch_err *err);
void image_store_clean_tmp(const struct image_store *s);
/* Pick the manifest for the platform from an OCI index / Docker manifest list. */
int image_index_pick(json_object *index, const char *what, const char *platform, const char **digest,
		     hutch_err *err);
/* Parse "os/arch[/variant]". */
int image_platform_parse(const char *platform, char **os, char **arch, char **variant, hutch_err *err);

#endif
