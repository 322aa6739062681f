import Payload

/// A deliberate defect in the launch pages, for the conformance suite's negative twins.
public enum LaunchFault: Sendable, Equatable {
    /// Flip EBX of the CPUID page's entry for this leaf (subleaf 0), leaving the vCPU's CPUID as is.
    case cpuidEntryCorrupted(leaf: UInt32)
    /// Add a TD HOB resource descriptor that claims the first 64 KiB of the ROM as RAM.
    case tdHobResourceOverROM

    func apply(to table: inout [UInt8]) {
        switch self {
        case .cpuidEntryCorrupted(let leaf):
            let count = Int(table.readLE(UInt32.self, at: 0) ?? 0)
            for index in 0..<min(count, SNPCPUIDPage.countMax) {
                let at = SNPCPUIDPage.headerSize + index * SNPCPUIDPage.entrySize
                guard table.readLE(UInt32.self, at: at) == leaf, table.readLE(UInt32.self, at: at + 4) == 0 else { continue }
                for byte in 28..<32 { table[at + byte] ^= 0xFF }
                return
            }
        case .tdHobResourceOverROM:
            break
        }
    }
}
