// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `image import FILE`: a docker-archive (manifest.json + config + layer tars, as
 * `podman save` and `docker save` write it) or an OCI image layout tar (oci-layout,
 * index.json, blobs/sha256/HEX). One pass over the archive: each regular file goes
 * through a blob writer into the store; then the archive's manifest names what is
 * kept, and everything else this import stored is removed again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>

#include "dl.h"

#include "image.h"
#include "image_internal.h"
#include "log.h"
#include "utils.h"

struct entries {
	char **names;     /* cleaned archive paths */
	char **digests;   /* blob digest, or "link:TARGET" for symlinks */
};

static char *clean(const char *raw)
{
	while (raw[0] == '.' && raw[1] == '/')
		raw += 2;
	while (raw[0] == '/')
		raw++;
	return xstrdup(raw);
}

static const char *find(const struct entries *e, const char *name, int depth)
{
	for (size_t i = 0; e->names && e->names[i]; i++) {
		if (strcmp(e->names[i], name) != 0)
			continue;
		if (str_has_prefix(e->digests[i], "link:") && depth < 8)
			return find(e, e->digests[i] + 5, depth + 1);
		return str_has_prefix(e->digests[i], "link:") ? NULL : e->digests[i];
	}
	return NULL;
}

static const char *layer_type(const struct image_store *s, const char *digest)
{
	cleanup_free char *p = image_blob_path(s, digest);
	unsigned char m[4] = { 0 };
	cleanup_close int fd = open(p, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && read_all(fd, m, 4) == 4) {
		if (m[0] == 0x1f && m[1] == 0x8b)
			return MT_OCI_LAYER "+gzip";
		if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
			return MT_OCI_LAYER "+zstd";
	}
	return MT_OCI_LAYER;
}

static int64_t blob_size(const struct image_store *s, const char *digest)
{
	cleanup_free char *p = image_blob_path(s, digest);
	struct stat st;

	return stat(p, &st) == 0 ? st.st_size : -1;
}

static json_object *descriptor(const char *mt, const char *digest, int64_t size)
{
	json_object *d = json_object_new_object();

	json_object_object_add(d, "mediaType", json_object_new_string(mt));
	json_object_object_add(d, "digest", json_object_new_string(digest));
	json_object_object_add(d, "size", json_object_new_int64(size));
	return d;
}

static int normalize_name(const char *n, char **out, hutch_err *err)
{
	struct image_ref r;

	if (image_ref_parse(n, &r, err) < 0)
		return -1;
	*out = image_ref_name(&r);
	image_ref_clear(&r);
	return 0;
}

