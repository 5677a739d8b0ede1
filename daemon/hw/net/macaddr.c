/* SPDX-License-Identifier: MIT */
/* macaddr.c — QEMU's default-MAC table, shared by all NIC models. See macaddr.h. */
#include "macaddr.h"

#include <pthread.h>
#include <string.h>

#define BLOCK_FIRST 0x56
#define BLOCK_END   0xff /* exclusive; the value given when the block is exhausted */

static const uint8_t block[5] = {0x52, 0x54, 0x00, 0x12, 0x34};
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned used[BLOCK_END];

static bool in_block(const uint8_t mac[6])
{
    return !memcmp(mac, block, sizeof(block)) && mac[5] >= BLOCK_FIRST && mac[5] < BLOCK_END;
}

void net_macaddr_claim(uint8_t mac[6], bool given)
{
    static const uint8_t zero[6];

    pthread_mutex_lock(&lock);
    if (!given || !memcmp(mac, zero, sizeof(zero))) {
        unsigned i = BLOCK_FIRST;

        while (i < BLOCK_END && used[i])
            i++;
        memcpy(mac, block, sizeof(block));
        mac[5] = (uint8_t)i;
    }
    if (in_block(mac))
        used[mac[5]]++;
    pthread_mutex_unlock(&lock);
}

void net_macaddr_release(const uint8_t mac[6])
{
    pthread_mutex_lock(&lock);
    if (in_block(mac) && used[mac[5]])
        used[mac[5]]--;
    pthread_mutex_unlock(&lock);
}
