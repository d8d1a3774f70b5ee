/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Images: references, the content-addressed store, the registry client,
 * layer unpacking and bundles made from images.
 *
 *   image_ref.c       parse "registry/repo:tag@sha256:..." references
 *   image_store.c     blobs, the ref index, the lock, garbage collection
 *   image_registry.c  OCI distribution / Docker registry v2 client (pull)
 *   image_import.c    docker-archive and OCI layout tar import
 *   image_unpack.c    layer tar -> directory, whiteouts, safe path walk
 *   image_bundle.c    config.json from the image config, overlay snapshots
 */
#ifndef HUTCH_IMAGE_H
#define HUTCH_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

#include "error.h"

#define IMAGE_DEFAULT_STORE "/var/lib/hutch/images"
#define IMAGE_DEFAULT_REGISTRY "docker.io"

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"

/* ---- references (image_ref.c) ---- */
struct image_ref {
	char *registry;     /* "docker.io", "127.0.0.1:5000" */
	char *repository;   /* "library/busybox" */
	char *tag;          /* "latest" unless a digest alone was given */
	char *digest;       /* "sha256:<64 hex>" or NULL */
};

int image_ref_parse(const char *s, struct image_ref *r, hutch_err *err);
void image_ref_clear(struct image_ref *r);
/* "registry/repository:tag" (or "@digest" when there is no tag); the ref index key. */
char *image_ref_name(const struct image_ref *r);
bool image_digest_valid(const char *d);

/* ---- store (image_store.c) ---- */
struct image_store {
	char *root;
	int dirfd;
	int lockfd;
};

/* root NULL: $HUTCH_IMAGE_STORE, else IMAGE_DEFAULT_STORE. Creates the layout. */
int image_store_open(const char *root, struct image_store *s, hutch_err *err);
void image_store_close(struct image_store *s);
/* The store-wide lock (flock on ROOT/lock) guarding the ref index and GC. */
int image_store_lock(struct image_store *s, bool exclusive, hutch_err *err);
void image_store_unlock(struct image_store *s);

char *image_blob_path(const struct image_store *s, const char *digest);
bool image_blob_exists(const struct image_store *s, const char *digest);
/* Per-blob lock (ROOT/locks/HEX): returns an fd or -1 (EWOULDBLOCK with nonblock). */
int image_blob_lock(const struct image_store *s, const char *digest, bool nonblock, hutch_err *err);

/* Streaming blob writer: data goes to ROOT/tmp, is hashed as it arrives, and only a
 * blob whose sha256 (and size, when known) matches is renamed into blobs/. */
struct blob_writer {
	int fd;
	char *tmp;              /* path under the store's tmp/ */
	void *md;               /* EVP_MD_CTX */
	uint64_t size;
	int64_t expect_size;    /* -1 when unknown */
	char *expect;           /* expected digest or NULL */
};
int blob_writer_open(const struct image_store *s, const char *expect, int64_t expect_size,
		     struct blob_writer *w, hutch_err *err);
int blob_writer_write(struct blob_writer *w, const void *data, size_t len, hutch_err *err);
/* Verify and store; *digest (optional) gets the blob's digest. Always closes w. */
int blob_writer_commit(const struct image_store *s, struct blob_writer *w, char **digest, hutch_err *err);
void blob_writer_abort(struct blob_writer *w);

int image_store_put(const struct image_store *s, const void *data, size_t len, const char *expect,
		    char **digest, hutch_err *err);
/* Read a stored blob, verifying its digest again (for small JSON blobs). */
int image_store_read(const struct image_store *s, const char *digest, char **data, size_t *len,
		     hutch_err *err);
int image_store_read_json(const struct image_store *s, const char *digest, json_object **out,
			  hutch_err *err);

/* The ref index ROOT/refs.json: {"NAME": {"manifest": D, "index": D, "created": T}}.
 * Callers hold the exclusive lock for set/remove. */
int image_refs_load(const struct image_store *s, json_object **out, hutch_err *err);
int image_refs_set(const struct image_store *s, const char *name, const char *manifest,
		   const char *index, hutch_err *err);
/* Find a ref by name, short name ("busybox" = "docker.io/library/busybox:latest"),
 * manifest digest or a unique digest prefix. *name and *manifest are allocated. */
