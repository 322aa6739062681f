import GuestPhysical
import Payload

/// Where a firmware volume issues requests. Real firmware carries no symbols and more request
/// instructions than four debug registers (docs/firmware.md), so they are served where the
/// guest executes them:
/// - PVALIDATE and RMPADJUST end in an emulation failure at the instruction on a host whose
///   KVM emulates every guest instruction (kvm_pvm, docs/host-findings.md), which the loop
///   serves at any address (`VCPULoop.serveAtEmulationFailure`);
/// - VMGEXIT (and vmcall/vmmcall) raise #UD in the guest there, and TDCALL does not exit
///   reliably (it did in our images, not in OVMF's SEC), so they need a hardware breakpoint:
///   every occurrence of their bytes in the flash, which is where SEC runs (this OVMF has 4
///   VMGEXIT and 4 TDCALL there). TDCALL is still served at an emulation failure too. A byte match inside other code or data is harmless, since an instruction
///   breakpoint fires only at an instruction's first byte, and a site's bytes are checked
///   again when it fires (`RequestSiteCheck`).
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

    /// Whether the instruction reaches the runner only through a breakpoint on this kind of
    /// host (the others exit on their own as emulation failures).
    static func needsBreakpoint(_ instruction: RequestInstruction) -> Bool {
        switch instruction {
        case .vmgexit, .vmcall, .vmmcall, .tdcall: true
        case .pvalidate, .rmpadjust: false
        }
    }
}
