/* SPDX-License-Identifier: MIT */
/*
 * macaddr.h — default MAC addresses for NICs, shared by every NIC model, as QEMU 7.2 assigns
 * them (net/net.c: qemu_macaddr_default_if_unset, qemu_macaddr_set_used/_free).
 *
 * A NIC without a MAC (or with 00:00:00:00:00:00) gets 52:54:00:12:34:XX with the lowest XX
 * from 0x56 that no NIC holds (0xff once 0x56-0xfe are all held). A NIC whose MAC — given or
 * assigned — lies in 52:54:00:12:34:56-fe holds that XX until it is unplugged. One table per
 * process, as in QEMU.
 *
 * Threads: any (a mutex guards the table); models call these at realize and unrealize.
 */
#ifndef PCID_HW_NET_MACADDR_H
#define PCID_HW_NET_MACADDR_H

#include <stdbool.h>
#include <stdint.h>

/*
 * net_macaddr_claim() - `mac` (6 bytes, in/out): if `given` is false or it is all zeros, fill
 * it with the default above; then hold its XX if it is in the block.
 */
void net_macaddr_claim(uint8_t mac[6], bool given);

/* net_macaddr_release() - give back what net_macaddr_claim held for `mac` (QEMU frees it when
 * the NIC is deleted). */
void net_macaddr_release(const uint8_t mac[6]);

#endif
