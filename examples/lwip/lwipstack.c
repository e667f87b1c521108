/*
 * lwipstack: a routefuzz adapter (PROTOCOL.md, version 1) around lwIP, the
 * lightweight TCP/IP stack, as Debian ships it (liblwip-dev 2.1.3).
 *
 * Each adapter is an lwIP netif whose driver drops every frame it is given
 * (nothing is ever sent anywhere). The operations map to lwIP's netif API:
 *
 *   reset A...        netif_remove every netif, then netif_add A... in order
 *                     (so the last one named is at the head of netif_list),
 *                     each netif_set_up and netif_set_link_up
 *   add A v4/N        netif_set_addr(A, v4, mask N, 0.0.0.0): lwIP keeps one
 *                     IPv4 address per netif, so this REPLACES the address
 *                     the netif holds (and v4 = 0.0.0.0 clears it), answering
 *                     ok; the same address and length again is err exists
 *   del A v4/N        netif_set_addr(A, 0, 0, 0) when A holds v4/N
 *   add A v6/N        netif_add_ip6_address, then netif_ip6_addr_set_state
 *                     PREFERRED (duplicate address detection is taken as
 *                     passed: no lwIP timer runs here); a netif has
 *                     LWIP_IPV6_NUM_ADDRESSES - 1 = 5 slots for addresses
 *                     that are not link-local: a sixth is err invalid
 *   del A v6/N        netif_ip6_addr_set_state INVALID
 *   down / up         netif_set_down / netif_set_up
 *   unplug / plug     netif_remove / netif_add (+ up, link up): the netif
 *                     comes back at the head of netif_list, with no address
 *   carrier A off|on  netif_set_link_down / netif_set_link_up
 *   lookup D          ip4_route(D), or ip6_route(any, D) and
 *                     ip6_select_source_address(netif, D): see lookup()
 *
 * lwIP keeps no prefix length for IPv6 addresses (a static address always
 * has an implied /64 subnet, ip6.c ip6_route), so the length given on add is
 * kept here, for addrs and for del. lwIP has no route table: the program
 * declares routes=0 lookups=1.
 *
 * lwIP runs in this one thread: lwip_init() is called directly and the
 * tcpip thread is never started (Debian builds liblwip with NO_SYS=0, but
 * its core-locking check only applies once a tcpip thread exists), so no
 * timer runs and every answer is a function of the requests alone.
 *
 * Build: examples/lwip/build.sh (or make lwip).
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/init.h"
#include "lwip/ip4.h"
#include "lwip/ip6.h"
#include "lwip/ip6_addr.h"
#include "lwip/netif.h"
#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "netif/ethernet.h"

#define MAXADAPTERS 64
#define NAMELEN 16

struct adapter {
	char name[NAMELEN];
	int present; /* plugged: on netif_list */
	struct netif nif;
	int v6len[LWIP_IPV6_NUM_ADDRESSES]; /* the length each IPv6 slot was added with */
};

static struct adapter adapters[MAXADAPTERS];
static int nadapters;
static unsigned long dropped; /* frames the netifs were asked to send */

static err_t drop_frame(struct netif *n, struct pbuf *p)
{
	(void)n;
	(void)p;
	dropped++;
	return ERR_OK;
}

static err_t init_netif(struct netif *n)
{
	struct adapter *a = n->state;
	n->name[0] = 'r';
	n->name[1] = 'f';
	n->output = etharp_output;
	n->output_ip6 = ethip6_output;
	n->linkoutput = drop_frame;
	n->mtu = 1500;
	n->hwaddr_len = ETH_HWADDR_LEN;
	memset(n->hwaddr, 0, sizeof n->hwaddr);
	n->hwaddr[0] = 0x02; /* locally administered */
	n->hwaddr[5] = (u8_t)(a - adapters + 1);
	n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_IGMP | NETIF_FLAG_MLD6;
	return ERR_OK;
}

/* plug adds a's netif, with no address, up and with link, at the head of
 * netif_list. */
static int plug(struct adapter *a)
{
	memset(&a->nif, 0, sizeof a->nif);
	memset(a->v6len, 0, sizeof a->v6len);
	if (netif_add(&a->nif, NULL, NULL, NULL, a, init_netif, netif_input) == NULL) {
		return 0;
	}
	netif_set_up(&a->nif);
	netif_set_link_up(&a->nif);
	a->present = 1;
	return 1;
}

