import GuestPhysical

/// TDVF section types (TDVF design guide; QEMU include/hw/i386/tdvf.h; td-shim adds 4...7).
public enum TDXSectionType: Equatable, Sendable, CustomStringConvertible {
    case bfv, cfv, tdHob, tempMem, permMem, payload, payloadParam, tdInfo
    case unknown(UInt32)

    public init(rawValue: UInt32) {
        switch rawValue {
        case 0: self = .bfv
        case 1: self = .cfv
        case 2: self = .tdHob
        case 3: self = .tempMem
        case 4: self = .permMem
        case 5: self = .payload
        case 6: self = .payloadParam
        case 7: self = .tdInfo
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: UInt32 {
        switch self {
        case .bfv: return 0
        case .cfv: return 1
        case .tdHob: return 2
        case .tempMem: return 3
        case .permMem: return 4
        case .payload: return 5
        case .payloadParam: return 6
        case .tdInfo: return 7
        case .unknown(let value): return value
        }
    }

    public var description: String {
        switch self {
        case .bfv: return "BFV"
        case .cfv: return "CFV"
        case .tdHob: return "TD_HOB"
        case .tempMem: return "TEMP_MEM"
        case .permMem: return "PERM_MEM"
        case .payload: return "PAYLOAD"
        case .payloadParam: return "PAYLOAD_PARAM"
        case .tdInfo: return "TD_INFO"
        case .unknown(let value): return "UNKNOWN(\(value))"
        }
    }

    /// Whether the VMM copies this section's bytes from the image (BFV/CFV/PAYLOAD/TD_INFO) —
    /// QEMU refuses BFV/CFV without data and TD_HOB/TEMP_MEM with data.
    var carriesImageData: Bool? {
        switch self {
        case .bfv, .cfv: return true
        case .tdHob, .tempMem: return false
        default: return nil
        }
    }
}

/// Section attributes (TDVF design guide).
public struct TDXSectionAttributes: OptionSet, Equatable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Pages are extended into MRTD with TDH.MR.EXTEND after TDH.MEM.PAGE.ADD.
    public static let mrExtend = TDXSectionAttributes(rawValue: 1 << 0)
    /// Pages are accepted later by the guest (TDH.MEM.PAGE.AUG), not added before launch.
    public static let pageAug = TDXSectionAttributes(rawValue: 1 << 1)

    public var description: String {
        var names: [String] = []
        if contains(.mrExtend) { names.append("MR.EXTEND") }
        if contains(.pageAug) { names.append("PAGE.AUG") }
        let rest = rawValue & ~(TDXSectionAttributes.mrExtend.rawValue | TDXSectionAttributes.pageAug.rawValue)
        if rest != 0 { names.append(hex(rest)) }
        return names.isEmpty ? "-" : names.joined(separator: "|")
    }
}

/// One 32-byte TDVF section: u32 DataOffset, u32 RawDataSize, u64 MemoryAddress,
/// u64 MemoryDataSize, u32 Type, u32 Attributes.
public struct TDXSection: Equatable, Sendable {
    public let dataOffset: UInt32
    public let rawSize: UInt32
    public let memoryAddress: UInt64
    public let memorySize: UInt64
    public let type: TDXSectionType
    public let attributes: TDXSectionAttributes

    public init(
        dataOffset: UInt32, rawSize: UInt32, memoryAddress: UInt64, memorySize: UInt64,
        type: TDXSectionType, attributes: TDXSectionAttributes
    ) {
        self.dataOffset = dataOffset
        self.rawSize = rawSize
        self.memoryAddress = memoryAddress
        self.memorySize = memorySize
        self.type = type
        self.attributes = attributes
    }
}

/// The "TDVF" descriptor: u8[4] signature, u32 length (descriptor + sections), u32 version (1),
/// u32 section count, then the sections. The footer entry gives its offset from the image end.
public struct TDXMetadata: Equatable, Sendable {
    public static let sectionSize = 32
    /// Guest-physical addresses are at most 52 bits wide on x86.
    public static let addressLimit: UInt64 = 1 << 52
    /// The most one section may ask a VMM to add before launch. Real TDVF sections are a few
    /// MiB; the cap keeps a hostile table from making MRTD computation run for hours.
    public static let prelaunchSectionLimit: UInt64 = 1 << 30

    /// The most all sections added before launch may ask for together: 4 GiB, 2^20 pages. A
    /// TDVF's pre-launch sections are its volumes (BFV/CFV, image bytes: a volume is at most
    /// 4 GiB) and a few MiB of TEMP_MEM and TD_HOB its reset-vector code uses; the bound keeps
    /// MRTD at most 2^20 TDH.MEM.PAGE.ADD records. The sections extended into MRTD together
    /// may cover at most the image's size: MR.EXTEND measures the volume's own bytes (OVMF and
    /// td-shim extend only BFV and payload sections, which carry image data; td-shim's
    /// `validate_sections` refuses MR.EXTEND on TEMP_MEM), so a volume of S bytes makes MRTD
    /// hash at most 1.5 S bytes of extends.
    public static let prelaunchTotalLimit: UInt64 = 1 << 32

    /// File offset of the "TDVF" signature.
    public let offset: Int
    public let sections: [TDXSection]

