/* SPDX-License-Identifier: MIT */
/*
 * hmp.h — the human monitor: QEMU's `info pci` text and the HMP command syntax
 * (`device_add driver,key=value,...`, `device_del ID`, `info pci`, `info slots`, `system_reset`,
 * `help`).
 *
 * Output is text with CRLF line ends, as QEMU's monitor gives it; errors come back as the text
 * QEMU prints ("Error: ...", "unknown command: '...'"), never as a failed command.
 * Call through api_execute("human-monitor-command") or with the control lock held.
 */
#ifndef PCID_API_HMP_H
#define PCID_API_HMP_H

#include <jansson.h>

#include "commands.h"

/*
 * hmp_info_pci_text() - QEMU's `info pci` for the query-pci value `pci` (from
 * marshal_query_pci), with "\n" line ends. Returns a malloc'd string.
 */
char *hmp_info_pci_text(json_t *pci);

/*
 * hmp_info_slots_text() - pcid's `info slots` for the query-pci-slots value `slots` (from
 * marshal_pci_slots): per bus its kind, hotplug controller and windows (used bytes, largest
 * free block), per slot its state, functions and the route of its INTA pin (PIRQ, IRQ, GSI,
 * the functions sharing that PIRQ line; query-pci-slots has all four pins). "\n" line ends;
 * returns a malloc'd string, NULL without memory.
 */
char *hmp_info_slots_text(json_t *slots);

/* hmp_crlf() - copy of `text` with every "\n" turned into "\r\n". */
char *hmp_crlf(const char *text);

#endif
