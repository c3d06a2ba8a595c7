/*
 * cdrain.c - the C reference for the drain benchmark (bench/drain/drain.mjs).
 *
 *   cdrain drain IFNAME COUNT
 *       creates TUN IFNAME (IFF_TUN | IFF_NO_PI, non-blocking), prints READY,
 *       waits for a line `go N` on stdin, then reads N (or COUNT) packets with one read() per
 *       packet (poll() only when the queue is empty) and prints
 *       {"packets":N,"seconds":S,"pps":P}.
 *   cdrain fill DST PORT COUNT LEN
 *       sends COUNT UDP datagrams of LEN payload bytes to DST:PORT with
 *       sendmmsg() in batches of 64 and prints {"sent":N}.
 *
 * Every loop is bounded: drain gives up after 30 s, fill after COUNT datagrams.
 * Build: gcc -O2 -Wall -o cdrain cdrain.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* CPU time of the calling thread, ns. */
static double cpu_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static int drain(const char *name, long count)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) { perror("open /dev/net/tun"); return 1; }
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) { perror("TUNSETIFF"); return 1; }
	printf("READY\n");
	fflush(stdout);
	char line[64];
	if (!fgets(line, sizeof(line), stdin)) return 1;
	if (atol(line + 2) > 0) count = atol(line + 2); /* "go N": N packets are queued */

	static unsigned char buf[65536];
	long n = 0;
	double t0 = 0, t1 = 0, c0 = 0, deadline = now() + 30;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	while (n < count && now() < deadline) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0) {
			if (errno == EAGAIN) { poll(&p, 1, 100); continue; }
			if (errno == EINTR) continue;
			perror("read");
			return 1;
		}
		if (n == 0) { t0 = now(); c0 = cpu_ns(); }
		n++;
		t1 = now();
	}
	double secs = t1 - t0;
	double per = n > 1 ? (cpu_ns() - c0) / (n - 1) : 0; /* one thread: it is the whole process */
	printf("{\"packets\":%ld,\"seconds\":%.6f,\"pps\":%.0f,\"workerNsPerPacket\":%.0f,\"processNsPerPacket\":%.0f}\n",
	       n, secs, n > 1 ? (n - 1) / secs : 0, per, per);
	return 0;
}

static int fill(const char *dst, int port, long count, int len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (inet_pton(AF_INET, dst, &sa.sin_addr) != 1) { fprintf(stderr, "bad address %s\n", dst); return 2; }
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0) { perror("socket"); return 1; }
	int sndbuf = 64 << 20;
	setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf));
	enum { B = 64 };
	static unsigned char payload[B][2048];
	struct iovec iov[B];
	struct mmsghdr msgs[B];
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < B; i++) {
		iov[i].iov_base = payload[i];
		iov[i].iov_len = len;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &sa;
		msgs[i].msg_hdr.msg_namelen = sizeof(sa);
	}
	long sent = 0;
	while (sent < count) {
		int k = count - sent < B ? count - sent : B;
		int r = sendmmsg(s, msgs, k, 0);
		if (r < 0) {
			if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN) continue;
			perror("sendmmsg");
			return 1;
		}
		sent += r;
	}
	printf("{\"sent\":%ld}\n", sent);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "drain") == 0) return drain(argv[2], atol(argv[3]));
	if (argc == 6 && strcmp(argv[1], "fill") == 0) return fill(argv[2], atoi(argv[3]), atol(argv[4]), atoi(argv[5]));
	fprintf(stderr, "usage: cdrain drain IFNAME COUNT | cdrain fill DST PORT COUNT LEN\n");
	return 2;
}
