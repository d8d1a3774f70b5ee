// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The image store, content-addressed:
 *   ROOT/blobs/sha256/HEX   verified blobs (manifests, configs, layers), read-only
 *   ROOT/refs.json          the ref index: name -> manifest digest
 *   ROOT/tmp/               blobs being written; each held under flock by its writer
 *   ROOT/locks/HEX          per-blob locks, so concurrent pulls fetch a blob once
 *   ROOT/layers/HEX         cached unpacked layers (overlay format)
 *   ROOT/containers/KEY     bundles of containers made by `run --image`
 *   ROOT/lock               the store lock (ref index, GC)
 * A blob is renamed into blobs/ only after its sha256 matched, so an interrupted
 * write leaves at most a tmp file that nothing reads and the next GC removes.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "dl.h"
#include "image.h"
#include "image_internal.h"
#include "log.h"
#include "utils.h"

static const char *const store_dirs[] = { "blobs", "blobs/sha256", "tmp", "locks", "layers", "containers" };

int image_store_open(const char *root, struct image_store *s, hutch_err *err)
{
	memset(s, 0, sizeof(*s));
	s->dirfd = s->lockfd = -1;
	if (!root || !*root)
		root = getenv("HUTCH_IMAGE_STORE");
	if (!root || !*root)
		root = IMAGE_DEFAULT_STORE;
	if (root[0] != '/')
		s->root = realpath(root, NULL);
	if (!s->root)
		s->root = xstrdup(root);
	if (mkdir_p(s->root, 0700, err) < 0)
		return hutch_error_prefix(err, "image store");
	s->dirfd = open(s->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0)
		return hutch_fail(err, errno, "image store: open `%s`", s->root);
	for (size_t i = 0; i < ARRAY_SIZE(store_dirs); i++)
		if (mkdirat(s->dirfd, store_dirs[i], 0700) < 0 && errno != EEXIST)
			return hutch_fail(err, errno, "image store: mkdir `%s/%s`", s->root, store_dirs[i]);
	s->lockfd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lockfd < 0)
		return hutch_fail(err, errno, "image store: open `%s/lock`", s->root);
	return 0;
}

void image_store_close(struct image_store *s)
{
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->lockfd >= 0)
		close(s->lockfd);
	free(s->root);
	s->root = NULL;
	s->dirfd = s->lockfd = -1;
}

int image_store_lock(struct image_store *s, bool exclusive, hutch_err *err)
{
	while (flock(s->lockfd, exclusive ? LOCK_EX : LOCK_SH) < 0)
		if (errno != EINTR)
			return hutch_fail(err, errno, "image store: lock `%s/lock`", s->root);
	return 0;
}

void image_store_unlock(struct image_store *s)
{
	flock(s->lockfd, LOCK_UN);
}

char *image_blob_path(const struct image_store *s, const char *digest)
{
	return xasprintf("%s/blobs/sha256/%s", s->root, digest + 7);
}

bool image_blob_exists(const struct image_store *s, const char *digest)
{
	cleanup_free char *rel = xasprintf("blobs/sha256/%s", digest + 7);

	return image_digest_valid(digest) && faccessat(s->dirfd, rel, F_OK, 0) == 0;
}

int image_blob_lock(const struct image_store *s, const char *digest, bool nonblock, hutch_err *err)
{
	cleanup_free char *rel = xasprintf("locks/%s", digest + 7);
	cleanup_close int fd = openat(s->dirfd, rel, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return hutch_fail(err, errno, "image store: open `%s/%s`", s->root, rel);
	while (flock(fd, LOCK_EX | (nonblock ? LOCK_NB : 0)) < 0) {
		if (errno == EWOULDBLOCK) {
			errno = EWOULDBLOCK;
			return -1;
		}
		if (errno != EINTR)
			return hutch_fail(err, errno, "image store: lock `%s/%s`", s->root, rel);
	}
	return steal_fd(&fd);
}

char *image_sha256_hex(const unsigned char *md)
{
	char *out = xmalloc(7 + 64 + 1);

	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", md[i]);
	return out;
}

char *image_sha256(const void *data, size_t len)
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	hutch_dl_require(HUTCH_DL_CRYPTO);
	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		oom();
	return image_sha256_hex(md);
}

