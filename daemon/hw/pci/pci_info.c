/* SPDX-License-Identifier: MIT */
/*
 * pci_info.c — names and decodes. Class descriptions are QEMU 7.2's (hw/pci/pci.c table, used by
 * query-pci and info pci); capability names are lspci's (pciutils ls-caps.c / ls-ecaps.c).
 */
#include "pci_info.h"

#include <linux/virtio_pci.h>

#define INFO_AER_SIZEOF      0x48   /* QEMU's PCI_ERR_SIZEOF */
#define INFO_VSEC_VIRTIO     0x1af4 /* pcid's legacy MMR capability (virtio_pci.h) */
#define INFO_VSEC_VIRTIO_LEN 0x14

static const struct {
    uint16_t class_id;
    const char *desc;
} class_descs[] = {
    {0x0001, "VGA controller"},
    {0x0100, "SCSI controller"},
    {0x0101, "IDE controller"},
    {0x0102, "Floppy controller"},
    {0x0103, "IPI controller"},
    {0x0104, "RAID controller"},
    {0x0106, "SATA controller"},
    {0x0107, "SAS controller"},
    {0x0180, "Storage controller"},
    {0x0200, "Ethernet controller"},
    {0x0201, "Token Ring controller"},
    {0x0202, "FDDI controller"},
    {0x0203, "ATM controller"},
    {0x0280, "Network controller"},
    {0x0300, "VGA controller"},
    {0x0301, "XGA controller"},
    {0x0302, "3D controller"},
    {0x0380, "Display controller"},
    {0x0400, "Video controller"},
    {0x0401, "Audio controller"},
    {0x0402, "Phone"},
    {0x0403, "Audio controller"},
    {0x0480, "Multimedia controller"},
    {0x0500, "RAM controller"},
    {0x0501, "Flash controller"},
    {0x0580, "Memory controller"},
    {0x0600, "Host bridge"},
    {0x0601, "ISA bridge"},
    {0x0602, "EISA bridge"},
    {0x0603, "MC bridge"},
    {0x0604, "PCI bridge"},
    {0x0605, "PCMCIA bridge"},
    {0x0606, "NUBUS bridge"},
    {0x0607, "CARDBUS bridge"},
    {0x0608, "RACEWAY bridge"},
    {0x0680, "Bridge"},
    {0x0700, "Serial port"},
    {0x0701, "Parallel port"},
    {0x0800, "Interrupt controller"},
    {0x0801, "DMA controller"},
    {0x0802, "Timer"},
    {0x0803, "RTC"},
    {0x0900, "Keyboard"},
    {0x0901, "Pen"},
    {0x0902, "Mouse"},
    {0x0A00, "Dock station"},
    {0x0B00, "i386 cpu"},
    {0x0c00, "Firewire controller"},
    {0x0c01, "Access bus controller"},
    {0x0c02, "SSA controller"},
    {0x0c03, "USB controller"},
    {0x0c04, "Fibre channel controller"},
    {0x0c05, "SMBus"},
};

const char *pci_class_desc(uint16_t class_id)
{
    for (size_t i = 0; i < ARRAY_SIZE(class_descs); i++)
        if (class_descs[i].class_id == class_id)
            return class_descs[i].desc;
    return NULL;
}

