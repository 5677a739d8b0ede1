/* SPDX-License-Identifier: MIT */
/* e1000_regs.c — 82540EM register behaviour for a driver probe (being written). */
#include "e1000.h"