int blob_writer_open(const struct image_store *s, const char *expect, int64_t expect_size,
		     struct blob_writer *w, hutch_err *err)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	if (hutch_dl_load(HUTCH_DL_CRYPTO, err) < 0)
		return -1;
	w->expect_size = expect_size;
	w->tmp = xasprintf("%s/tmp/blob-XXXXXX", s->root);
	w->fd = mkostemp(w->tmp, O_CLOEXEC);
	if (w->fd < 0) {
		int e = errno;

		free(w->tmp);
		w->tmp = NULL;
		return hutch_fail(err, e, "image store: create a temporary file in `%s/tmp`", s->root);
	}
	/* Held while writing: GC removes only tmp files nobody holds. */
	flock(w->fd, LOCK_EX | LOCK_NB);
	w->md = EVP_MD_CTX_new();
	if (!w->md || !EVP_DigestInit_ex(w->md, EVP_sha256(), NULL))
		oom();
	w->expect = xstrdup(expect);
	return 0;
}

int blob_writer_write(struct blob_writer *w, const void *data, size_t len, hutch_err *err)
{
	if (w->expect_size >= 0 && w->size + len > (uint64_t)w->expect_size)
		return hutch_fail(err, 0, "blob %s: more data than the %lld bytes its descriptor gives",
				  w->expect ? w->expect : "", (long long)w->expect_size);
	if (write_all(w->fd, data, len) < 0)
		return hutch_fail(err, errno, "image store: write `%s`", w->tmp);
	EVP_DigestUpdate(w->md, data, len);
	w->size += len;
	return 0;
}

void blob_writer_abort(struct blob_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp)
		unlink(w->tmp);
	if (w->md)
		EVP_MD_CTX_free(w->md);
	free(w->tmp);
	free(w->expect);
	memset(w, 0, sizeof(*w));
	w->fd = -1;
}

int blob_writer_commit(const struct image_store *s, struct blob_writer *w, char **digest, hutch_err *err)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	cleanup_free char *got = NULL, *rel = NULL;
	int ret = 0;

	EVP_DigestFinal_ex(w->md, md, &mdlen);
	got = image_sha256_hex(md);
	if (w->expect && strcmp(got, w->expect) != 0) {
		ret = hutch_fail(err, 0, "blob %s: content has digest %s: refusing to store it", w->expect, got);
		goto out;
	}
	if (w->expect_size >= 0 && w->size != (uint64_t)w->expect_size) {
		ret = hutch_fail(err, 0, "blob %s: got %llu bytes, its descriptor gives %lld", got,
				 (unsigned long long)w->size, (long long)w->expect_size);
		goto out;
	}
	if (fchmod(w->fd, 0444) < 0 || fdatasync(w->fd) < 0) {
		ret = hutch_fail(err, errno, "image store: `%s`", w->tmp);
		goto out;
	}
	rel = xasprintf("blobs/sha256/%s", got + 7);
	if (renameat2(AT_FDCWD, w->tmp, s->dirfd, rel, RENAME_NOREPLACE) < 0) {
		if (errno != EEXIST) {
			ret = hutch_fail(err, errno, "image store: store blob %s", got);
			goto out;
		}
		/* stored by someone else meanwhile: the same content */
	} else {
		free(w->tmp);
		w->tmp = NULL;
	}
	if (digest)
		*digest = steal_ptr(&got);
out:
	blob_writer_abort(w);
	return ret;
}

int image_store_put(const struct image_store *s, const void *data, size_t len, const char *expect,
		    char **digest, hutch_err *err)
{
	struct blob_writer w;

	if (expect && image_blob_exists(s, expect)) {
		cleanup_free char *d = image_sha256(data, len);

		if (strcmp(d, expect) != 0)
			return hutch_fail(err, 0, "blob %s: content has digest %s: refusing to store it", expect, d);
		if (digest)
			*digest = steal_ptr(&d);
		return 0;
	}
	if (blob_writer_open(s, expect, (int64_t)len, &w, err) < 0)
		return -1;
	if (blob_writer_write(&w, data, len, err) < 0) {
		blob_writer_abort(&w);
		return -1;
	}
	return blob_writer_commit(s, &w, digest, err);
}

int image_store_read(const struct image_store *s, const char *digest, char **data, size_t *len,
		     hutch_err *err)
{
	cleanup_free char *rel = NULL, *buf = NULL, *got = NULL;
	size_t n = 0;

	if (!image_digest_valid(digest))
		return hutch_fail(err, 0, "invalid digest `%s`", digest);
	rel = xasprintf("blobs/sha256/%s", digest + 7);
	if (read_file_at(s->dirfd, rel, &buf, &n, NULL) < 0)
		return hutch_fail(err, errno, "image store: blob %s", digest);
	got = image_sha256(buf, n);
	if (strcmp(got, digest) != 0)
		return hutch_fail(err, 0, "image store: blob %s is corrupt (content has digest %s)", digest, got);
	*data = steal_ptr(&buf);
	if (len)
		*len = n;
	return 0;
}