static void unplug(struct adapter *a)
{
	netif_remove(&a->nif);
	a->present = 0;
}

static struct adapter *find(const char *name)
{
	for (int i = 0; i < nadapters; i++) {
		if (strcmp(adapters[i].name, name) == 0) {
			return &adapters[i];
		}
	}
	return NULL;
}

/* A parsed address: family 4 or 6, the lwIP address, and the length (-1
 * when none was given). */
struct addr {
	int family;
	ip4_addr_t v4;
	ip6_addr_t v6;
	int len;
};

static int parse(const char *s, struct addr *out, int want_len)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n >= sizeof buf || (want_len && !slash) || (!want_len && slash)) {
		return 0;
	}
	memcpy(buf, s, n);
	buf[n] = 0;
	memset(out, 0, sizeof *out);
	out->len = -1;
	struct in6_addr in6;
	struct in_addr in4;
	if (inet_pton(AF_INET, buf, &in4) == 1) {
		out->family = 4;
		out->v4.addr = in4.s_addr; /* both in network order */
	} else if (inet_pton(AF_INET6, buf, &in6) == 1) {
		out->family = 6;
		memcpy(out->v6.addr, in6.s6_addr, 16);
		ip6_addr_clear_zone(&out->v6);
	} else {
		return 0;
	}
	if (slash) {
		char *end;
		long l = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1 || l < 0 || l > (out->family == 4 ? 32 : 128)) {
			return 0;
		}
		out->len = (int)l;
	}
	return 1;
}

static u32_t mask4(int len) { return len == 0 ? 0 : lwip_htonl(0xffffffffu << (32 - len)); }

static int len4(const ip4_addr_t *mask)
{
	u32_t m = lwip_ntohl(ip4_addr_get_u32(mask));
	int n = 0;
	while (m & 0x80000000u) {
		n++;
		m <<= 1;
	}
	return n;
}