static int import_docker(struct image_store *s, const struct entries *e, const char *file, const char *force_name,
			 char ***names, char ***keep, hutch_err *err)
{
	cleanup_json json_object *mf = NULL;
	cleanup_free char *buf = NULL;
	const char *md = find(e, "manifest.json", 0);

	if (image_store_read(s, md, &buf, NULL, err) < 0)
		return -1;
	mf = json_tokener_parse(buf);
	if (!mf || !json_object_is_type(mf, json_type_array) || json_object_array_length(mf) == 0)
		return hutch_fail(err, 0, "%s: manifest.json: expected a non-empty array", file);
	for (size_t i = 0; i < json_object_array_length(mf); i++) {
		json_object *it = json_object_array_get_idx(mf, i), *v, *layers, *tags = NULL, *diffs = NULL;
		cleanup_json json_object *man = NULL, *cfg = NULL;
		const char *cfgd, *ms;
		cleanup_free char *mdigest = NULL;
		size_t nl;

		if (!json_object_object_get_ex(it, "Config", &v) || !json_object_is_type(v, json_type_string))
			return hutch_fail(err, 0, "%s: manifest.json[%zu].Config: expected a string", file, i);
		cfgd = find(e, json_object_get_string(v), 0);
		if (!cfgd)
			return hutch_fail(err, 0, "%s: manifest.json[%zu].Config: `%s` is not in the archive", file, i,
					  json_object_get_string(v));
		if (image_store_read_json(s, cfgd, &cfg, err) < 0)
			return hutch_error_prefix(err, "%s: config", file);
		if (json_object_object_get_ex(cfg, "rootfs", &v))
			json_object_object_get_ex(v, "diff_ids", &diffs);
		if (!json_object_object_get_ex(it, "Layers", &layers) || !json_object_is_type(layers, json_type_array))
			return hutch_fail(err, 0, "%s: manifest.json[%zu].Layers: expected an array", file, i);
		nl = json_object_array_length(layers);
		if (diffs && json_object_is_type(diffs, json_type_array) && json_object_array_length(diffs) != nl)
			return hutch_fail(err, 0, "%s: manifest.json[%zu]: %zu layers but the config lists %zu diff_ids",
					  file, i, nl, json_object_array_length(diffs));
		man = json_object_new_object();
		json_object_object_add(man, "schemaVersion", json_object_new_int(2));
		json_object_object_add(man, "mediaType", json_object_new_string(MT_OCI_MANIFEST));
		json_object_object_add(man, "config", descriptor(MT_OCI_CONFIG, cfgd, blob_size(s, cfgd)));
		strv_push(keep, xstrdup(cfgd));
		v = json_object_new_array();
		json_object_object_add(man, "layers", v);
		for (size_t k = 0; k < nl; k++) {
			json_object *ln = json_object_array_get_idx(layers, k);
			const char *ld = ln && json_object_is_type(ln, json_type_string) ?
						 find(e, json_object_get_string(ln), 0) : NULL;
			const char *mt;

			if (!ld)
				return hutch_fail(err, 0, "%s: manifest.json[%zu].Layers[%zu]: not in the archive", file, i, k);
			mt = layer_type(s, ld);
			if (strcmp(mt, MT_OCI_LAYER) == 0 && diffs && json_object_is_type(diffs, json_type_array) &&
			    strcmp(json_object_get_string(json_object_array_get_idx(diffs, k)), ld) != 0)
				return hutch_fail(err, 0, "%s: manifest.json[%zu].Layers[%zu]: digest %s differs from the config's diff_ids[%zu]",
						  file, i, k, ld, k);
			json_object_array_add(v, descriptor(mt, ld, blob_size(s, ld)));
			strv_push(keep, xstrdup(ld));
		}
		ms = json_object_to_json_string_ext(man, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		if (image_store_put(s, ms, strlen(ms), NULL, &mdigest, err) < 0)
			return -1;
		strv_push(keep, xstrdup(mdigest));
		json_object_object_get_ex(it, "RepoTags", &tags);
		if (force_name || !tags || !json_object_is_type(tags, json_type_array) || !json_object_array_length(tags)) {
			cleanup_free char *n = NULL;

			if (!force_name)
				return hutch_fail(err, 0, "%s: image %zu has no RepoTags: give --name NAME", file, i);
			if (normalize_name(force_name, &n, err) < 0 || image_refs_set(s, n, mdigest, NULL, err) < 0)
				return -1;
			strv_push(names, steal_ptr(&n));
			continue;
		}
		for (size_t k = 0; k < json_object_array_length(tags); k++) {
			cleanup_free char *n = NULL;

			if (normalize_name(json_object_get_string(json_object_array_get_idx(tags, k)), &n, err) < 0 ||
			    image_refs_set(s, n, mdigest, NULL, err) < 0)
				return hutch_error_prefix(err, "%s: manifest.json[%zu].RepoTags[%zu]", file, i, k);
			strv_push(names, steal_ptr(&n));
		}
	}
	return 0;
}

static int import_oci(struct image_store *s, const struct entries *e, const char *file, const char *force_name,
		      char ***names, char ***keep, hutch_err *err)
{
	cleanup_json json_object *ix = NULL;
	json_object *ms;
	const char *id = find(e, "index.json", 0);

	/* every blobs/sha256/HEX must hold content with that digest */
	for (size_t i = 0; e->names[i]; i++) {
		cleanup_free char *want = NULL;

		if (!str_has_prefix(e->names[i], "blobs/sha256/"))
			continue;
		want = xasprintf("sha256:%s", e->names[i] + 13);
		if (find(e, e->names[i], 0) && strcmp(find(e, e->names[i], 0), want) != 0)
			return hutch_fail(err, 0, "%s: %s: content has digest %s: refusing it", file, e->names[i],
					  find(e, e->names[i], 0));
	}
	if (image_store_read_json(s, id, &ix, err) < 0)
		return hutch_error_prefix(err, "%s: index.json", file);
	if (!json_object_object_get_ex(ix, "manifests", &ms) || !json_object_is_type(ms, json_type_array) ||
	    !json_object_array_length(ms))
		return hutch_fail(err, 0, "%s: index.json: manifests: expected a non-empty array", file);
	for (size_t i = 0; i < json_object_array_length(ms); i++) {
		json_object *d = json_object_array_get_idx(ms, i), *ann, *rn;
		cleanup_free char *path = xasprintf("index.json: manifests[%zu]", i), *n = NULL, *index = NULL;
		cleanup_free char *mdig = NULL;
		const char *dg, *mt, *refname = NULL;
		int64_t size;
		struct image_manifest m = { 0 };

		if (image_descriptor_parse(d, file, path, &dg, &mt, &size, err) < 0)
			return -1;
		mdig = xstrdup(dg);
		if (strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0) {
			cleanup_json json_object *sub = NULL;
			const char *pick;

			if (image_store_read_json(s, mdig, &sub, err) < 0 ||
			    image_index_pick(sub, path, NULL, &pick, err) < 0)
				return -1;
			index = steal_ptr(&mdig);
			mdig = xstrdup(pick);
			strv_push(keep, xstrdup(index));
		}
		if (image_manifest_load(s, mdig, &m, err) < 0)
			return hutch_error_prefix(err, "%s: %s", file, path);
		strv_push(keep, xstrdup(mdig));
		strv_push(keep, xstrdup(m.config_digest));
		for (size_t k = 0; k < m.nlayers; k++) {
			if (!image_blob_exists(s, m.layers[k].digest)) {
				image_manifest_clear(&m);
				return hutch_fail(err, 0, "%s: layer %s is not in the archive", file, m.layers[k].digest);
			}
			strv_push(keep, xstrdup(m.layers[k].digest));
		}
		image_manifest_clear(&m);
		if (json_object_object_get_ex(d, "annotations", &ann) &&
		    json_object_object_get_ex(ann, "org.opencontainers.image.ref.name", &rn))
			refname = json_object_get_string(rn);
		if (!force_name && (!refname || (!strchr(refname, '/') && !strchr(refname, ':'))))
			return hutch_fail(err, 0, "%s: %s has no full reference name%s%s: give --name NAME", file, path,
					  refname ? " (only `" : "", refname ? refname : "");
		if (normalize_name(force_name ? force_name : refname, &n, err) < 0 ||
		    image_refs_set(s, n, mdig, index, err) < 0)
			return -1;
		strv_push(names, steal_ptr(&n));
		if (force_name)
			break;
	}
	return 0;
}

int image_import(struct image_store *s, const char *file, const char *name, char ***names, hutch_err *err)
{
	struct archive *a;
	struct archive_entry *ae;
	struct entries e = { 0 };
	cleanup_strv char **stored = NULL, **keep = NULL;
	int r, ret = -1;

	if (hutch_dl_load(HUTCH_DL_ARCHIVE, err) < 0)
		return -1;
	a = archive_read_new();
	if (!a)
		oom();
	if (image_store_lock(s, false, err) < 0) {
		archive_read_free(a);
		return -1;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, file, 1 << 16) != ARCHIVE_OK) {
		hutch_fail(err, 0, "import: `%s`: not a tar archive (%s)", file, archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		cleanup_free char *n = clean(archive_entry_pathname(ae) ? archive_entry_pathname(ae) : "");
		struct blob_writer w;
		char *d = NULL;
		const void *buf;
		size_t size;
		la_int64_t off;

		if (archive_entry_filetype(ae) == AE_IFLNK || archive_entry_hardlink(ae)) {
			const char *t = archive_entry_hardlink(ae) ? archive_entry_hardlink(ae) : archive_entry_symlink(ae);
			cleanup_free char *dir = xstrdup(n), *tgt = NULL;
			char *sl = strrchr(dir, '/');

			if (!t)
				continue;
			if (archive_entry_hardlink(ae) || t[0] == '/')
				tgt = clean(t);
			else if (sl) {
				*sl = '\0';
				tgt = xasprintf("%s/%s", dir, t);
			} else {
				tgt = clean(t);
			}
			/* "a/../b" in docker-archive links to a sibling layer dir */
			for (char *dd; (dd = strstr(tgt, "/../"));) {
				char *st = dd;

				while (st > tgt && st[-1] != '/')
					st--;
				memmove(st, dd + 4, strlen(dd + 4) + 1);
			}
			strv_push(&e.names, steal_ptr(&n));
			strv_push(&e.digests, xasprintf("link:%s", tgt));
			continue;
		}
		if (archive_entry_filetype(ae) != AE_IFREG)
			continue;
		if (blob_writer_open(s, NULL, -1, &w, err) < 0)
			goto out;
		while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK)
			if (blob_writer_write(&w, buf, size, err) < 0)
				break;
		if (r != ARCHIVE_EOF) {
			blob_writer_abort(&w);
			hutch_fail(err, 0, "import: `%s`: %s: %s", file, n, archive_error_string(a));
			goto out;
		}
		if (blob_writer_commit(s, &w, &d, err) < 0)
			goto out;
		if (!strv_contains(stored, d))
			strv_push(&stored, xstrdup(d));
		strv_push(&e.names, steal_ptr(&n));
		strv_push(&e.digests, d);
	}
	if (r != ARCHIVE_EOF) {
		hutch_fail(err, 0, "import: `%s`: not a tar archive: %s", file, archive_error_string(a));
		goto out;
	}
	if (!e.names) {
		hutch_fail(err, 0, "import: `%s`: empty archive", file);
		goto out;
	}
	if (find(&e, "manifest.json", 0))
		ret = import_docker(s, &e, file, name, names, &keep, err);
	else if (find(&e, "index.json", 0))
		ret = import_oci(s, &e, file, name, names, &keep, err);
	else
		ret = hutch_fail(err, 0, "import: `%s`: neither a docker-archive (manifest.json) nor an OCI layout (index.json)",
				 file);
out:
	/* drop what this import stored and nothing references (all of it on failure) */
	for (size_t i = 0; stored && stored[i]; i++) {
		if (ret == 0 && strv_contains(keep, stored[i]))
			continue;
		{
			cleanup_json json_object *refs = NULL;
			bool used = false;

			/* a blob an existing image uses stays */
			if (image_refs_load(s, &refs, NULL) == 0) {
				json_object_object_foreach(refs, k, v) {
					struct image_manifest m;
					json_object *md;

					(void)k;
					if (!json_object_object_get_ex(v, "manifest", &md))
						continue;
					if (strcmp(json_object_get_string(md), stored[i]) == 0) {
						used = true;
						break;
					}
					if (image_manifest_load(s, json_object_get_string(md), &m, NULL) < 0)
						continue;
					used = strcmp(m.config_digest, stored[i]) == 0;
					for (size_t k2 = 0; k2 < m.nlayers && !used; k2++)
						used = strcmp(m.layers[k2].digest, stored[i]) == 0;
					image_manifest_clear(&m);
					if (used)
						break;
				}
			}
			if (!used) {
				cleanup_free char *p = image_blob_path(s, stored[i]);

				unlink(p);
			}
		}
	}
	strv_free(e.names);
	strv_free(e.digests);
	archive_read_free(a);
	image_store_unlock(s);
	return ret;
}
