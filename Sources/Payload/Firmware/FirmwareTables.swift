import GuestPhysical

/// Generates the bytes of the firmware layout's reserved footer area (docs/image-format.md:
/// 0xFFFFF800..0xFFFFFFDF) from an image's population plan, in the format edk2's OVMF uses, so
/// QEMU's SNP and TDX loaders and sev-snp-measure read our images as they read OVMF.
///
/// Area layout (offsets from the area start):
/// - 0x000: SEV metadata, "ASEV" header + one SNP_SEC_MEM section per private zero RAM range,
///   then SNP_SECRETS, CPUID and SNP_KERNEL_HASHES pages (`LaunchPages`), as OVMF's AmdSev
///   build lists them (edk2 OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm);
/// - next 16-byte boundary: the TDVF GUID, then the "TDVF" descriptor and its sections;
/// - end of the area: the GUID table — TDX metadata offset, SEV metadata offset, SEV hash-table
///   block (the kernel-hashes page), SEV-ES reset block, footer — ending exactly at 4 GiB − 32,
///   where `.apentry` begins.
public enum FirmwareTables {
    /// Size of the reserved area: from 4 GiB − 2 KiB up to the AP entry at 4 GiB − 32.
    public static let areaSize = 0x7E0
    /// Distance from the area start to the end of the ROM.
    public static let areaOffsetFromEnd = 0x800
    /// Where TDX VMMs write the TD hand-off block unless told otherwise: conventional RAM our
    /// layouts leave unused (RAM ranges start at 1 MiB).
    public static let defaultTDHob = GPARange(start: 0x8_0000, end: 0x8_2000)

    /// The SNP pages a VMM fills before launch, each one 4 KiB page of conventional RAM just
    /// above the TD HOB (our layouts leave 0x80000..0x100000 unused).
    public enum LaunchPages {
        /// SNP_SECRETS: the PSP writes the secrets page here.
        public static let secrets = GPARange(start: 0x8_2000, end: 0x8_3000)
        /// CPUID: the VMM's CPUID table, checked by the PSP.
        public static let cpuid = GPARange(start: 0x8_3000, end: 0x8_4000)
        /// SNP_KERNEL_HASHES: the page QEMU fills with the kernel/initrd/cmdline hash table for a
        /// measured direct boot (zero pages without one). The SEV hash-table footer entry names
        /// the table's place in it: the page start, the whole page, as OVMF's AmdSev build does
        /// (OvmfPkg/AmdSev/AmdSevX64.fdf PcdQemuHashTableBase/Size).
        public static let kernelHashes = GPARange(start: 0x8_4000, end: 0x8_5000)

        /// Every launch page with its name, in SEV-metadata order.
        public static let all: [(name: String, range: GPARange)] = [
            ("SNP_SECRETS", secrets), ("CPUID", cpuid), ("SNP_KERNEL_HASHES", kernelHashes),
        ]
    }

