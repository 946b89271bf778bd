/* rtnetlink requests built by hand: a header, a family message (ifinfomsg, ifaddrmsg,
 * rtmsg) and attributes, some nested. Each request asks for an ACK, so the kernel
 * answers every one, and its errno comes back in an NLMSG_ERROR message. */
#include "netlink.h"
#include "report.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* Our requests are a few hundred bytes; a link's description in a reply is larger. */
struct nl_request {
	union {
		struct nlmsghdr h;
		char buf[1024];
	};
};

/* The kernel's own words on a failure (extended ACK), " (...)" or "". */
static char kernel_says[192];

int nl_open(struct nl_socket *s)
{
	int one = 1;

	s->seq = 0;
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s->fd < 0)
		return fail("netlink", "socket(NETLINK_ROUTE)", errno);
	/* Optional: older kernels answer with the errno alone. */
	setsockopt(s->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
	return 0;
}

void nl_close(struct nl_socket *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static void *begin(struct nl_request *r, uint16_t type, uint16_t flags, const void *family_msg, size_t len)
{
	memset(r, 0, sizeof *r);
	r->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(len);
	r->h.nlmsg_type = type;
	r->h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
	memcpy(NLMSG_DATA(&r->h), family_msg, len);
	return NLMSG_DATA(&r->h);
}

/* Appends raw bytes, padded to the 4-byte alignment every netlink item keeps. The
 * requests are fixed and small, so running out of room is a bug worth naming. */
static void *append(struct nl_request *r, const void *data, size_t len)
{
	char *at = r->buf + NLMSG_ALIGN(r->h.nlmsg_len);

	if (NLMSG_ALIGN(r->h.nlmsg_len) + NLMSG_ALIGN(len) > sizeof r->buf) {
		fprintf(stderr, "stack-shim: netlink request too large\n");
		_exit(70);
	}
	memset(at, 0, NLMSG_ALIGN(len));
	if (data)
		memcpy(at, data, len);
	r->h.nlmsg_len = (uint32_t)(NLMSG_ALIGN(r->h.nlmsg_len) + NLMSG_ALIGN(len));
	return at;
}

static struct rtattr *put(struct nl_request *r, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = append(r, NULL, RTA_LENGTH(len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	return a;
}

static void put_string(struct nl_request *r, unsigned short type, const char *s)
{
	put(r, type, s, strlen(s) + 1);
}

static void put_u32(struct nl_request *r, unsigned short type, uint32_t v)
{
	put(r, type, &v, sizeof v);
}

/* A nested attribute is a header whose length, fixed at the end, covers what follows it. */
static struct rtattr *nest_begin(struct nl_request *r, unsigned short type)
{
	return put(r, type, NULL, 0);
}

static void nest_end(struct nl_request *r, struct rtattr *nest)
{
	nest->rta_len = (unsigned short)(r->buf + r->h.nlmsg_len - (char *)nest);
}

static void read_extended_ack(const struct nlmsghdr *h)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);
	size_t skip = sizeof *e, total = h->nlmsg_len - NLMSG_HDRLEN;
	const struct rtattr *a;
	size_t left;

	kernel_says[0] = '\0';
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	/* Unless capped, the kernel echoes our request's payload before its attributes. */
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		skip += e->msg.nlmsg_len - NLMSG_HDRLEN;
	skip = NLMSG_ALIGN(skip);
	if (skip >= total)
		return;
	a = (const struct rtattr *)((const char *)e + skip);
	left = total - skip;
	for (; RTA_OK(a, left); a = RTA_NEXT(a, left))
		if (a->rta_type == NLMSGERR_ATTR_MSG && RTA_PAYLOAD(a) > 1)
			snprintf(kernel_says, sizeof kernel_says, " (%.*s)", (int)RTA_PAYLOAD(a) - 1, (const char *)RTA_DATA(a));
}

typedef void reply_fn(const struct nlmsghdr *h, void *ctx);

/* Sends one request and reads until its ACK. Returns 0 or the errno (the kernel's, or
 * of send/recv); replies other than the ACK go to on_reply. */
static int talk(struct nl_socket *s, struct nl_request *r, reply_fn *on_reply, void *ctx)
{
	static char reply[32768] __attribute__((aligned(NLMSG_ALIGNTO)));

	kernel_says[0] = '\0';
	r->h.nlmsg_seq = ++s->seq;
	while (send(s->fd, &r->h, r->h.nlmsg_len, 0) < 0)
		if (errno != EINTR)
			return errno;
	for (;;) {
		ssize_t n = recv(s->fd, reply, sizeof reply, 0);
		size_t left;
		struct nlmsghdr *h;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		left = (size_t)n;
		for (h = (struct nlmsghdr *)reply; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != s->seq)
				continue; /* a late answer to an earlier request */
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				if (e->error)
					read_extended_ack(h);
				return -e->error;
			}
			if (on_reply)
				on_reply(h, ctx);
		}
	}
}

static void take_index(const struct nlmsghdr *h, void *ctx)
{
	if (h->nlmsg_type == RTM_NEWLINK)
		*(int *)ctx = ((const struct ifinfomsg *)NLMSG_DATA(h))->ifi_index;
}

/* Looks a link up by name; 0 or the errno (ENODEV when there is none). */
static int link_index(struct nl_socket *s, const char *name, int *index)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_request r;
	int err;

	*index = 0;
	begin(&r, RTM_GETLINK, 0, &ifi, sizeof ifi);
	put_string(&r, IFLA_IFNAME, name);
	/* The link's counters are most of a reply; we only want its index. */
	put_u32(&r, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	err = talk(s, &r, take_index, index);
	if (!err && *index <= 0)
		err = ENODEV;
	return err;
}