const char *pci_cap_name(uint16_t id, bool extended)
{
    if (!extended) {
        switch (id) {
        case PCI_CAP_ID_PM:
            return "Power Management";
        case PCI_CAP_ID_AGP:
            return "AGP";
        case PCI_CAP_ID_VPD:
            return "Vital Product Data";
        case PCI_CAP_ID_SLOTID:
            return "Slot ID";
        case PCI_CAP_ID_MSI:
            return "MSI";
        case PCI_CAP_ID_CHSWP:
            return "CompactPCI hot-swap";
        case PCI_CAP_ID_PCIX:
            return "PCI-X";
        case PCI_CAP_ID_HT:
            return "HyperTransport";
        case PCI_CAP_ID_VNDR:
            return "Vendor Specific";
        case PCI_CAP_ID_DBG:
            return "Debug port";
        case PCI_CAP_ID_CCRC:
            return "CompactPCI central resource control";
        case PCI_CAP_ID_SHPC:
            return "Hot-plug capable";
        case PCI_CAP_ID_SSVID:
            return "Subsystem";
        case PCI_CAP_ID_AGP3:
            return "AGP3";
        case PCI_CAP_ID_SECDEV:
            return "Secure device";
        case PCI_CAP_ID_EXP:
            return "Express";
        case PCI_CAP_ID_MSIX:
            return "MSI-X";
        case PCI_CAP_ID_SATA:
            return "SATA HBA";
        case PCI_CAP_ID_AF:
            return "PCI Advanced Features";
        case PCI_CAP_ID_EA:
            return "Enhanced Allocation";
        }
        return "Unknown";
    }
    switch (id) {
    case PCI_EXT_CAP_ID_ERR:
        return "Advanced Error Reporting";
    case PCI_EXT_CAP_ID_VC:
    case PCI_EXT_CAP_ID_VC9:
        return "Virtual Channel";
    case PCI_EXT_CAP_ID_DSN:
        return "Device Serial Number";
    case PCI_EXT_CAP_ID_PWR:
        return "Power Budgeting";
    case PCI_EXT_CAP_ID_RCLD:
        return "Root Complex Link";
    case PCI_EXT_CAP_ID_VNDR:
        return "Vendor Specific Information";
    case PCI_EXT_CAP_ID_ACS:
        return "Access Control Services";
    case PCI_EXT_CAP_ID_ARI:
        return "Alternative Routing-ID Interpretation (ARI)";
    case PCI_EXT_CAP_ID_ATS:
        return "Address Translation Service (ATS)";
    case PCI_EXT_CAP_ID_SRIOV:
        return "Single Root I/O Virtualization (SR-IOV)";
    case PCI_EXT_CAP_ID_LTR:
        return "Latency Tolerance Reporting";
    case PCI_EXT_CAP_ID_SECPCI:
        return "Secondary PCI Express";
    case PCI_EXT_CAP_ID_DVSEC:
        return "Designated Vendor-Specific";
    }
    return "Unknown";
}

static const char *virtio_cfg_type_name(uint8_t t)
{
    switch (t) {
    case VIRTIO_PCI_CAP_COMMON_CFG:
        return "common";
    case VIRTIO_PCI_CAP_NOTIFY_CFG:
        return "notify";
    case VIRTIO_PCI_CAP_ISR_CFG:
        return "isr";
    case VIRTIO_PCI_CAP_DEVICE_CFG:
        return "device";
    case VIRTIO_PCI_CAP_PCI_CFG:
        return "pci-cfg";
    case VIRTIO_PCI_CAP_SHARED_MEMORY_CFG:
        return "shared-memory";
    case 10:
        return "legacy-mmr";
    }
    return "unknown";
}

unsigned pci_cap_size(const struct pci_device *d, const struct pci_cap_entry *e)
{
    const uint8_t *c = d->config + e->offset;

    if (e->extended) {
        switch (e->id) {
        case PCI_EXT_CAP_ID_ERR:
            return INFO_AER_SIZEOF; /* as QEMU allocates it, TLP prefix log included */
        case PCI_EXT_CAP_ID_ACS:
        case PCI_EXT_CAP_ID_ARI:
        case PCI_EXT_CAP_ID_ATS:
            return 8;
        case PCI_EXT_CAP_ID_DSN:
            return 12;
        case PCI_EXT_CAP_ID_VNDR: {
            unsigned len = (unsigned)(le_load(c + PCI_VNDR_HEADER, 4) >> 20);
            return len >= 8 ? len : 8; /* PCIe 4.0 §7.9.5.2: VSEC Length counts the headers */
        }
        }
        return 4;
    }
    switch (e->id) {
    case PCI_CAP_ID_PM:
        return PCI_PM_SIZEOF;
    case PCI_CAP_ID_MSI: {
        uint16_t flags = le_get16(c + PCI_MSI_FLAGS);
        unsigned size = (flags & PCI_MSI_FLAGS_64BIT) ? 14 : 10;
        if (flags & PCI_MSI_FLAGS_MASKBIT)
            size += 10;
        return size;
    }
    case PCI_CAP_ID_MSIX:
        return PCI_CAP_MSIX_SIZEOF;
    case PCI_CAP_ID_VNDR:
        return c[PCI_CAP_FLAGS] >= 3 ? c[PCI_CAP_FLAGS] : 3;
    case PCI_CAP_ID_EXP:
        /* QEMU's sizes: v2 through Slot Status 2 (0x3c), v1 through Link Status (0x14). */
        return (le_get16(c + PCI_EXP_FLAGS) & PCI_EXP_FLAGS_VERS) >= 2 ? 0x3c : 0x14;
    case PCI_CAP_ID_SSVID:
    case PCI_CAP_ID_SHPC:
    case PCI_CAP_ID_SATA:
        return 8;
    case PCI_CAP_ID_SLOTID:
        return 4;
    }
    return 2;
}

#define FIELD_U(n, v)                                                                              \
    do {                                                                                           \
        if (k < max)                                                                               \
            out[k] = (struct pci_cap_field){.name = (n), .kind = PCI_FIELD_UINT, .u = (v)};        \
        k++;                                                                                       \
    } while (0)