int image_store_read_json(const struct image_store *s, const char *digest, json_object **out,
			  hutch_err *err)
{
	cleanup_free char *buf = NULL;
	size_t n;
	json_object *j;

	if (image_store_read(s, digest, &buf, &n, err) < 0)
		return -1;
	j = json_tokener_parse(buf);
	if (!j || !json_object_is_type(j, json_type_object)) {
		json_object_put(j);
		return hutch_fail(err, 0, "blob %s: not a JSON object", digest);
	}
	*out = j;
	return 0;
}

/* ---- ref index ---- */

int image_refs_load(const struct image_store *s, json_object **out, hutch_err *err)
{
	cleanup_free char *buf = NULL;
	json_object *j;

	if (read_file_at(s->dirfd, "refs.json", &buf, NULL, NULL) < 0) {
		if (errno != ENOENT)
			return hutch_fail(err, errno, "image store: read `%s/refs.json`", s->root);
		*out = json_object_new_object();
		return 0;
	}
	j = json_tokener_parse(buf);
	if (!j || !json_object_is_type(j, json_type_object)) {
		json_object_put(j);
		return hutch_fail(err, 0, "image store: `%s/refs.json` is not a JSON object", s->root);
	}
	*out = j;
	return 0;
}

static int refs_save(const struct image_store *s, json_object *refs, hutch_err *err)
{
	const char *txt = json_object_to_json_string_ext(refs, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);

	return write_file_atomic_at(s->dirfd, "refs.json", txt, strlen(txt), err);
}

/* The ref index has its own lock so a pull (holding the store lock shared) can update it. */
static int refs_lock(const struct image_store *s, hutch_err *err)
{
	int fd = openat(s->dirfd, "refs.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return hutch_fail(err, errno, "image store: open `%s/refs.lock`", s->root);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			close(fd);
			return hutch_fail(err, errno, "image store: lock `%s/refs.lock`", s->root);
		}
	return fd;
}

int image_refs_set(const struct image_store *s, const char *name, const char *manifest,
		   const char *index, hutch_err *err)
{
	cleanup_close int lk = refs_lock(s, err);
	cleanup_json json_object *refs = NULL;
	json_object *e = json_object_new_object();
	cleanup_free char *now = rfc3339_now();

	if (lk < 0 || image_refs_load(s, &refs, err) < 0) {
		json_object_put(e);
		return -1;
	}
	json_object_object_add(e, "manifest", json_object_new_string(manifest));
	if (index)
		json_object_object_add(e, "index", json_object_new_string(index));
	json_object_object_add(e, "created", json_object_new_string(now));
	json_object_object_add(refs, name, e);
	return refs_save(s, refs, err);
}

int image_refs_remove(const struct image_store *s, const char *name, hutch_err *err)
{
	cleanup_close int lk = refs_lock(s, err);
	cleanup_json json_object *refs = NULL;

	if (lk < 0 || image_refs_load(s, &refs, err) < 0)
		return -1;
	json_object_object_del(refs, name);
	return refs_save(s, refs, err);
}

static const char *ref_manifest(json_object *e)
{
	json_object *m;

	if (!json_object_object_get_ex(e, "manifest", &m) || !json_object_is_type(m, json_type_string))
		return NULL;
	return json_object_get_string(m);
}

int image_lookup(const struct image_store *s, const char *ref, char **name, char **manifest,
		 hutch_err *err)
{
	cleanup_json json_object *refs = NULL;
	json_object *e;
	const char *found = NULL, *found_m = NULL;
	struct image_ref r;
	size_t n;

	if (image_refs_load(s, &refs, err) < 0)
		return -1;
	if (json_object_object_get_ex(refs, ref, &e) && ref_manifest(e)) {
		found = ref;
		found_m = ref_manifest(e);
	}
	if (!found) {
		/* a digest or a unique prefix of a manifest digest (as `image ls` shows it) */
		const char *hex = str_has_prefix(ref, "sha256:") ? ref + 7 : ref;

		n = strlen(hex);
		if (n >= 4 && n <= 64 && strspn(hex, "0123456789abcdef") == n) {
			json_object_object_foreach(refs, k, v) {
				const char *m = ref_manifest(v);

				if (!m || strncmp(m + 7, hex, n) != 0)
					continue;
				if (found_m && strcmp(found_m, m) != 0)
					return hutch_fail(err, 0, "image `%s`: ambiguous, it matches more than one image", ref);
				found = k;
				found_m = m;
			}
		}
	}
	if (!found) {
		cleanup_err hutch_err perr = NULL;

		if (image_ref_parse(ref, &r, &perr) < 0)
			return hutch_error_move(err, &perr);
		cleanup_free char *full = image_ref_name(&r);

		if (json_object_object_get_ex(refs, full, &e) && ref_manifest(e)) {
			*name = xstrdup(full);
			*manifest = xstrdup(ref_manifest(e));
			image_ref_clear(&r);
			return 0;
		}
		/* REPO@DIGEST of an image pulled by tag */
		if (r.digest) {
			json_object_object_foreach(refs, k, v) {
				const char *m = ref_manifest(v);

				if (m && strcmp(m, r.digest) == 0) {
					*name = xstrdup(k);
					*manifest = xstrdup(m);
					image_ref_clear(&r);
					return 0;
				}
			}
		}
		image_ref_clear(&r);
		return hutch_fail(err, ENOENT, "image `%s`: not in the store (see `hutch image ls`; `hutch image pull %s`)",
				  ref, ref);
	}
	*name = xstrdup(found);
	*manifest = xstrdup(found_m);
	return 0;
}

