// SPDX-License-Identifier: GPL-2.0-or-later
/* /etc/hutch/net.conf. */
#define _GNU_SOURCE
#include "fuzz.h"
#include "net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cleanup_net_conf struct hutch_net_conf *c = NULL;
	cleanup_err hutch_err err = NULL;

	net_conf_load(fuzz_file(data, size), &c, &err);
	return 0;
}
