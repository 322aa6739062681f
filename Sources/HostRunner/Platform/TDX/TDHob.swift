import GuestPhysical

/// The TD HOB a TDX VMM writes for TDVF at the TD_HOB section (QEMU hw/i386/tdvf-hob.c, the
/// PI specification's HOB formats, edk2 MdePkg/Include/Pi/PiHob.h): a PHIT, one resource
/// descriptor per RAM range in address order — SYSTEM_MEMORY for the ranges added before launch
/// (TDH.MEM.PAGE.ADD: the TD_HOB and TEMP_MEM sections), MEMORY_UNACCEPTED for the rest, both
/// with attributes PRESENT | INITIALIZED | TESTED — and the end-of-list HOB.
public enum TDHob {
    public static let handoffType: UInt16 = 0x0001
    public static let resourceDescriptorType: UInt16 = 0x0003
    public static let endOfListType: UInt16 = 0xFFFF
    /// EFI_HOB_HANDOFF_TABLE_VERSION.
    public static let handoffVersion: UInt32 = 0x0009
    public static let handoffSize = 56
    public static let resourceDescriptorSize = 48
    public static let headerSize = 8
    public static let systemMemory: UInt32 = 0x0
    public static let memoryUnaccepted: UInt32 = 0x7
    /// EFI_RESOURCE_ATTRIBUTE_PRESENT | INITIALIZED | TESTED (QEMU's TDVF_PRIVATE/UNACCEPTED).
    public static let attributes: UInt32 = 0x7

    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case doesNotFit(needed: Int, available: UInt64)

        public var description: String {
            switch self {
            case .doesNotFit(let needed, let available):
                return "the TD HOB needs \(needed) bytes but the TD_HOB section holds \(available)"
            }
        }
    }

    /// One resource the HOB describes.
    public struct Resource: Equatable, Sendable {
        public let range: GPARange
        /// `systemMemory` or `memoryUnaccepted`.
        public let type: UInt32

        public init(range: GPARange, type: UInt32) {
            self.range = range
            self.type = type
        }
    }

    /// RAM cut into added and unaccepted resources, in address order.
    public static func resources(ram: GPARange, added: [GPARange]) -> [Resource] {
        var out: [Resource] = []
        var cursor = ram.start
        for range in added.filter({ ram.contains($0) }).sorted(by: { $0.start < $1.start }) where range.start >= cursor {
            if range.start > cursor { out.append(Resource(range: GPARange(start: cursor, end: range.start), type: memoryUnaccepted)) }
            out.append(Resource(range: range, type: systemMemory))
            cursor = range.end
        }
        if cursor < ram.end { out.append(Resource(range: GPARange(start: cursor, end: ram.end), type: memoryUnaccepted)) }
        return out
    }

    /// The HOB bytes for a HOB at `base` with room for `capacity` bytes.
    public static func bytes(base: UInt64, capacity: UInt64, resources: [Resource]) throws(Failure) -> [UInt8] {
        let size = handoffSize + resources.count * resourceDescriptorSize + headerSize
        guard UInt64(size) <= capacity else { throw .doesNotFit(needed: size, available: capacity) }
        var out: [UInt8] = []
        func header(_ type: UInt16, _ length: Int) {
            out.appendLE(type)
            out.appendLE(UInt16(length))
            out.appendLE(UInt32(0))
        }
        header(handoffType, handoffSize)
        out.appendLE(handoffVersion)
        out.appendLE(UInt32(0)) // BootMode: BOOT_WITH_FULL_CONFIGURATION
        for _ in 0..<4 { out.appendLE(UInt64(0)) } // EfiMemoryTop/Bottom, EfiFreeMemoryTop/Bottom: 0, as QEMU
        out.appendLE(base + UInt64(size)) // EfiEndOfHobList: just past the end-of-list HOB
        for resource in resources {
            header(resourceDescriptorType, resourceDescriptorSize)
            out += [UInt8](repeating: 0, count: 16) // Owner: the zero GUID
            out.appendLE(resource.type)
            out.appendLE(attributes)
            out.appendLE(resource.range.start)
            out.appendLE(resource.range.size)
        }
        header(endOfListType, headerSize)
        return out
    }
}
