// SPDX-License-Identifier: GPL-2.0-only
/*
 * hutch.ko: a container registry for the hutch runtime, with exact
 * per-container accounting, in-kernel process lists and signalling, and an
 * event stream, over the generic netlink family "hutch".
 */
#include <linux/module.h>
#include <linux/moduleparam.h>

#include <net/genetlink.h>

#include "hutch.h"

unsigned int hutch_max_containers = 1024;
module_param_named(max_containers, hutch_max_containers, uint, 0644);
MODULE_PARM_DESC(max_containers, "Most containers registered at once (default 1024)");

/*
 * The probes before the family: no request (a registration) arrives before
 * they account for it. On exit the family goes first, so no request runs or
 * comes in; then the probes, drained; then nothing touches the registry.
 */
static int __init hutch_init(void)
{
	int ret;

	hutch_registry_init();
	ret = hutch_probes_register();
	if (ret)
		return ret;
	ret = hutch_netlink_init();
	if (ret)
		hutch_probes_unregister();
	return ret;
}

static void __exit hutch_exit(void)
{
	hutch_netlink_exit();
	hutch_probes_unregister();
	hutch_registry_clear();
}

module_init(hutch_init);
module_exit(hutch_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The hutch authors");
MODULE_DESCRIPTION("hutch container registry, accounting and events");
MODULE_VERSION(HUTCH_MODULE_VERSION);
MODULE_ALIAS_GENL_FAMILY(HUTCH_GENL_NAME);
