import KVM
import Payload

/// The SNP CPUID page as a VMM fills it before SNP_LAUNCH_UPDATE (Linux
/// arch/x86/include/asm/sev.h `struct snp_cpuid_table`, SEV-SNP firmware ABI "CPUID
/// Reporting"): u32 count, u32 reserved, u64 reserved, then up to 64 entries of u32 EAX_IN,
/// u32 ECX_IN, u64 XCR0_IN, u64 XSS_IN, u32 EAX, EBX, ECX, EDX, u64 reserved (48 bytes each).
/// QEMU copies exactly the entries it gives the vCPU with KVM_SET_CPUID2 (target/i386/sev.c
/// `sev_snp_cpuid_info_fill`); so do we, from the same `CPUIDTable` list, which
/// `SNPCPUIDModel` keeps within `countMax` (docs/cpuid.md).
public enum SNPCPUIDPage {
    public static let countMax = 64
    public static let headerSize = 16
    public static let entrySize = 48
    public static let pageSize = 4096

    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case tooManyEntries(Int)

        public var description: String {
            switch self {
            case .tooManyEntries(let count):
                return "the vCPU's CPUID has \(count) entries; the SNP CPUID page holds at most \(SNPCPUIDPage.countMax)"
            }
        }
    }

    /// The page for `entries`. Leaf 0xD subleaves 0 and 1, whose EBX depends on XCR0, get
    /// EBX 0x240 (the legacy area and header) with XCR0_IN = 1 and XSS_IN = 0, as QEMU's
    /// `sev_snp_cpuid_info_fill` writes them; guests compute EBX for their own XCR0.
    public static func page(_ entries: [CPUIDEntry]) throws(Failure) -> [UInt8] {
        guard entries.count <= countMax else { throw .tooManyEntries(entries.count) }
        var page = [UInt8](repeating: 0, count: pageSize)
        func put<T: FixedWidthInteger & UnsignedInteger>(_ value: T, at offset: Int) { page.writeLE(value, at: offset) }
        put(UInt32(entries.count), at: 0)
        for (index, entry) in entries.enumerated() {
            let at = headerSize + index * entrySize
            put(entry.function, at: at)
            put(entry.index, at: at + 4)
            let xsaveSize = entry.function == 0xD && entry.index <= 1
            put(UInt64(xsaveSize ? 1 : 0), at: at + 8)
            put(entry.eax, at: at + 24)
            put(xsaveSize ? UInt32(0x240) : entry.ebx, at: at + 28)
            put(entry.ecx, at: at + 32)
            put(entry.edx, at: at + 36)
        }
        return page
    }
}