#define FIELD_B(n, v)                                                                              \
    do {                                                                                           \
        if (k < max)                                                                               \
            out[k] = (struct pci_cap_field){.name = (n), .kind = PCI_FIELD_BOOL, .u = !!(v)};      \
        k++;                                                                                       \
    } while (0)
#define FIELD_S(n, v)                                                                              \
    do {                                                                                           \
        if (k < max)                                                                               \
            out[k] = (struct pci_cap_field){.name = (n), .kind = PCI_FIELD_STR, .s = (v)};         \
        k++;                                                                                       \
    } while (0)

/* Fields of an extended capability (PCIe 4.0 §7.8.4 AER, §7.7.8 ACS, §7.9.5 VSEC). */
static int decode_ext(const struct pci_device *d, const struct pci_cap_entry *e,
                      struct pci_cap_field *out, int max)
{
    const uint8_t *c = d->config + e->offset;
    int k = 0;

    switch (e->id) {
    case PCI_EXT_CAP_ID_ERR:
        FIELD_U("uncorrectable-status", le_get32(c + PCI_ERR_UNCOR_STATUS));
        FIELD_U("uncorrectable-mask", le_get32(c + PCI_ERR_UNCOR_MASK));
        FIELD_U("uncorrectable-severity", le_get32(c + PCI_ERR_UNCOR_SEVER));
        FIELD_U("correctable-status", le_get32(c + PCI_ERR_COR_STATUS));
        FIELD_U("correctable-mask", le_get32(c + PCI_ERR_COR_MASK));
        FIELD_U("capabilities-control", le_get32(c + PCI_ERR_CAP));
        if (d->exp_cap &&
            ((le_get16(d->config + d->exp_cap + PCI_EXP_FLAGS) & PCI_EXP_FLAGS_TYPE) >> 4) ==
                PCI_EXP_TYPE_ROOT_PORT) {
            FIELD_U("root-command", le_get32(c + PCI_ERR_ROOT_COMMAND));
            FIELD_U("root-status", le_get32(c + PCI_ERR_ROOT_STATUS));
        }
        break;
    case PCI_EXT_CAP_ID_ACS:
        FIELD_U("capability", le_get16(c + PCI_ACS_CAP));
        FIELD_U("control", le_get16(c + PCI_ACS_CTRL));
        break;
    case PCI_EXT_CAP_ID_VNDR: {
        uint32_t hdr = le_get32(c + PCI_VNDR_HEADER);

        FIELD_U("vsec-id", hdr & 0xffff);
        FIELD_U("vsec-revision", (hdr >> 16) & 0xf);
        FIELD_U("vsec-length", hdr >> 20);
        /* pcid's virtio legacy MMR capability (virtio_pci.h): cfg_type, bar, offset, length */
        if ((hdr & 0xffff) == INFO_VSEC_VIRTIO && (hdr >> 20) >= INFO_VSEC_VIRTIO_LEN &&
            pci_dev_vendor_id(d) == INFO_VSEC_VIRTIO) {
            FIELD_S("virtio-cfg-type", virtio_cfg_type_name(c[8]));
            FIELD_U("bar", c[9]);
            FIELD_U("offset", le_get32(c + 12));
            FIELD_U("length", le_get32(c + 16));
        }
        break;
    }
    }
    return MIN(k, max);
}

int pci_cap_decode(const struct pci_device *d, const struct pci_cap_entry *e,
                   struct pci_cap_field *out, int max)
{
    const uint8_t *c = d->config + e->offset;
    int k = 0;

