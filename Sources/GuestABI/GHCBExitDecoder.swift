/// Validates a GHCB the way KVM's `sev_handle_vmgexit` → `sev_es_validate_vmgexit` →
/// `setup_vmgexit_scratch` do (arch/x86/kvm/svm/sev.c), for the events this host
/// serves.
public enum GHCBExitDecoder {
    public static let pageStateChangeExitCode: UInt64 = 0x8000_0010
    public static let vmmcallExitCode: UInt64 = 0x81

    /// Checks, in KVM's order:
    /// 1. `ghcb_usage != 0` → INVALID_USAGE.
    /// 2. SW_EXITCODE, SW_EXITINFO1 or SW_EXITINFO2 not marked valid → MISSING_INPUT.
    /// 3. PSC without a valid SW_SCRATCH, VMMCALL without valid RAX and CPL → MISSING_INPUT.
    /// 4. PSC scratch: zero, or not inside the GHCB shared buffer (0x800..<0xFF0)
    ///    together with the 8-byte header → INVALID_SCRATCH_AREA.
    ///
    /// Step 4 is stricter than KVM in two documented ways: KVM would also accept a
    /// scratch area in other guest memory (copying it in), which this pure decoder
    /// cannot reach, and the KVM snapshot checks a zero length where later kernels
    /// check the header size; we check the header size. OVMF, Linux and coconut-svsm
    /// all place the buffer in the shared buffer.
    ///
    /// KVM fails KVM_RUN for an unregistered GHCB GPA on SNP before any of this; the
    /// caller knows the registered GPA and decides that itself.
    public static func decode(_ page: GHCBPage, ghcbGPA: UInt64) throws(GHCBMalformedInput) -> GHCBExitRequest {
        guard page.usage == 0 else { throw .invalidUsage }
        guard page.isValid(.swExitCode), page.isValid(.swExitInfo1), page.isValid(.swExitInfo2) else {
            throw .missingInput
        }
        let exitCode = page[.swExitCode]
        switch exitCode {
        case pageStateChangeExitCode:
            guard page.isValid(.swScratch) else { throw .missingInput }
            return .pageStateChange(descriptorOffset: try scratchOffset(page[.swScratch], ghcbGPA: ghcbGPA))
        case vmmcallExitCode:
            guard page.isValid(.rax), page.isValid(.cpl) else { throw .missingInput }
            func valid(_ field: GHCBField) -> UInt64 { page.isValid(field) ? page[field] : 0 }
            return .hypercall(
                nr: page[.rax], a0: valid(.rbx), a1: valid(.rcx), a2: valid(.rdx), a3: valid(.rsi),
                cpl: UInt8(truncatingIfNeeded: page[.cpl]))
        default:
            return .unhandled(exitCode: exitCode)
        }
    }

    private static func scratchOffset(_ scratch: UInt64, ghcbGPA: UInt64) throws(GHCBMalformedInput) -> Int {
        let pageMask = ~UInt64(GHCBLayout.pageSize - 1)
        guard scratch != 0, scratch & pageMask == ghcbGPA & pageMask else { throw .invalidScratchArea }
        let offset = Int(scratch & ~pageMask)
        guard offset >= GHCBLayout.sharedBufferOffset,
            offset + PageStateChangeDescriptor.headerSize <= GHCBLayout.sharedBufferEnd
        else { throw .invalidScratchArea }
        return offset
    }
}
