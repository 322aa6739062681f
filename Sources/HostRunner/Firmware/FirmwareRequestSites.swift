import GuestPhysical
import Payload

/// Where a firmware volume issues requests. Real firmware carries no symbols and more request
/// instructions than four debug registers (docs/firmware.md), so they are served where the
/// guest executes them, by what this host's KVM does with each (`RequestInstructionCheck`,
/// run once per firmware run and shown by `enlighten probe`):
/// - an instruction that ends KVM_RUN with an emulation failure at itself (on kvm_pvm:
///   PVALIDATE, RMPADJUST, TDCALL) is served there, at any address
///   (`VCPULoop.serveAtEmulationFailure`);
/// - one that raises an exception in the guest instead (VMGEXIT, #UD) needs a hardware
///   breakpoint: every occurrence of its bytes in the flash, which is where SEC runs (this
///   OVMF has four VMGEXIT there). A byte match inside other code or data is harmless, since
///   an instruction breakpoint fires only at an instruction's first byte, and a site's bytes
///   are checked again when it fires (`RequestSiteCheck`). More than four such sites is
///   refused, naming them: the next mechanism (a breakpoint on the guest's #UD handler) is
///   not built.
enum FirmwareRequestSites {
    /// Every offset of the flash whose bytes are a request instruction.
    static func scan(_ image: Image) -> [UInt64: RequestInstruction] {
        var sites: [UInt64: RequestInstruction] = [:]
        for segment in image.segments {
            let bytes = segment.bytes
            guard bytes.count >= RequestInstruction.longest else { continue }
            for offset in 0...(bytes.count - RequestInstruction.longest) where bytes[offset] == 0x0F || bytes[offset + 1] == 0x0F {
                // SAFETY: the slice is the array's own storage, read only inside the closure.
                let found = bytes[offset..<offset + RequestInstruction.longest].withUnsafeBytes { RequestInstruction(bytes: $0) }
                if let found { sites[segment.address + UInt64(offset)] = found }
            }
        }
        return sites
    }

    /// Whether the instruction reaches the runner only through a breakpoint on this host:
    /// everything but what the check saw end KVM_RUN at itself.
    static func needsBreakpoint(_ instruction: RequestInstruction, on host: [RequestInstruction: RequestInstructionCheck.Outcome]) -> Bool {
        host[instruction] != .exitsAtInstruction
    }
}