/* ---- manifests ---- */

bool image_layer_type_supported(const char *mt)
{
	static const char *const ok[] = {
		MT_OCI_LAYER, MT_OCI_LAYER "+gzip", MT_OCI_LAYER "+zstd",
		"application/vnd.oci.image.layer.nondistributable.v1.tar",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
		"application/vnd.docker.image.rootfs.diff.tar.gzip",
		"application/vnd.docker.image.rootfs.diff.tar",
		"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	};

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if (strcmp(mt, ok[i]) == 0)
			return true;
	return false;
}

int image_descriptor_parse(json_object *d, const char *what, const char *path, const char **digest,
			   const char **mt, int64_t *size, hutch_err *err)
{
	if (!json_object_is_type(d, json_type_object))
		return jfail(err, what, path, "expected an object");
	if (jget_str(d, what, path, "digest", true, digest, err) < 0)
		return -1;
	if (!image_digest_valid(*digest))
		return hutch_fail(err, 0, "%s: %s.digest: unsupported or invalid digest `%s` (sha256 only)",
				  what, path, *digest);
	*mt = "";
	*size = -1;
	return jget_str(d, what, path, "mediaType", false, mt, err) < 0 ||
	       jget_range(d, what, path, "size", 0, INT64_MAX, NULL, size, err) < 0 ? -1 : 0;
}

int image_manifest_parse(json_object *j, const char *what, struct image_manifest *m, hutch_err *err)
{
	json_object *v, *config = NULL, *layers = NULL;
	const char *mt = NULL, *d, *lmt;
	int64_t size;
	size_t n;

	if (!json_object_object_get_ex(j, "schemaVersion", &v) || json_object_get_int(v) != 2)
		return hutch_fail(err, 0, "%s: schemaVersion: must be 2 (schema 1 manifests are not supported)", what);
	if (jget_str(j, what, "", "mediaType", false, &mt, err) < 0)
		return -1;
	if (mt && strcmp(mt, MT_OCI_MANIFEST) != 0 && strcmp(mt, MT_DOCKER_MANIFEST) != 0)
		return hutch_fail(err, 0, "%s: mediaType: `%s` is not an image manifest", what, mt);
	if (jget_obj(j, what, "", "config", true, &config, err) < 0 ||
	    image_descriptor_parse(config, what, "config", &d, &lmt, &size, err) < 0)
		return -1;
	m->config_digest = xstrdup(d);
	if (jget_array(j, what, "", "layers", true, &layers, err) < 0)
		return -1;
	n = json_object_array_length(layers);
	m->layers = xcalloc(n, sizeof(*m->layers));
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *p = xasprintf("layers[%zu]", i);

		if (image_descriptor_parse(json_object_array_get_idx(layers, i), what, p, &d, &lmt, &size, err) < 0)
			return -1;
		if (!*lmt)
			lmt = MT_OCI_LAYER "+gzip";
		if (!image_layer_type_supported(lmt))
			return hutch_fail(err, 0, "%s: %s.mediaType: unsupported layer type `%s`", what, p, lmt);
		m->layers[i].digest = xstrdup(d);
		m->layers[i].media_type = xstrdup(lmt);
		m->layers[i].size = size;
		m->nlayers = i + 1;
	}
	return 0;
}

void image_manifest_clear(struct image_manifest *m)
{
	if (m->json)
		json_object_put(m->json);
	if (m->config)
		json_object_put(m->config);
	free(m->digest);
	free(m->config_digest);
	for (size_t i = 0; i < m->nlayers; i++) {
		free(m->layers[i].digest);
		free(m->layers[i].media_type);
	}
	free(m->layers);
	memset(m, 0, sizeof(*m));
}