    /// The `areaSize` bytes for the reserved area of a ROM at `romBase` of `romSize` bytes.
    ///
    /// - ROM ranges: the whole ROM is the image SNP measures; for TDX, `unmeasured` ROM ranges
    ///   become CFV sections (added, not extended) and the rest of the ROM BFV sections with
    ///   MR.EXTEND.
    /// - Private `zero` RAM ranges become SNP_SEC_MEM (SEV) and TEMP_MEM (TDX) sections.
    /// - Shared ranges, and ranges that start shared, are not populated privately: no section.
    /// - `tdHob` becomes the TD_HOB section QEMU requires.
    public static func build(
        plan: PopulationPlan, romBase: UInt64, romSize: UInt64,
        tdHob: GPARange = defaultTDHob
    ) throws(FirmwareTablesError) -> [UInt8] {
        let rom = GPARange(start: romBase, end: romBase &+ romSize)
        guard romBase % 4096 == 0, romSize % 4096 == 0, romSize >= UInt64(areaOffsetFromEnd),
            romBase.addingReportingOverflow(romSize) == (FirmwareImage.fourGiB, false)
        else { throw .romGeometry(base: romBase, size: romSize) }

        var zeroRanges: [GPARange] = []
        var unmeasuredROM: [GPARange] = []
        for entry in plan.ranges {
            if entry.range.overlaps(tdHob) { throw .hobOverlapsPlan(hob: tdHob, entry) }
            if let page = LaunchPages.all.first(where: { entry.range.overlaps($0.range) }) {
                throw .launchPageOverlapsPlan(page: page.name, area: page.range, entry)
            }
            guard entry.kind != .shared, entry.state == .private else { continue }
            if rom.contains(entry.range) {
                if entry.kind == .unmeasured { unmeasuredROM.append(entry.range) }
                continue
            }
            guard entry.range.end <= FirmwareImage.fourGiB else { throw .rangeAboveFourGiB(entry) }
            guard entry.kind == .zero else { throw .ramRangeWithImageBytes(entry) }
            zeroRanges.append(entry.range)
        }

        let sev = sevMetadata(zeroRanges: zeroRanges)
        let tdxSections =
            romSections(rom: rom, unmeasured: unmeasuredROM)
            + zeroRanges.map {
                TDXSection(
                    dataOffset: 0, rawSize: 0, memoryAddress: $0.start, memorySize: $0.size,
                    type: .tempMem, attributes: [])
            }
            + [
                TDXSection(
                    dataOffset: 0, rawSize: 0, memoryAddress: tdHob.start, memorySize: tdHob.size,
                    type: .tdHob, attributes: [])
            ]
        let tdx = tdxMetadata(tdxSections)

        let tdxGUIDOffset = (sev.count + 15) / 16 * 16
        let tdxDescriptorOffset = tdxGUIDOffset + 16
        // The table has a fixed size (three 4-byte entries and the footer); check the total
        // before computing offsets from it.
        let tableSize = 3 * (4 + FooterTable.entryHeaderSize) + (8 + FooterTable.entryHeaderSize) + FooterTable.entryHeaderSize
        let used = tdxDescriptorOffset + tdx.count + tableSize
        guard used <= areaSize else { throw .tablesTooLarge(bytes: used, available: areaSize) }
        let areaStart = Int(romSize) - areaOffsetFromEnd // file offset of the area
        // Footer entries hold offsets from the end of the ROM to the structure.
        let sevFromEnd = UInt32(Int(romSize) - areaStart)
        let tdxFromEnd = UInt32(Int(romSize) - (areaStart + tdxDescriptorOffset))
        let apEntry = UInt32(truncatingIfNeeded: FirmwareImage.fourGiB - UInt64(FooterTable.bytesAfterTable))
        let table = guidTable([
            (KnownFirmwareGUID.tdxMetadataOffset, le32(tdxFromEnd)),
            (KnownFirmwareGUID.sevMetadataOffset, le32(sevFromEnd)),
            (
                KnownFirmwareGUID.sevHashTableBlock,
                le32(UInt32(LaunchPages.kernelHashes.start)) + le32(UInt32(LaunchPages.kernelHashes.size))
            ),
            (KnownFirmwareGUID.sevESResetBlock, le32(apEntry)),
        ])

        precondition(table.count == tableSize, "footer table size is fixed by its four entries")
        var area = [UInt8](repeating: 0, count: areaSize)
        area.replaceSubrange(0..<sev.count, with: sev)
        area.replaceSubrange(tdxGUIDOffset..<tdxDescriptorOffset, with: KnownFirmwareGUID.tdxMetadata.bytes)
        area.replaceSubrange(tdxDescriptorOffset..<(tdxDescriptorOffset + tdx.count), with: tdx)
        area.replaceSubrange((areaSize - table.count)..<areaSize, with: table)
        return area
    }

