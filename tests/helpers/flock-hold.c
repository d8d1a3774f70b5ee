// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * flock-hold FILE: take an exclusive flock(2) on FILE and hold it until killed, printing
 * "locked" once it has it. Static, so that it runs in the busybox rootfs (whose busybox
 * has no flock applet): 65-checkpoint.sh's --file-locks test.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: flock-hold FILE\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		perror(argv[1]);
		return 1;
	}
	puts("locked");
	fflush(stdout);
	for (;;)
		pause();
}