int image_manifest_load(const struct image_store *s, const char *digest, struct image_manifest *m,
			hutch_err *err)
{
	cleanup_free char *what = xasprintf("manifest %s", digest);

	memset(m, 0, sizeof(*m));
	m->digest = xstrdup(digest);
	if (image_store_read_json(s, digest, &m->json, err) < 0 ||
	    image_manifest_parse(m->json, what, m, err) < 0 ||
	    image_store_read_json(s, m->config_digest, &m->config, err) < 0) {
		image_manifest_clear(m);
		return -1;
	}
	return 0;
}

/* ---- removal and GC ---- */

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	if (flag == FTW_DP)
		return rmdir(p) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(p) < 0 && errno != ENOENT ? -1 : 0;
}

int image_rm_rf(const char *path, hutch_err *err)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : hutch_fail(err, errno, "stat `%s`", path);
	if (nftw(path, rm_cb, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0)
		return hutch_fail(err, errno, "remove `%s`", path);
	return 0;
}

static void mark(char ***keep, const char *d)
{
	if (d && !strv_contains(*keep, d))
		strv_push(keep, xstrdup(d));
}

/* Remove tmp files no writer holds any more (left by an interrupted pull). */
void image_store_clean_tmp(const struct image_store *s)
{
	cleanup_free char *dir = xasprintf("%s/tmp", s->root);
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		cleanup_close int fd = -1;

		if (e->d_name[0] == '.')
			continue;
		fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			cleanup_free char *p = xasprintf("%s/%s", dir, e->d_name);
			struct stat st;

			/* a layer dir being unpacked is a directory: leave those to their owner */
			if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
				unlink(p);
		}
	}
	closedir(d);
}

int image_store_gc(const struct image_store *s, int *freed, hutch_err *err)
{
	cleanup_json json_object *refs = NULL;
	cleanup_strv char **keep = NULL;
	const char *subdirs[] = { "blobs/sha256", "layers" };
	int n = 0;

	if (image_refs_load(s, &refs, err) < 0)
		return -1;
	json_object_object_foreach(refs, k, v) {
		struct image_manifest m;
		json_object *ix;
		cleanup_err hutch_err e = NULL;

		(void)k;
		if (!ref_manifest(v))
			continue;
		mark(&keep, ref_manifest(v));
		if (json_object_object_get_ex(v, "index", &ix))
			mark(&keep, json_object_get_string(ix));
		if (image_manifest_load(s, ref_manifest(v), &m, &e) < 0) {
			log_warn("image store: %s", e->msg);
			continue;
		}
		mark(&keep, m.config_digest);
		for (size_t i = 0; i < m.nlayers; i++)
			mark(&keep, m.layers[i].digest);
		image_manifest_clear(&m);
	}
	/* layers used by containers made by `run --image` */
	{
		cleanup_free char *cdir = xasprintf("%s/containers", s->root);
		DIR *d = opendir(cdir);
		struct dirent *e;

		while (d && (e = readdir(d))) {
			cleanup_free char *p = NULL, *buf = NULL;

			if (e->d_name[0] == '.')
				continue;
			p = xasprintf("%s/%s/layers", cdir, e->d_name);
			if (read_file(p, &buf, NULL, NULL) == 0)
				for (char *save = NULL, *t = strtok_r(buf, "\n", &save); t; t = strtok_r(NULL, "\n", &save))
					mark(&keep, t);
		}
		if (d)
			closedir(d);
	}
	image_store_clean_tmp(s);
	for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++) {
		cleanup_free char *dir = xasprintf("%s/%s", s->root, subdirs[i]);
		DIR *d = opendir(dir);
		struct dirent *e;

		if (!d)
			return hutch_fail(err, errno, "image store: open `%s`", dir);
		while ((e = readdir(d))) {
			cleanup_free char *dg = NULL, *p = NULL;

			if (e->d_name[0] == '.')
				continue;
			dg = xasprintf("sha256:%s", e->d_name);
			if (image_digest_valid(dg) && strv_contains(keep, dg))
				continue;
			p = xasprintf("%s/%s", dir, e->d_name);
			if (i == 1) {
				cleanup_err hutch_err e2 = NULL;

				if (image_rm_rf(p, &e2) < 0)
					log_warn("image store: %s", e2->msg);
			} else if (unlink(p) == 0 && i == 0) {
				n++;
			}
		}
		closedir(d);
	}
	if (freed)
		*freed = n;
	return 0;
}