    /// Writes the area into `rom`, a firmware-layout ROM whose last byte is at 4 GiB − 1. The
    /// linker leaves the area zero; anything else there means the layout moved, and overwriting
    /// it would corrupt the image, so that is refused.
    public static func install(
        into rom: inout [UInt8], plan: PopulationPlan,
        tdHob: GPARange = defaultTDHob
    ) throws(FirmwareTablesError) {
        let size = UInt64(rom.count)
        let area = try build(plan: plan, romBase: FirmwareImage.fourGiB &- size, romSize: size, tdHob: tdHob)
        let start = rom.count - areaOffsetFromEnd
        if let used = rom[start..<(start + areaSize)].firstIndex(where: { $0 != 0 }) {
            throw .areaNotEmpty(fileOffset: used)
        }
        rom.replaceSubrange(start..<(start + areaSize), with: area)
    }

    private static func le32(_ value: UInt32) -> [UInt8] {
        var out: [UInt8] = []
        out.appendLE(value)
        return out
    }

    private static func sevMetadata(zeroRanges: [GPARange]) -> [UInt8] {
        let sections =
            zeroRanges.map { ($0, SEVSectionType.snpSecureMemory) }
            + [(LaunchPages.secrets, .snpSecrets), (LaunchPages.cpuid, .cpuid), (LaunchPages.kernelHashes, .kernelHashes)]
        var out = Array("ASEV".utf8)
        out.appendLE(UInt32(MetadataHeader.size + SEVMetadata.sectionSize * sections.count))
        out.appendLE(UInt32(1))
        out.appendLE(UInt32(sections.count))
        for (range, type) in sections {
            out.appendLE(UInt32(truncatingIfNeeded: range.start))
            out.appendLE(UInt32(truncatingIfNeeded: range.size))
            out.appendLE(type.rawValue)
        }
        return out
    }

    /// The ROM cut into BFV (measured) and CFV (unmeasured) pieces, in address order.
    private static func romSections(rom: GPARange, unmeasured: [GPARange]) -> [TDXSection] {
        func section(_ range: GPARange, _ type: TDXSectionType) -> TDXSection {
            TDXSection(
                dataOffset: UInt32(truncatingIfNeeded: range.start - rom.start),
                rawSize: UInt32(truncatingIfNeeded: range.size), memoryAddress: range.start,
                memorySize: range.size, type: type, attributes: type == .bfv ? .mrExtend : [])
        }
        var sections: [TDXSection] = []
        var cursor = rom.start
        for range in unmeasured.sorted(by: { $0.start < $1.start }) {
            if range.start > cursor { sections.append(section(GPARange(start: cursor, end: range.start), .bfv)) }
            sections.append(section(range, .cfv))
            cursor = range.end
        }
        if cursor < rom.end { sections.append(section(GPARange(start: cursor, end: rom.end), .bfv)) }
        return sections
    }

    private static func tdxMetadata(_ sections: [TDXSection]) -> [UInt8] {
        var out = Array("TDVF".utf8)
        out.appendLE(UInt32(MetadataHeader.size + TDXMetadata.sectionSize * sections.count))
        out.appendLE(UInt32(1))
        out.appendLE(UInt32(sections.count))
        for section in sections {
            out.appendLE(section.dataOffset)
            out.appendLE(section.rawSize)
            out.appendLE(section.memoryAddress)
            out.appendLE(section.memorySize)
            out.appendLE(section.type.rawValue)
            out.appendLE(section.attributes.rawValue)
        }
        return out
    }

    /// Lays the entries out in `entries` order (a reader walking back from the footer meets them
    /// in reverse), then the footer, whose length covers the whole table including itself.
    private static func guidTable(_ entries: [(FirmwareGUID, [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        for (guid, data) in entries {
            out += data
            out.appendLE(UInt16(data.count + FooterTable.entryHeaderSize))
            out += guid.bytes
        }
        out.appendLE(UInt16(out.count + FooterTable.entryHeaderSize))
        out += KnownFirmwareGUID.footer.bytes
        return out
    }
}
