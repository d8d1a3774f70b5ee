#!/bin/bash
# The harness's own check, booted by tests/vm/selftest: one passing test, one failing
# test and a kernel WARNING line. The host must report the run as failed.
echo "ok - selftest: passing"
echo "not ok - selftest: injected_failure"
echo "<4>WARNING: hutch-vm selftest: injected warning" > /dev/kmsg
