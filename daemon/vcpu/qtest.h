/* SPDX-License-Identifier: MIT */
/*
 * qtest.h — the access socket: QEMU's qtest text protocol for port and memory accesses, served
 * by vCPU threads, so the same access script runs against QEMU (-qtest unix:PATH) and pcid.
 *
 *   outb|outw|outl ADDR VALUE        -> OK
 *   inb|inw|inl ADDR                 -> OK 0x%04x        (e.g. "OK 0x0086", "OK 0x12378086")
 *   readb|readw|readl|readq ADDR     -> OK 0x%016x
 *   writeb|writew|writel|writeq ADDR VALUE -> OK
 *   irq_intercept_in NAME / irq_intercept_out NAME -> OK; then asynchronous lines
 *                                       "IRQ raise N" / "IRQ lower N" for interrupt line N
 *   endianness                       -> OK little
 * Numbers take C syntax (0x hex or decimal). Anything else gets "FAIL reason" and the
 * connection keeps working (QEMU aborts there). Lines are limited to QTEST_MAX_LINE bytes and a
 * client that does not read its replies is disconnected past QTEST_MAX_OUTPUT bytes.
 *
 * Each accepted connection is served by one vCPU, round-robin; its accesses are counted with
 * the vCPU's other accesses.
 */
#ifndef PCID_VCPU_QTEST_H
#define PCID_VCPU_QTEST_H

#include "vcpu.h"

#define QTEST_MAX_LINE    4096
#define QTEST_MAX_OUTPUT  (1024 * 1024)
#define QTEST_MAX_CLIENTS 64

struct qtest_server;

/*
 * qtest_server_new() - serve the listening socket `fd` (ownership taken) with vCPUs `vs`.
 * The vCPUs must be started. Returns 0 and *ret, or -errno.
 */
int qtest_server_new(struct vcpus *vs, int fd, struct qtest_server **ret);
void qtest_server_free(struct qtest_server *s);

/*
 * qtest_line() - execute one protocol line on vCPU `v` (its thread) and write the reply
 * (with "\n") into `out` (`len` bytes). For tests and the fuzzer. Returns the reply length.
 * `intercept` is set when the line enables interrupt interception.
 */
size_t qtest_line(struct vcpu *v, const char *line, char *out, size_t len, bool *intercept);

#endif
