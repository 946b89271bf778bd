/* A container's network attachment, wired by the shim itself over rtnetlink: a network
 * namespace bound to a file, and per attached network a veth pair whose host end is a
 * bridge port and whose other end, inside, carries the container's address. The engine
 * describes it in JSON (stdin of `net-attach`/`net-detach`, or the `stack.network`
 * annotation of a bundle):
 *
 *   {"netns": "/abs/path", "create": true, "interfaces": [{"hostVeth": "stv0123abcd0",
 *    "name": "eth0", "bridge": "stk0123abcd", "address": "10.89.3.2", "prefix": 24,
 *    "mac": "02:42:0a:59:03:02", "gateway": "10.89.3.1"}]} */
#ifndef STACK_SHIM_NETSETUP_H
#define STACK_SHIM_NETSETUP_H

#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>

struct net_interface {
	char host_veth[IFNAMSIZ];
	char name[IFNAMSIZ];
	char bridge[IFNAMSIZ];
	struct in_addr address;
	unsigned prefix;
	unsigned char mac[6];
	int has_gateway;
	struct in_addr gateway;
};

struct net_config {
	char *netns;
	int create;
	struct net_interface *interfaces;
	size_t ninterfaces;
};

/* Detaching needs only netns and each hostVeth, so it checks nothing else. */
enum net_config_use { NET_CONFIG_ATTACH, NET_CONFIG_DETACH };

/* Parses and checks the JSON; errors name `origin` and the field. */
int net_config_parse(const char *json, const char *origin, enum net_config_use use, struct net_config *out);
void net_config_free(struct net_config *c);

/* All or nothing: on failure what was made here is removed again. The calling process
 * ends in the network namespace it started in. */
int net_attach(const struct net_config *c);

/* Removes the host veths and the namespace's file; pieces already gone are fine.
 * Must run in the namespace the host veths are in. */
int net_detach(const struct net_config *c);

#endif
