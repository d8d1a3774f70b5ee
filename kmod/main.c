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

static int __init hutch_init(void)
{
	int ret;

	ret = hutch_netlink_init();
	if (ret)
		return ret;
	ret = hutch_probes_register();
	if (ret) {
		hutch_netlink_exit();
		return ret;
	}
	pr_info("hutch %s loaded (protocol %d)\n", HUTCH_MODULE_VERSION,
		HUTCH_GENL_VERSION);
	return 0;
}

static void __exit hutch_exit(void)
{
	/* Probes first: none runs after this, so nothing touches the registry. */
	hutch_probes_unregister();
	hutch_netlink_exit();
	hutch_registry_clear();
	pr_info("hutch unloaded\n");
}

module_init(hutch_init);
module_exit(hutch_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The hutch authors");
MODULE_DESCRIPTION("hutch container registry, accounting and events");
MODULE_VERSION(HUTCH_MODULE_VERSION);
MODULE_ALIAS_GENL_FAMILY(HUTCH_GENL_NAME);
