/* Wires and unwires a container's network over rtnetlink (see netsetup.h), in the
 * calling process: no ip(8) processes, no threads. The shim is single-threaded, so it
 * may step into the container's namespace with setns and back. */
#include "netsetup.h"
#include "netlink.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

/* The namespace the caller is in, where the bridges and the host ends live. */
static int open_home_netns(void)
{
	int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		fail("network namespace", "/proc/self/ns/net", errno);
	return fd;
}

static int enter_netns(int fd, const char *what)
{
	if (setns(fd, CLONE_NEWNET) < 0)
		return fail("join network namespace", what, errno);
	return 0;
}

/* A new namespace bound on `path`, which must not exist yet (so we never mount over
 * something that is not ours). We step into the namespace to bind it, since
 * /proc/self/ns/net names the caller's own, and step back out. */
static int make_netns(const char *path, int home)
{
	int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);

	if (fd < 0)
		return fail("create network namespace", path, errno);
	close(fd);
	if (unshare(CLONE_NEWNET) < 0) {
		fail("create network namespace", "unshare(CLONE_NEWNET)", errno);
		unlink(path);
		return -1;
	}
	if (mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0) {
		failf("create network namespace", errno, "bind /proc/self/ns/net on %s", path);
		enter_netns(home, "(back home)");
		unlink(path);
		return -1;
	}
	if (enter_netns(home, "(back home)") < 0) {
		umount2(path, MNT_DETACH);
		unlink(path);
		return -1;
	}
	return 0;
}

static int remove_netns(const char *path)
{
	/* Not mounted (EINVAL) or missing (ENOENT) is what a finished removal looks like. */
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return fail("unmount network namespace", path, errno);
	if (unlink(path) < 0 && errno != ENOENT)
		return fail("remove network namespace", path, errno);
	return 0;
}

/* A netlink socket acts in the namespace it was opened in, so one opened inside
 * configures the container's side while the process itself stays home. */
static int open_netlink_in(int netns, const char *path, int home, struct nl_socket *s)
{
	if (enter_netns(netns, path) < 0)
		return -1;
	if (nl_open(s) < 0) {
		enter_netns(home, "(back home)");
		return -1;
	}
	return enter_netns(home, "(back home)");
}

/* The host end: made with its peer already inside, then a port of its bridge. Master
 * before hairpin, which is an option of bridge ports only; up last, once it is a port,
 * so it never carries traffic outside the bridge. */
static int attach_host_end(struct nl_socket *host, const struct net_interface *i, int netns, int *made)
{
	if (nl_create_veth(host, i->host_veth, i->name, i->mac, netns) < 0)
		return -1;
	(*made)++;
	if (nl_set_master(host, i->host_veth, i->bridge) < 0 || nl_set_hairpin(host, i->host_veth) < 0 ||
	    nl_link_up(host, i->host_veth) < 0)
		return -1;
	return 0;
}

/* Inside: loopback, addresses, then the default route, which the kernel accepts only
 * once its gateway is reachable through an address on a link that is up. */
static int configure_inside(struct nl_socket *inside, const struct net_config *c)
{
	if (nl_link_up(inside, "lo") < 0)
		return -1;
	for (size_t k = 0; k < c->ninterfaces; k++) {
		const struct net_interface *i = &c->interfaces[k];

		if (nl_add_address(inside, i->name, i->address, i->prefix) < 0 || nl_link_up(inside, i->name) < 0)
			return -1;
	}
	/* Joining an existing namespace adds interfaces only; its default route stays. */
	if (!c->create)
		return 0;
	for (size_t k = 0; k < c->ninterfaces; k++)
		if (c->interfaces[k].has_gateway)
			return nl_add_default_route(inside, c->interfaces[k].name, c->interfaces[k].gateway);
	return 0;
}

/* Removes what a failed attach made, keeping its reason (and adding any cleanup failure). */
static void undo_attach(const struct net_config *c, struct nl_socket *host, int made, int created)
{
	char reason[SHIM_ERROR_MAX], both[2 * SHIM_ERROR_MAX];
	int failed = 0;

	snprintf(reason, sizeof reason, "%s", last_error());
	for (int k = 0; k < made; k++) {
		int missing;

		failed |= nl_delete_link(host, c->interfaces[k].host_veth, &missing) < 0;
	}
	if (created)
		failed |= remove_netns(c->netns) < 0;
	if (!failed) {
		restore_error(reason);
		return;
	}
	snprintf(both, sizeof both, "%s; undoing it failed too: %s", reason, last_error());
	restore_error(both);
}

int net_attach(const struct net_config *c)
{
	struct nl_socket host = { -1, 0 }, inside = { -1, 0 };
	int home, netns = -1, made = 0, created = 0, rc = -1;

	home = open_home_netns();
	if (home < 0)
		return -1;
	if (c->create) {
		if (make_netns(c->netns, home) < 0)
			goto out;
		created = 1;
	}
	netns = open(c->netns, O_RDONLY | O_CLOEXEC);
	if (netns < 0) {
		fail("open network namespace", c->netns, errno);
		goto undo;
	}
	/* Both sockets first: a path that is no namespace fails here, before any veth exists. */
	if (nl_open(&host) < 0 || open_netlink_in(netns, c->netns, home, &inside) < 0)
		goto undo;
	for (size_t k = 0; k < c->ninterfaces; k++)
		if (attach_host_end(&host, &c->interfaces[k], netns, &made) < 0)
			goto undo;
	if (configure_inside(&inside, c) < 0)
		goto undo;
	rc = 0;
	goto out;
undo:
	if (host.fd < 0 && nl_open(&host) < 0)
		made = 0; /* nothing can have been made without a socket */
	undo_attach(c, &host, made, created);
out:
	nl_close(&inside);
	nl_close(&host);
	if (netns >= 0)
		close(netns);
	close(home);
	return rc;
}

int net_detach(const struct net_config *c)
{
	struct nl_socket host = { -1, 0 };
	char first[SHIM_ERROR_MAX] = "";
	int rc = 0;

	if (nl_open(&host) < 0)
		return -1;
	/* Deleting the host end deletes its peer with it. Explicitly, and before the
	 * namespace goes: the kernel frees an unused namespace (and its veths) only later. */
	for (size_t k = 0; k < c->ninterfaces; k++) {
		int missing;

		if (nl_delete_link(&host, c->interfaces[k].host_veth, &missing) < 0 && rc == 0) {
			snprintf(first, sizeof first, "%s", last_error());
			rc = -1;
		}
	}
	nl_close(&host);
	if (remove_netns(c->netns) < 0 && rc == 0) {
		snprintf(first, sizeof first, "%s", last_error());
		rc = -1;
	}
	if (rc < 0)
		restore_error(first);
	return rc;
}
