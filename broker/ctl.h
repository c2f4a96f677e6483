/* SPDX-License-Identifier: MIT */
/*
 * The broker's control socket (--control PATH): a SOCK_SEQPACKET unix socket
 * with fixed-size messages, one request and one reply per connection, only
 * from the broker's own uid (SO_PEERCRED). Commands: status, stop, and
 * screendump (the client passes the output file's fd with SCM_RIGHTS; a
 * confined one-shot process writes the PNG).
 */
#ifndef CELLVM_CTL_H
#define CELLVM_CTL_H

#include <stdint.h>

#define CTL_MAGIC 0x6376636cu /* "cvcl" */

enum ctl_cmd { CTL_STATUS = 1, CTL_STOP = 2, CTL_SCREENDUMP = 3 };

struct ctl_req {
	uint32_t magic;
	uint32_t cmd;
};

struct ctl_rep {
	uint32_t magic;
	int32_t status; /* 0 or -errno */
	char text[200];
};

/*
 * Broker: bind and listen at path (an existing socket file is replaced);
 * no symlink in any component of it is followed.
 */
int ctl__listen(const char *path);
/* Remove the socket ctl__listen made, through the same directory fd. */
void ctl__unlink(void);
/* Client side: `cellvm status|stop|screendump --control PATH [OUT.png]`. */
int ctl__client(int argc, char **argv);

#endif
