/* Reads the JSON that describes a network attachment, strictly: unknown keys, names
 * the kernel would refuse, addresses and MACs that do not parse are errors that name
 * the field, before any kernel object is made. */
#include "netsetup.h"
#include "report.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const config_keys[] = { "netns", "create", "interfaces", NULL };
static const char *const interface_keys[] = { "hostVeth", "name", "bridge", "address", "prefix", "mac", "gateway", NULL };

static int known_keys(const cJSON *obj, const char *const keys[], const char *origin, const char *where)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, obj) {
		size_t k = 0;

		while (keys[k] && strcmp(keys[k], item->string) != 0)
			k++;
		if (!keys[k])
			return failf(origin, 0, "%s%s: unknown field", where, item->string);
	}
	return 0;
}

static const char *get_string(const cJSON *obj, const char *key, const char *origin, const char *where, int required)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v || cJSON_IsNull(v)) {
		if (required)
			failf(origin, 0, "%s%s is required", where, key);
		return NULL;
	}
	if (!cJSON_IsString(v)) {
		failf(origin, 0, "%s%s: expected a string", where, key);
		return NULL;
	}
	return v->valuestring;
}

/* What the kernel's dev_valid_name accepts. */
static int get_ifname(const cJSON *obj, const char *key, const char *origin, const char *where, char out[IFNAMSIZ])
{
	const char *name = get_string(obj, key, origin, where, 1);
	size_t len;

	if (!name)
		return -1;
	len = strlen(name);
	if (len == 0 || len >= IFNAMSIZ)
		return failf(origin, 0, "%s%s: \"%s\" must be 1 to %d characters", where, key, name, IFNAMSIZ - 1);
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return failf(origin, 0, "%s%s: \"%s\" is not an interface name", where, key, name);
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p))
			return failf(origin, 0, "%s%s: \"%s\" may not contain '/', ':' or spaces", where, key, name);
	memcpy(out, name, len + 1);
	return 0;
}

static int get_ipv4(const cJSON *obj, const char *key, const char *origin, const char *where, int required, struct in_addr *out, int *present)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	const char *text;

	if (present)
		*present = 0;
	if (!required && (!v || cJSON_IsNull(v)))
		return 0;
	text = get_string(obj, key, origin, where, 1);
	if (!text)
		return -1;
	if (inet_pton(AF_INET, text, out) != 1)
		return failf(origin, 0, "%s%s: \"%s\" is not an IPv4 address", where, key, text);
	if (present)
		*present = 1;
	return 0;
}

static int get_mac(const cJSON *obj, const char *origin, const char *where, unsigned char mac[6])
{
	const char *text = get_string(obj, "mac", origin, where, 1);

	if (!text)
		return -1;
	if (strlen(text) != 17)
		goto bad;
	for (int i = 0; i < 6; i++) {
		const char *p = text + 3 * i;

		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) || (i < 5 && p[2] != ':'))
			goto bad;
		mac[i] = (unsigned char)strtoul((char[]){ p[0], p[1], '\0' }, NULL, 16);
	}
	/* The kernel refuses a group address on a link; say so before it does. */
	if (mac[0] & 1)
		return failf(origin, 0, "%smac: %s is a multicast address", where, text);
	return 0;
bad:
	return failf(origin, 0, "%smac: \"%s\" is not a MAC address like 02:42:0a:59:03:02", where, text);
}

static int get_prefix(const cJSON *obj, const char *origin, const char *where, unsigned *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "prefix");

	if (!v || cJSON_IsNull(v))
		return failf(origin, 0, "%sprefix is required", where);
	if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int)v->valuedouble)
		return failf(origin, 0, "%sprefix: expected an integer", where);
	/* /31 and /32 leave no room for a gateway and a container beside it. */
	if (v->valueint < 8 || v->valueint > 30)
		return failf(origin, 0, "%sprefix: %d is out of range (8 to 30)", where, v->valueint);
	*out = (unsigned)v->valueint;
	return 0;
}

static int same_subnet(struct in_addr a, struct in_addr b, unsigned prefix)
{
	uint32_t mask = htonl(~0U << (32 - prefix));

	return (a.s_addr & mask) == (b.s_addr & mask);
}