    if (e->extended)
        return decode_ext(d, e, out, max);
    switch (e->id) {
    case PCI_CAP_ID_MSIX: {
        uint16_t ctl = le_get16(c + PCI_MSIX_FLAGS);
        uint32_t table = le_get32(c + PCI_MSIX_TABLE), pba = le_get32(c + PCI_MSIX_PBA);

        FIELD_B("enabled", ctl & PCI_MSIX_FLAGS_ENABLE);
        FIELD_B("function-mask", ctl & PCI_MSIX_FLAGS_MASKALL);
        FIELD_U("table-size", (ctl & PCI_MSIX_FLAGS_QSIZE) + 1u);
        FIELD_U("table-bar", table & PCI_MSIX_TABLE_BIR);
        FIELD_U("table-offset", table & PCI_MSIX_TABLE_OFFSET);
        FIELD_U("pba-bar", pba & PCI_MSIX_PBA_BIR);
        FIELD_U("pba-offset", pba & PCI_MSIX_PBA_OFFSET);
        break;
    }
    case PCI_CAP_ID_VNDR:
        /* Only virtio's vendor capabilities have a known layout (virtio 1.2 §4.1.4). */
        if (pci_dev_vendor_id(d) != 0x1af4 || c[PCI_CAP_FLAGS] < 16)
            break;
        FIELD_S("virtio-cfg-type", virtio_cfg_type_name(c[VIRTIO_PCI_CAP_CFG_TYPE]));
        FIELD_U("bar", c[VIRTIO_PCI_CAP_BAR]);
        FIELD_U("offset", le_get32(c + VIRTIO_PCI_CAP_OFFSET));
        FIELD_U("length", le_get32(c + VIRTIO_PCI_CAP_LENGTH));
        if (c[VIRTIO_PCI_CAP_CFG_TYPE] == VIRTIO_PCI_CAP_NOTIFY_CFG && c[PCI_CAP_FLAGS] >= 20)
            FIELD_U("notify-off-multiplier", le_get32(c + VIRTIO_PCI_NOTIFY_CAP_MULT));
        break;
    case PCI_CAP_ID_PM: {
        uint16_t pmc = le_get16(c + PCI_PM_PMC);
        FIELD_U("version", pmc & PCI_PM_CAP_VER_MASK);
        FIELD_U("power-state", le_get16(c + PCI_PM_CTRL) & PCI_PM_CTRL_STATE_MASK);
        break;
    }
    case PCI_CAP_ID_MSI: {
        uint16_t flags = le_get16(c + PCI_MSI_FLAGS);
        FIELD_B("enabled", flags & PCI_MSI_FLAGS_ENABLE);
        FIELD_U("vectors", 1u << ((flags & PCI_MSI_FLAGS_QMASK) >> 1));
        FIELD_B("64bit", flags & PCI_MSI_FLAGS_64BIT);
        FIELD_B("per-vector-masking", flags & PCI_MSI_FLAGS_MASKBIT);
        break;
    }
    case PCI_CAP_ID_EXP: {
        uint16_t flags = le_get16(c + PCI_EXP_FLAGS);
        static const char *const types[16] = {[PCI_EXP_TYPE_ENDPOINT] = "endpoint",
                                              [PCI_EXP_TYPE_LEG_END] = "legacy-endpoint",
                                              [PCI_EXP_TYPE_ROOT_PORT] = "root-port",
                                              [PCI_EXP_TYPE_UPSTREAM] = "upstream-port",
                                              [PCI_EXP_TYPE_DOWNSTREAM] = "downstream-port",
                                              [PCI_EXP_TYPE_PCI_BRIDGE] = "pcie-to-pci-bridge",
                                              [PCI_EXP_TYPE_PCIE_BRIDGE] = "pci-to-pcie-bridge",
                                              [PCI_EXP_TYPE_RC_END] = "rc-integrated-endpoint",
                                              [PCI_EXP_TYPE_RC_EC] = "rc-event-collector"};
        const char *t = types[(flags & PCI_EXP_FLAGS_TYPE) >> 4];
        uint16_t lnksta = le_get16(c + PCI_EXP_LNKSTA);

        FIELD_U("version", flags & PCI_EXP_FLAGS_VERS);
        FIELD_S("type", t ? t : "unknown");
        FIELD_B("slot-implemented", flags & PCI_EXP_FLAGS_SLOT);
        FIELD_U("link-speed", lnksta & PCI_EXP_LNKSTA_CLS);
        FIELD_U("link-width", (lnksta & PCI_EXP_LNKSTA_NLW) >> PCI_EXP_LNKSTA_NLW_SHIFT);
        if (flags & PCI_EXP_FLAGS_SLOT) {
            uint32_t cap = le_get32(c + PCI_EXP_SLTCAP);
            uint16_t ctl = le_get16(c + PCI_EXP_SLTCTL), sta = le_get16(c + PCI_EXP_SLTSTA);
            static const char *const ind[4] = {"reserved", "on", "blink", "off"};

            FIELD_U("slot-number", cap >> 19);
            FIELD_B("hot-plug-capable", cap & PCI_EXP_SLTCAP_HPC);
            FIELD_B("power-controller", cap & PCI_EXP_SLTCAP_PCP);
            FIELD_S("power", (ctl & PCI_EXP_SLTCTL_PCC) ? "off" : "on");
            FIELD_S("power-indicator", ind[(ctl & PCI_EXP_SLTCTL_PIC) >> 8]);
            FIELD_S("attention-indicator", ind[(ctl & PCI_EXP_SLTCTL_AIC) >> 6]);
            FIELD_B("presence-detect", sta & PCI_EXP_SLTSTA_PDS);
        }
        break;
    }
    }
    return MIN(k, max);
}