    public static func parse(_ image: FirmwareContents, footer: FooterTable) throws(FirmwareError) -> TDXMetadata? {
        guard
            let header = try MetadataHeader.read(
                image, footer: footer, guid: KnownFirmwareGUID.tdxMetadataOffset,
                signature: "TDVF", structure: .tdxMetadata)
        else { return nil }
        // QEMU insists on an exact length; so do we, since a mismatch means a miscounted table.
        let table = try header.sectionBytes(image, sectionSize: sectionSize, exact: true, structure: .tdxMetadata)
        var sections: [TDXSection] = []
        sections.reserveCapacity(Int(header.count))
        for at in stride(from: 0, to: table.count, by: sectionSize) {
            guard let dataOffset = table.readLE(UInt32.self, at: at),
                let rawSize = table.readLE(UInt32.self, at: at + 4),
                let address = table.readLE(UInt64.self, at: at + 8),
                let memorySize = table.readLE(UInt64.self, at: at + 16),
                let type = table.readLE(UInt32.self, at: at + 24),
                let attributes = table.readLE(UInt32.self, at: at + 28)
            else { break } // unreachable: the table holds whole sections
            sections.append(
                TDXSection(
                    dataOffset: dataOffset, rawSize: rawSize, memoryAddress: address,
                    memorySize: memorySize, type: TDXSectionType(rawValue: type),
                    attributes: TDXSectionAttributes(rawValue: attributes)))
        }
        return TDXMetadata(offset: header.start, sections: sections)
    }

    /// Per-section problems (the checks QEMU's TDVF loader makes, plus data inside the file),
    /// then the checks on the sections added before launch together: the first two that
    /// overlap (KVM_TDX_INIT_MEM_REGION adds each page through guest_memfd's
    /// `kvm_gmem_populate`, which refuses a page already added, -EEXIST), the section at which
    /// their total passes `prelaunchTotalLimit` and the one at which the extended ones pass the
    /// image's size. Each one stops MRTD from being computed.
    public func sectionProblems(fileSize: Int) -> [FirmwareError] {
        var problems: [FirmwareError] = []
        var prelaunch: [(index: Int, range: GPARange)] = []
        var total: UInt128 = 0
        var totalPassed = false
        var extended: UInt128 = 0
        var extendedPassed = false
        for (index, section) in sections.enumerated() {
            if case .unknown(let raw) = section.type {
                problems.append(.unknownTDXSectionType(index: index, type: raw))
            }
            if section.memoryAddress % 4096 != 0 || section.memorySize % 4096 != 0 {
                problems.append(
                    .tdxSectionMisaligned(
                        index: index, memoryAddress: section.memoryAddress,
                        memorySize: section.memorySize))
            }
            // QEMU issues KVM_TDX_INIT_MEM_REGION for every section (target/i386/kvm/tdx.c),
            // and KVM refuses nr_pages 0 (arch/x86/kvm/vmx/tdx.c `tdx_vcpu_init_mem_region`).
            // td-shim's TD_INFO has size 0 by definition, but it also carries data larger than
            // its memory, which the raw-size check below refuses as QEMU's TDVF loader does.
            if section.memorySize == 0 {
                problems.append(.tdxSectionEmpty(index: index, type: section.type.description))
            }
            let (end, overflow) = section.memoryAddress.addingReportingOverflow(section.memorySize)
            if overflow || end > Self.addressLimit {
                problems.append(
                    .tdxSectionOutsideAddressSpace(
                        index: index, memoryAddress: section.memoryAddress,
                        memorySize: section.memorySize))
            }
            if !section.attributes.contains(.pageAug) {
                if section.memorySize > Self.prelaunchSectionLimit {
                    problems.append(
                        .tdxSectionTooLarge(
                            index: index, memorySize: section.memorySize,
                            limit: Self.prelaunchSectionLimit))
                }
                prelaunch.append((index, section.range))
                total += UInt128(section.memorySize)
                if !totalPassed, total > UInt128(Self.prelaunchTotalLimit) {
                    totalPassed = true
                    problems.append(
                        .tdxPrelaunchTotalTooLarge(
                            index: index, total: UInt64(clamping: total),
                            limit: Self.prelaunchTotalLimit))
                }
                if section.attributes.contains(.mrExtend) {
                    extended += UInt128(section.memorySize)
                    if !extendedPassed, extended > UInt128(fileSize) {
                        extendedPassed = true
                        problems.append(
                            .tdxExtendedTotalTooLarge(
                                index: index, total: UInt64(clamping: extended),
                                imageSize: fileSize))
                    }
                }
            }
            if UInt64(section.rawSize) > section.memorySize {
                problems.append(
                    .tdxSectionRawLargerThanMemory(
                        index: index, rawSize: section.rawSize,
                        memorySize: section.memorySize))
            }
            if let carries = section.type.carriesImageData, carries != (section.rawSize != 0) {
                problems.append(
                    .tdxSectionRawDataMismatch(
                        index: index, type: section.type.description,
                        rawSize: section.rawSize))
            }
            if UInt64(section.dataOffset) + UInt64(section.rawSize) > UInt64(fileSize) {
                problems.append(
                    .tdxSectionDataPastFile(
                        index: index, dataOffset: section.dataOffset,
                        rawSize: section.rawSize, fileSize: fileSize))
            }
        }
        if let (first, second) = FirstOverlap.find(in: prelaunch) {
            let (a, b) = (sections[first], sections[second])
            problems.append(
                .tdxSectionsOverlap(
                    index: second, memoryAddress: b.memoryAddress, memorySize: b.memorySize,
                    other: first, otherAddress: a.memoryAddress, otherSize: a.memorySize))
        }
        return problems
    }
}

extension TDXSection {
    /// The guest-physical range the section names, exact past 2^64.
    public var range: GPARange { GPARange(start: memoryAddress, exactByteCount: memorySize) }
}