static int read_interface(const cJSON *item, const char *origin, const char *where, enum net_config_use use, struct net_interface *out)
{
	char text[INET_ADDRSTRLEN];

	if (!cJSON_IsObject(item))
		return failf(origin, 0, "%.*s: expected an object", (int)strlen(where) - 1, where);
	if (known_keys(item, interface_keys, origin, where) < 0 ||
	    get_ifname(item, "hostVeth", origin, where, out->host_veth) < 0)
		return -1;
	if (use == NET_CONFIG_DETACH)
		return 0;
	if (get_ifname(item, "name", origin, where, out->name) < 0 ||
	    get_ifname(item, "bridge", origin, where, out->bridge) < 0 ||
	    get_ipv4(item, "address", origin, where, 1, &out->address, NULL) < 0 ||
	    get_prefix(item, origin, where, &out->prefix) < 0 ||
	    get_mac(item, origin, where, out->mac) < 0 ||
	    get_ipv4(item, "gateway", origin, where, 0, &out->gateway, &out->has_gateway) < 0)
		return -1;
	/* Otherwise the kernel would refuse the route with a bare "Network is unreachable". */
	if (out->has_gateway && !same_subnet(out->address, out->gateway, out->prefix)) {
		inet_ntop(AF_INET, &out->gateway, text, sizeof text);
		return failf(origin, 0, "%sgateway: %s is outside the interface's subnet (/%u)", where, text, out->prefix);
	}
	return 0;
}

/* Two interfaces with one name would fail half-way through, after veths were made. */
static int check_duplicates(const struct net_config *c, const char *origin, enum net_config_use use)
{
	for (size_t i = 0; i < c->ninterfaces; i++)
		for (size_t j = 0; j < i; j++) {
			if (strcmp(c->interfaces[i].host_veth, c->interfaces[j].host_veth) == 0)
				return failf(origin, 0, "interfaces[%zu].hostVeth: %s is also interfaces[%zu]'s", i, c->interfaces[i].host_veth, j);
			if (use == NET_CONFIG_ATTACH && strcmp(c->interfaces[i].name, c->interfaces[j].name) == 0)
				return failf(origin, 0, "interfaces[%zu].name: %s is also interfaces[%zu]'s", i, c->interfaces[i].name, j);
		}
	return 0;
}

static int read_config(const cJSON *doc, const char *origin, enum net_config_use use, struct net_config *out)
{
	const cJSON *interfaces, *create, *item;
	const char *netns;
	size_t i = 0;

	if (!cJSON_IsObject(doc))
		return failf(origin, 0, "expected a JSON object");
	if (known_keys(doc, config_keys, origin, "") < 0)
		return -1;
	netns = get_string(doc, "netns", origin, "", 1);
	if (!netns)
		return -1;
	if (netns[0] != '/' || strlen(netns) >= PATH_MAX)
		return failf(origin, 0, "netns: \"%s\" is not an absolute path", netns);
	out->netns = strdup(netns);
	if (!out->netns)
		return fail(origin, "netns", ENOMEM);
	create = cJSON_GetObjectItemCaseSensitive(doc, "create");
	if (create && !cJSON_IsNull(create) && !cJSON_IsBool(create))
		return failf(origin, 0, "create: expected true or false");
	out->create = cJSON_IsTrue(create);
	interfaces = cJSON_GetObjectItemCaseSensitive(doc, "interfaces");
	if (!cJSON_IsArray(interfaces))
		return failf(origin, 0, "interfaces: expected an array");
	out->ninterfaces = (size_t)cJSON_GetArraySize(interfaces);
	out->interfaces = calloc(out->ninterfaces ? out->ninterfaces : 1, sizeof *out->interfaces);
	if (!out->interfaces)
		return fail(origin, "interfaces", ENOMEM);
	cJSON_ArrayForEach(item, interfaces) {
		char where[48];

		snprintf(where, sizeof where, "interfaces[%zu].", i);
		if (read_interface(item, origin, where, use, &out->interfaces[i]) < 0)
			return -1;
		i++;
	}
	return check_duplicates(out, origin, use);
}

int net_config_parse(const char *json, const char *origin, enum net_config_use use, struct net_config *out)
{
	cJSON *doc;
	int rc;

	memset(out, 0, sizeof *out);
	doc = cJSON_Parse(json);
	if (!doc) {
		const char *where = cJSON_GetErrorPtr();

		return failf(origin, 0, "not valid JSON near byte %ld", where ? (long)(where - json) : -1L);
	}
	rc = read_config(doc, origin, use, out);
	cJSON_Delete(doc);
	if (rc < 0)
		net_config_free(out);
	return rc;
}

void net_config_free(struct net_config *c)
{
	free(c->netns);
	free(c->interfaces);
	memset(c, 0, sizeof *c);
}