int nl_link_index(struct nl_socket *s, const char *name, int *index)
{
	int err = link_index(s, name, index);

	return err ? failf("find link", err, "%s%s", name, kernel_says) : 0;
}

int nl_create_veth(struct nl_socket *s, const char *host_name, const char *peer_name,
		   const unsigned char peer_mac[6], int peer_netns_fd)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_request r;
	struct rtattr *linkinfo, *data, *peer;
	int err;

	/* EXCL: a name taken by something else is an error, not that thing to reuse. */
	begin(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
	put_string(&r, IFLA_IFNAME, host_name);
	linkinfo = nest_begin(&r, IFLA_LINKINFO);
	put_string(&r, IFLA_INFO_KIND, "veth");
	data = nest_begin(&r, IFLA_INFO_DATA);
	/* The peer is described like a link of its own: an ifinfomsg, then attributes.
	 * Made in its namespace at once, it never appears (or clashes by name) here. */
	peer = nest_begin(&r, VETH_INFO_PEER);
	append(&r, &ifi, sizeof ifi);
	put_string(&r, IFLA_IFNAME, peer_name);
	put(&r, IFLA_ADDRESS, peer_mac, 6);
	put_u32(&r, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
	nest_end(&r, peer);
	nest_end(&r, data);
	nest_end(&r, linkinfo);
	err = talk(s, &r, NULL, NULL);
	return err ? failf("create veth", err, "%s <-> %s%s", host_name, peer_name, kernel_says) : 0;
}

int nl_set_master(struct nl_socket *s, const char *name, const char *bridge)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_request r;
	int master, err;

	err = link_index(s, bridge, &master);
	if (err)
		return failf("set master", err, "%s: bridge %s%s", name, bridge, kernel_says);
	begin(&r, RTM_NEWLINK, 0, &ifi, sizeof ifi);
	put_string(&r, IFLA_IFNAME, name);
	put_u32(&r, IFLA_MASTER, (uint32_t)master);
	err = talk(s, &r, NULL, NULL);
	return err ? failf("set master", err, "%s -> bridge %s%s", name, bridge, kernel_says) : 0;
}

int nl_set_hairpin(struct nl_socket *s, const char *name)
{
	struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE };
	struct nl_request r;
	struct rtattr *protinfo;
	unsigned char mode = BRIDGE_MODE_HAIRPIN;
	int err;

	/* The bridge's setlink finds the port by index only, never by name. */
	err = link_index(s, name, &ifi.ifi_index);
	if (!err) {
		begin(&r, RTM_SETLINK, 0, &ifi, sizeof ifi);
		/* NLA_F_NESTED tells the bridge these are port options; a bare
		 * IFLA_PROTINFO would be read as the old one-byte port state. */
		protinfo = nest_begin(&r, IFLA_PROTINFO | NLA_F_NESTED);
		put(&r, IFLA_BRPORT_MODE, &mode, sizeof mode);
		nest_end(&r, protinfo);
		err = talk(s, &r, NULL, NULL);
	}
	return err ? failf("hairpin on", err, "%s%s", name, kernel_says) : 0;
}

int nl_link_up(struct nl_socket *s, const char *name)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
	struct nl_request r;
	int err;

	begin(&r, RTM_NEWLINK, 0, &ifi, sizeof ifi);
	put_string(&r, IFLA_IFNAME, name);
	err = talk(s, &r, NULL, NULL);
	return err ? failf("link up", err, "%s%s", name, kernel_says) : 0;
}

int nl_add_address(struct nl_socket *s, const char *name, struct in_addr address, unsigned prefix)
{
	struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_prefixlen = (unsigned char)prefix, .ifa_scope = RT_SCOPE_UNIVERSE };
	struct nl_request r;
	char text[INET_ADDRSTRLEN];
	int index, err;

	err = link_index(s, name, &index);
	if (!err) {
		ifa.ifa_index = (unsigned)index;
		begin(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof ifa);
		put(&r, IFA_LOCAL, &address, sizeof address);
		put(&r, IFA_ADDRESS, &address, sizeof address);
		err = talk(s, &r, NULL, NULL);
	}
	if (!err)
		return 0;
	inet_ntop(AF_INET, &address, text, sizeof text);
	return failf("add address", err, "%s/%u on %s%s", text, prefix, name, kernel_says);
}

int nl_add_default_route(struct nl_socket *s, const char *name, struct in_addr gateway)
{
	struct rtmsg rt = {
		.rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_BOOT,
		.rtm_scope = RT_SCOPE_UNIVERSE, .rtm_type = RTN_UNICAST,
	};
	struct nl_request r;
	char text[INET_ADDRSTRLEN];
	int index, err;

	err = link_index(s, name, &index);
	if (!err) {
		begin(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rt, sizeof rt);
		put(&r, RTA_GATEWAY, &gateway, sizeof gateway);
		put_u32(&r, RTA_OIF, (uint32_t)index);
		err = talk(s, &r, NULL, NULL);
	}
	if (!err)
		return 0;
	inet_ntop(AF_INET, &gateway, text, sizeof text);
	return failf("add default route", err, "via %s dev %s%s", text, name, kernel_says);
}

int nl_delete_link(struct nl_socket *s, const char *name, int *missing)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_request r;
	int err;

	begin(&r, RTM_DELLINK, 0, &ifi, sizeof ifi);
	put_string(&r, IFLA_IFNAME, name);
	err = talk(s, &r, NULL, NULL);
	*missing = err == ENODEV;
	return err && err != ENODEV ? failf("delete link", err, "%s%s", name, kernel_says) : 0;
}