static const char *str4(const ip4_addr_t *a, char *buf)
{
	struct in_addr in = {.s_addr = ip4_addr_get_u32(a)};
	return inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

static const char *str6(const ip6_addr_t *a, char *buf)
{
	struct in6_addr in;
	memcpy(in.s6_addr, a->addr, 16);
	return inet_ntop(AF_INET6, &in, buf, INET6_ADDRSTRLEN);
}

static void answer(const char *s)
{
	fputs(s, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

static int slot6(struct adapter *a, const ip6_addr_t *v6)
{
	for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++) {
		if (!ip6_addr_isinvalid(netif_ip6_addr_state(&a->nif, i)) && ip6_addr_cmp_zoneless(netif_ip6_addr(&a->nif, i), v6)) {
			return i;
		}
	}
	return -1;
}

static const char *add(struct adapter *a, const struct addr *p)
{
	if (p->family == 4) {
		if (!ip4_addr_isany_val(*netif_ip4_addr(&a->nif)) && ip4_addr_cmp(&p->v4, netif_ip4_addr(&a->nif)) &&
		    len4(netif_ip4_netmask(&a->nif)) == p->len) {
			return "err exists address already assigned";
		}
		ip4_addr_t mask;
		ip4_addr_set_u32(&mask, mask4(p->len));
		netif_set_addr(&a->nif, &p->v4, &mask, IP4_ADDR_ANY4);
		return "ok";
	}
	if (slot6(a, &p->v6) >= 0) {
		return "err exists address already assigned";
	}
	s8_t i;
	if (netif_add_ip6_address(&a->nif, &p->v6, &i) != ERR_OK) {
		return "err invalid no free IPv6 address slot (LWIP_IPV6_NUM_ADDRESSES)";
	}
	netif_ip6_addr_set_state(&a->nif, i, IP6_ADDR_PREFERRED);
	a->v6len[i] = p->len;
	return "ok";
}

static const char *del(struct adapter *a, const struct addr *p)
{
	if (p->family == 4) {
		if (ip4_addr_isany_val(*netif_ip4_addr(&a->nif)) || !ip4_addr_cmp(&p->v4, netif_ip4_addr(&a->nif)) ||
		    len4(netif_ip4_netmask(&a->nif)) != p->len) {
			return "err notfound address not found";
		}
		netif_set_addr(&a->nif, NULL, NULL, NULL);
		return "ok";
	}
	int i = slot6(a, &p->v6);
	if (i < 0 || a->v6len[i] != p->len) {
		return "err notfound address not found";
	}
	netif_ip6_addr_set_state(&a->nif, (s8_t)i, IP6_ADDR_INVALID);
	ip6_addr_set_zero(ip_2_ip6(&a->nif.ip6_addr[i]));
	return "ok";
}

static struct adapter *adapter_of(struct netif *n)
{
	return n ? (struct adapter *)n->state : NULL;
}

/* lookup answers where lwIP would send a packet to d, and from which
 * source, as a socket's output path decides it (udp_sendto, ip4_output_if,
 * ip6_output_if):
 *   IPv4: the netif is ip4_route(d), the first netif on netif_list that is
 *   up, has link, holds an address and whose subnet holds d (netif_default
 *   is never set here); the source is that netif's address; d is local when
 *   it is that netif's address (ip4_output_if loops it back), broadcast when
 *   ip4_addr_isbroadcast(d, netif).
 *   IPv6: the netif is ip6_route(any, d); the source is
 *   ip6_select_source_address(netif, d), and without one the packet is not
 *   sent (ERR_RTE): unreachable; d is local when it is an address of that
 *   netif (ip6_output_if loops it back). */
static void lookup(const struct addr *d, const char *req)
{
	char out[256], b1[INET6_ADDRSTRLEN], b2[INET6_ADDRSTRLEN];
	const char *dst = req;
	if (d->family == 4) {
		struct netif *n = ip4_route(&d->v4);
		if (n == NULL) {
			snprintf(out, sizeof out, "%s unreachable", dst);
		} else if (ip4_addr_cmp(&d->v4, netif_ip4_addr(n))) {
			snprintf(out, sizeof out, "%s local src %s", dst, str4(netif_ip4_addr(n), b1));
		} else if (ip4_addr_isbroadcast(&d->v4, n)) {
			snprintf(out, sizeof out, "%s broadcast dev %s src %s", dst, adapter_of(n)->name, str4(netif_ip4_addr(n), b1));
		} else {
			snprintf(out, sizeof out, "%s dev %s src %s", dst, adapter_of(n)->name, str4(netif_ip4_addr(n), b1));
		}
		answer(out);
		return;
	}
	struct netif *n = ip6_route(IP6_ADDR_ANY6, &d->v6);
	const ip_addr_t *src = n ? ip6_select_source_address(n, &d->v6) : NULL;
	if (n == NULL || src == NULL) {
		snprintf(out, sizeof out, "%s unreachable", dst);
	} else if (netif_get_ip6_addr_match(n, &d->v6) >= 0 &&
		   ip6_addr_isvalid(netif_ip6_addr_state(n, netif_get_ip6_addr_match(n, &d->v6)))) {
		snprintf(out, sizeof out, "%s local src %s", dst, str6(&d->v6, b1));
	} else {
		snprintf(out, sizeof out, "%s dev %s src %s", dst, adapter_of(n)->name, str6(ip_2_ip6(src), b2));
	}
	answer(out);
}

static void addrs(void)
{
	char b[INET6_ADDRSTRLEN];
	for (int i = 0; i < nadapters; i++) {
		struct adapter *a = &adapters[i];
		if (!a->present) {
			continue;
		}
		if (!ip4_addr_isany_val(*netif_ip4_addr(&a->nif))) {
			printf("%s %s/%d\n", a->name, str4(netif_ip4_addr(&a->nif), b), len4(netif_ip4_netmask(&a->nif)));
		}
		for (int j = 0; j < LWIP_IPV6_NUM_ADDRESSES; j++) {
			if (!ip6_addr_isinvalid(netif_ip6_addr_state(&a->nif, j))) {
				printf("%s %s/%d\n", a->name, str6(netif_ip6_addr(&a->nif, j), b), a->v6len[j]);
			}
		}
	}
	answer(".");
}

static int reset(char **names, int n)
{
	for (int i = 0; i < nadapters; i++) {
		if (adapters[i].present) {
			unplug(&adapters[i]);
		}
	}
	if (n > MAXADAPTERS) {
		return 0;
	}
	nadapters = 0;
	for (int i = 0; i < n; i++) {
		if (strlen(names[i]) >= NAMELEN) {
			return 0;
		}
		struct adapter *a = &adapters[nadapters++];
		memset(a, 0, sizeof *a);
		strcpy(a->name, names[i]);
		if (!plug(a)) {
			return 0;
		}
	}
	return 1;
}

#define MAXWORDS 16

int main(void)
{
	char line[4096];
	char *w[MAXWORDS];
	lwip_init();
	while (fgets(line, sizeof line, stdin)) {
		line[strcspn(line, "\r\n")] = 0;
		char req[4096];
		strcpy(req, line);
		int n = 0;
		for (char *tok = strtok(line, " "); tok && n < MAXWORDS; tok = strtok(NULL, " ")) {
			w[n++] = tok;
		}
		if (n == 0) {
			answer("err unsupported empty request");
			continue;
		}
		const char *verb = w[0];
		if (strcmp(verb, "hello") == 0) {
			if (n < 3 || strcmp(w[2], "1") != 0) {
				fprintf(stderr, "lwipstack: speaks routefuzz protocol 1, asked %s\n", req);
				return 1;
			}
			/* One IPv4 address per netif (struct netif has one ip_addr)
			 * and five IPv6 ones (LWIP_IPV6_NUM_ADDRESSES 6, slot 0 kept
			 * for link-local): routefuzz draws no add beyond them. */
			answer("hello routefuzz 1 families=4,6 keep_addr_on_down=1 routes=0 lookups=1 "
			       "ipv4_per_adapter=1 ipv6_per_adapter=5 "
			       "ops=add,del,down,up,unplug,plug,carrier");
		} else if (strcmp(verb, "reset") == 0) {
			answer(reset(w + 1, n - 1) ? "ok" : "err invalid too many adapters or name too long");
		} else if (strcmp(verb, "quit") == 0) {
			break;
		} else if (strcmp(verb, "addrs") == 0) {
			addrs();
		} else if (strcmp(verb, "lookup") == 0) {
			struct addr d;
			if (n != 2 || !parse(w[1], &d, 0)) {
				answer("err unsupported malformed lookup");
			} else {
				lookup(&d, w[1]);
			}
		} else if ((strcmp(verb, "add") == 0 || strcmp(verb, "del") == 0) && n == 3) {
			struct addr p;
			struct adapter *a = find(w[1]);
			if (!parse(w[2], &p, 1)) {
				answer("err invalid malformed prefix");
			} else if (a == NULL || !a->present) {
				/* The kernel takes 0.0.0.0/N before it looks for the device. */
				if (verb[0] == 'a' && p.family == 4 && ip4_addr_isany_val(p.v4)) {
					answer("ok");
				} else {
					answer("err invalid no such adapter");
				}
			} else {
				answer(verb[0] == 'a' ? add(a, &p) : del(a, &p));
			}
		} else if ((strcmp(verb, "down") == 0 || strcmp(verb, "up") == 0 || strcmp(verb, "unplug") == 0 ||
			    strcmp(verb, "plug") == 0) && n == 2) {
			struct adapter *a = find(w[1]);
			if (a == NULL) {
				answer("err invalid no such adapter");
			} else if (strcmp(verb, "plug") == 0) {
				answer(a->present ? "err exists adapter is plugged" : plug(a) ? "ok" : "err invalid netif_add failed");
			} else if (!a->present) {
				answer("err invalid adapter is unplugged");
			} else {
				if (strcmp(verb, "down") == 0) {
					netif_set_down(&a->nif);
				} else if (strcmp(verb, "up") == 0) {
					netif_set_up(&a->nif);
				} else {
					unplug(a);
				}
				answer("ok");
			}
		} else if (strcmp(verb, "carrier") == 0 && n == 3) {
			struct adapter *a = find(w[1]);
			if (a == NULL || !a->present) {
				answer("err invalid no such adapter");
			} else if (strcmp(w[2], "on") == 0) {
				netif_set_link_up(&a->nif);
				answer("ok");
			} else if (strcmp(w[2], "off") == 0) {
				netif_set_link_down(&a->nif);
				answer("ok");
			} else {
				answer("err invalid carrier on|off");
			}
		} else {
			answer("err unsupported");
		}
	}
	fprintf(stderr, "lwipstack: %lu frames dropped\n", dropped);
	return 0;
}
