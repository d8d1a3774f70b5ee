// SPDX-License-Identifier: GPL-2.0-or-later
/* Image documents: one input read as a manifest, as an index, and as an image config. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>

#include "fuzz.h"
#include "image.h"
#include "image_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int rootfs = -1;
	cleanup_json json_object *o = fuzz_json(data, size, "manifest");
	cleanup_err hutch_err err = NULL;
	struct image_manifest m = { 0 };
	const char *digest = NULL;
	json_object *spec = NULL;
	struct image_bundle_opts bo = { 0 };

	if (rootfs < 0) {
		/* no /etc/passwd there: user names fail to resolve, as in an image without one */
		char dir[] = "/tmp/hutch-fuzz-image.XXXXXX";

		if (!mkdtemp(dir))
			abort();
		rootfs = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		rmdir(dir);
	}
	if (!o)
		return 0;
	/* (as its callers: the manifest is cleared whether it parsed or not) */
	image_manifest_parse(o, "manifest", &m, &err);
	image_manifest_clear(&m);
	hutch_error_free(&err);
	image_index_pick(o, "index", NULL, &digest, &err);
	hutch_error_free(&err);
	image_index_pick(o, "index", "linux/arm64/v8", &digest, &err);
	hutch_error_free(&err);
	if (image_make_config(o, "fuzz:latest", rootfs, &bo, &spec, &err) == 0)
		json_object_put(spec);
	return 0;
}