int image_lookup(const struct image_store *s, const char *ref, char **name, char **manifest,
		 hutch_err *err);
int image_refs_remove(const struct image_store *s, const char *name, hutch_err *err);
/* Remove blobs and cached layer dirs no ref uses; *freed counts removed blobs. */
int image_store_gc(const struct image_store *s, int *freed, hutch_err *err);

/* ---- manifests (image_store.c) ---- */
struct image_layer {
	char *digest;
	char *media_type;
	int64_t size;
};
struct image_manifest {
	json_object *json;        /* the manifest */
	char *digest;
	char *config_digest;
	json_object *config;      /* the image config */
	struct image_layer *layers;
	size_t nlayers;
};
/* Load and check a stored manifest plus its config. */
int image_manifest_load(const struct image_store *s, const char *digest, struct image_manifest *m,
			hutch_err *err);
/* Check a parsed manifest's fields (schema, config, layers, media types). */
int image_manifest_parse(json_object *j, const char *what, struct image_manifest *m, hutch_err *err);
void image_manifest_clear(struct image_manifest *m);
bool image_layer_type_supported(const char *mt);

/* ---- registry (image_registry.c) ---- */
struct image_pull_opts {
	const char *creds;       /* "USER:PASS" or NULL */
	const char *authfile;    /* NULL: $REGISTRY_AUTH_FILE, containers auth.json, docker config */
	const char *ca_file;     /* CA bundle to trust for HTTPS besides the system's */
	bool insecure;           /* plain HTTP for this pull, whatever registries.conf says */
	bool quiet;
	const char *platform;    /* "os/arch[/variant]" or NULL for the host's */
};
int image_pull(struct image_store *s, const char *ref, const struct image_pull_opts *o,
	       char **manifest_digest, hutch_err *err);
/* Is host[:port] listed as insecure (plain HTTP) in registries.conf? */
bool image_registry_insecure(const char *registry);
/* "linux/amd64" etc. for this machine. */
void image_host_platform(const char **os, const char **arch, const char **variant);

/* ---- import (image_import.c) ---- */
int image_import(struct image_store *s, const char *file, const char *name, char ***names,
		 hutch_err *err);

/* ---- unpack (image_unpack.c) ---- */
enum unpack_mode {
	UNPACK_FLAT,      /* apply whiteouts by removing what lower layers made */
	UNPACK_OVERLAY,   /* write whiteouts as overlayfs expects (0/0 char devs, opaque xattr) */
};
/* Unpack the layer tar read from fd into the directory dirfd. Every entry is created
 * through a walk that stays beneath dirfd; an entry that would land outside fails. */
int image_unpack_fd(int layerfd, int dirfd, enum unpack_mode mode, const char *what, hutch_err *err);
/* Cached overlay-format dir of a layer blob: ROOT/layers/HEX, unpacked once. */
int image_layer_dir(const struct image_store *s, const char *digest, char **dir, hutch_err *err);

/* ---- bundles (image_bundle.c) ---- */
struct image_bundle_opts {
	char *const *args;       /* replaces Cmd when not NULL/empty */
	bool terminal;
};
/* config.json for the image: the default spec with the image config applied.
 * rootfs_dirfd is used to resolve user names through /etc/passwd and /etc/group. */
int image_make_config(json_object *imgconfig, const char *ref, int rootfs_dirfd,
		      const struct image_bundle_opts *o, json_object **out, hutch_err *err);
/* `hutch bundle create --image REF DIR`. */
int image_bundle_create(struct image_store *s, const char *ref, const char *dir,
			const struct image_bundle_opts *o, hutch_err *err);

/*
 * For the lifecycle (`run|create --image REF ID`): make a bundle whose rootfs is an
 * overlay of the image's cached layer dirs with a private upper dir, in the image
 * store under containers/. state_root is the --root of the runtime, so ids of different
 * roots do not collide. *bundle_dir is allocated.
 */
int hutch_image_prepare_bundle(const char *ref, const char *id, const char *state_root,
			       char *const *args, char **bundle_dir, hutch_err *err);
/* Unmount and remove what prepare made; 0 when there is nothing for id. */
int hutch_image_release(const char *id, const char *state_root, hutch_err *err);

#endif
