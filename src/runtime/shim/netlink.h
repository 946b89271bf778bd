/* A small rtnetlink client: the few link, address and route requests that wire a
 * container's network, one request at a time on a NETLINK_ROUTE socket, each answered
 * by the kernel's ACK or its errno. A socket acts in the network namespace it was
 * opened in, whatever namespace the process moves to later. Every function returns
 * 0 or -1 with the failing step in last_error(). */
#ifndef STACK_SHIM_NETLINK_H
#define STACK_SHIM_NETLINK_H

#include <netinet/in.h>

struct nl_socket {
	int fd;
	unsigned seq;
};

int nl_open(struct nl_socket *s);
void nl_close(struct nl_socket *s);

/* The ifindex of the link called `name`. */
int nl_link_index(struct nl_socket *s, const char *name, int *index);

/* A veth pair: `host_name` stays here; `peer_name`, with MAC `peer_mac`, is created
 * directly in the network namespace open at `peer_netns_fd`. */
int nl_create_veth(struct nl_socket *s, const char *host_name, const char *peer_name,
		   const unsigned char peer_mac[6], int peer_netns_fd);

/* Makes `name` a port of the bridge called `bridge`. */
int nl_set_master(struct nl_socket *s, const char *name, const char *bridge);

/* Hairpin mode on the bridge port `name` (already a port). */
int nl_set_hairpin(struct nl_socket *s, const char *name);

int nl_link_up(struct nl_socket *s, const char *name);

int nl_add_address(struct nl_socket *s, const char *name, struct in_addr address, unsigned prefix);

int nl_add_default_route(struct nl_socket *s, const char *name, struct in_addr gateway);

/* Deletes a link (with a veth, both ends). Sets *missing instead of failing when there
 * is no such link. */
int nl_delete_link(struct nl_socket *s, const char *name, int *missing);

#endif
